#!/usr/bin/env bash
# Builds every fuzz target and runs each one for its share of SECONDS.
#
#   fuzz/run.sh [SECONDS]      # default 600, split evenly over the targets
#   TARGETS="model" fuzz/run.sh 120
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). libFuzzer needs
# nightly flags; on a stable toolchain RUSTC_BOOTSTRAP=1 allows them. Targets
# run one after the other, each in a loop: libFuzzer stops at a crash, so the
# loop starts it again on the grown corpus until the target's time is spent.
#
# Written per target: fuzz/corpus/<target>/ (the grown corpus), fuzz/artifacts/
# <target>/ (crash-*, oom-*, timeout-* reproducers) and fuzz/logs/<target>.log.
# The seed corpus is fuzz/seeds/<target>/; the ingest targets also start from
# tests/data/ingest and tests/data/hostile.
set -euo pipefail

total_secs="${1:-600}"
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$fuzz_dir")"
targets=(${TARGETS:-ingest fleet model project})

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/twinlab-fuzz-target}"

cd "$fuzz_dir"
for target in "${targets[@]}"; do
    if ! cargo fuzz build --sanitizer none "$target" >"/tmp/twinlab-fuzz-build.log" 2>&1; then
        cat /tmp/twinlab-fuzz-build.log >&2
        echo "building fuzz target $target failed" >&2
        exit 1
    fi
done
bin_dir="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"

per_target=$((total_secs / ${#targets[@]}))
if ((per_target < 1)); then
    per_target=1
fi

seeds_for() {
    case "$1" in
        ingest) echo "$fuzz_dir/seeds/ingest $root/tests/data/ingest $root/tests/data/hostile" ;;
        fleet) echo "$fuzz_dir/seeds/fleet $root/tests/data/hostile" ;;
        *) echo "$fuzz_dir/seeds/$1" ;;
    esac
}

dict_for() {
    case "$1" in
        model | project) echo "$fuzz_dir/dict/model.dict" ;;
        *) echo "$fuzz_dir/dict/csv.dict" ;;
    esac
}

count_files() {
    find "$1" -maxdepth 1 -type f -name "${2:-*}" 2>/dev/null | wc -l
}

mkdir -p "$fuzz_dir/logs"
summary=()
all_execs=0
all_secs=0
all_crashes=0
for target in "${targets[@]}"; do
    corpus="$fuzz_dir/corpus/$target"
    artifacts="$fuzz_dir/artifacts/$target"
    log="$fuzz_dir/logs/$target.log"
    mkdir -p "$corpus" "$artifacts"
    : >"$log"

    crashes_before=$(($(count_files "$artifacts" 'crash-*') + $(count_files "$artifacts" 'oom-*') \
        + $(count_files "$artifacts" 'timeout-*')))
    execs=0
    runs=0
    start=$(date +%s)
    while :; do
        left=$((per_target - ($(date +%s) - start)))
        ((left > 0)) || break
        runs=$((runs + 1))
        # shellcheck disable=SC2046 # the seed list is meant to split
        "$bin_dir/$target" "$corpus" $(seeds_for "$target") \
            -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
            -dict="$(dict_for "$target")" -artifact_prefix="$artifacts/" \
            -print_final_stats=1 >>"$log" 2>&1 || true
        # The last stats line of this run: `stat::number_of_executed_units: N`.
        run_execs=$(grep 'stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')
        # A crashed run prints no final stats; take its last progress line.
        if [[ -z "$run_execs" || $(grep -c 'stat::number_of_executed_units' "$log") -lt $runs ]]; then
            run_execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
        fi
        execs=$((execs + ${run_execs:-0}))
    done
    secs=$(($(date +%s) - start))
    crashes_after=$(($(count_files "$artifacts" 'crash-*') + $(count_files "$artifacts" 'oom-*') \
        + $(count_files "$artifacts" 'timeout-*')))
    crashes=$((crashes_after - crashes_before))
    # The corpus libFuzzer keeps (its last `corp: N/size` line); the folder
    # also holds inputs that later ones replaced.
    corpus_size=$(grep -oE 'corp: [0-9]+' "$log" | tail -n 1 | awk '{print $2}' || true)
    corpus_size="${corpus_size:-$(count_files "$corpus")}"
    coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
    rate=$((execs / (secs > 0 ? secs : 1)))
    summary+=("$(printf '%-8s %5ss %10s execs %7s exec/s  corpus %5s  %-20s crashes %s' \
        "$target" "$secs" "$execs" "$rate" "$corpus_size" "${coverage:-cov: ?}" "$crashes")")
    all_execs=$((all_execs + execs))
    all_secs=$((all_secs + secs))
    all_crashes=$((all_crashes + crashes))
done

echo
printf '%s\n' "${summary[@]}"
printf 'total    %5ss %10s execs %7s exec/s  crashes %s  (reproducers: fuzz/artifacts/)\n' \
    "$all_secs" "$all_execs" "$((all_execs / (all_secs > 0 ? all_secs : 1)))" "$all_crashes"

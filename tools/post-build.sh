#!/bin/sh
# Trunk's post-build hook (Trunk.toml), run in the repository root with
# Trunk's staging directory in $TRUNK_STAGING_DIR.
#
# 1. Builds twinlab's WebGPU module next to the page's. The page and the
#    twin's worker run the module Trunk builds, without WebGPU code
#    (features `page`). The training worker loads this one (features
#    `page,gpu`: burn's wgpu backend) when the browser has a WebGPU
#    adapter, so the page itself never downloads the GPU code. Same
#    profile as Trunk's build and the same pinned wasm-bindgen (see
#    Trunk.toml and .ci/install).
# 2. In release builds, drops the function names from the page's module
#    (about 190 KB of its gzip size; panics still name their source line).
#    TWINLAB_KEEP_NAMES=1 keeps them, for profiling. The WebGPU module
#    keeps its names.
set -eu

profile=debug
flag=""
if [ "${TRUNK_PROFILE:-debug}" = release ]; then
  profile=release
  flag=--release
fi
target_dir=${CARGO_TARGET_DIR:-target}

cargo build $flag --locked --target wasm32-unknown-unknown --lib \
  --no-default-features --features page,gpu
wasm-bindgen --target web --no-typescript \
  --out-dir "$TRUNK_STAGING_DIR" --out-name twinlab_gpu \
  "$target_dir/wasm32-unknown-unknown/$profile/twinlab.wasm"

if [ "$profile" = release ] && [ "${TWINLAB_KEEP_NAMES:-0}" != 1 ]; then
  if command -v wasm-opt >/dev/null 2>&1; then
    page="$TRUNK_STAGING_DIR/twinlab_bg.wasm"
    # The features rustc's output uses, named: `--all-features` would let
    # wasm-opt write encodings browsers do not read yet.
    wasm-opt --strip-debug --enable-simd --enable-bulk-memory \
      --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
      --enable-reference-types --enable-multivalue \
      "$page" -o "$page.stripped"
    mv "$page.stripped" "$page"
  else
    echo "post-build: no wasm-opt on PATH (npm package binaryen); the page's module keeps its names" >&2
  fi
fi

#!/bin/sh
# Trunk's post-build hook (Trunk.toml): builds twinlab's WebGPU module next
# to the page's.
#
# The page and the twin's worker run the module Trunk builds, without
# WebGPU code (features `page`). The training worker loads this one
# (features `page,gpu`: burn's wgpu backend) when the browser has a WebGPU
# adapter, so the page itself never downloads the GPU code. Same profile as
# Trunk's build; the same pinned wasm-bindgen (see Trunk.toml and
# .ci/install).
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

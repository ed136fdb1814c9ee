#!/usr/bin/env bash
# Builds the CUDA kernels into one fatbin (sm_80 and sm_90 machine code plus compute_90 PTX for newer GPUs) at
# $1/native/herd_kernels.fatbin, which Maven packs into the application. Without nvcc the build goes on without
# the GPU path and says so in one line. NVCC may point at a specific compiler.
set -euo pipefail
out_dir="${1:?usage: build.sh OUTPUT_CLASSES_DIR}"
src_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
nvcc_bin="${NVCC:-$(command -v nvcc || true)}"
if [ -z "$nvcc_bin" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc_bin=/usr/local/cuda/bin/nvcc; fi
if [ -z "$nvcc_bin" ]; then
  echo "[herd] nvcc not found: CUDA kernels not built, the GPU path is unavailable in this build"
  exit 0
fi
target="$out_dir/native/herd_kernels.fatbin"
mkdir -p "$out_dir/native"
if [ -f "$target" ] && [ "$target" -nt "$src_dir/herd_kernels.cu" ] && [ "$target" -nt "$src_dir/build.sh" ]; then
  exit 0  # up to date
fi
"$nvcc_bin" -O3 -std=c++17 -fatbin \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90,code=compute_90 \
  -o "$target.tmp" "$src_dir/herd_kernels.cu"
mv "$target.tmp" "$target"
echo "[herd] CUDA kernels built: $target"

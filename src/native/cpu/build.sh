#!/usr/bin/env bash
# Builds the CPU kernels (herd_cpu.c) into $1/native/linux-x86_64/libherd_cpu.so, which Maven packs into the
# application. Without a C compiler, or off x86-64 Linux, the build goes on with the Vector API kernels only and says
# so in one line. CC may name a specific compiler.
set -euo pipefail
out_dir="${1:?usage: build.sh OUTPUT_CLASSES_DIR}"
src_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  echo "[herd] CPU kernels are x86-64 Linux only: this build uses the Vector API kernels alone"
  exit 0
fi
cc_bin="${CC:-$(command -v cc || command -v gcc || command -v clang || true)}"
if [ -z "$cc_bin" ]; then
  echo "[herd] no C compiler found: CPU kernels not built, this build uses the Vector API kernels alone"
  exit 0
fi
target="$out_dir/native/linux-x86_64/libherd_cpu.so"
mkdir -p "$(dirname "$target")"
if [ -f "$target" ] && [ "$target" -nt "$src_dir/herd_cpu.c" ] && [ "$target" -nt "$src_dir/build.sh" ]; then
  exit 0  # up to date
fi
"$cc_bin" -O2 -std=gnu11 -shared -fPIC -Wall -Wextra -Werror -o "$target.tmp" "$src_dir/herd_cpu.c" -lm
mv "$target.tmp" "$target"
echo "[herd] CPU kernels built: $target"

#!/usr/bin/env bash
# Runs every GPU check on a machine with an NVIDIA GPU and writes one JSON report (gpu-report.json).
# Expects the folder made by prepare-gpu-run.sh (this script lives in it) and needs no Java installed.
# Each group of checks runs in its own JVM so that a GPU fault in one cannot spoil the others' figures.
# Usage: run-gpu-checks.sh [REPORT_DIR]   (default: $OUT if set, else ./gpu-report)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
report_dir="${1:-${OUT:-$PWD/gpu-report}}"
mkdir -p "$report_dir"
log="$report_dir/gpu-checks.log"
{
  echo "== machine"; date -u; uname -a
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1 || true
  jre="$(mktemp -d)"
  tar -C "$jre" -xzf "$here/jre.tar.gz"
  java="$jre/jre/bin/java"
  cp_="$here/herd-engine.jar:$(ls "$here"/jackson-*.jar | tr '\n' ':')"
  export HERD_COMMIT="$(cat "$here/COMMIT" 2>/dev/null || echo unknown)"
  run() { # NAME SECONDS SECTIONS [EXTRA ARGS]
    local name="$1" seconds="$2" sections="$3"; shift 3
    echo "== GpuChecks $name ($sections) $*"
    timeout "$seconds" "$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m \
      -XX:+UseParallelGC -cp "$cp_" io.herd.model.gpu.GpuChecks --fixtures "$here/fixtures" \
      --out "$report_dir/part-$name.json" --sections "$sections" "$@" ${HERD_GPU_CHECK_ARGS:-}
    local rc=$?
    echo "== GpuChecks $name exit code $rc"
    return $rc
  }
  # 1. the gating fixture fidelity with the verified kernels only (nothing new launched, so nothing can spoil it)
  run fidelity-verified 45 fidelity --verified-kernels-only
  # 2. every kernel against host references (newer kernels reported, not gating), fidelity with checked kernels
  run correctness 75 kernels,fidelity
  # 2b. the serving core (EngineCore + ModelRunner: real block tables, chunked prefill, prefix hits) on the GPU
  echo "== GpuServingCheck"
  timeout 120 "$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -XX:+UseParallelGC \
    -cp "$cp_" io.herd.runner.GpuServingCheck "$here/fixtures" "$report_dir/serving.json"
  echo "== GpuServingCheck exit code $?"
  # 3. GEMM and GEMV throughput (row-per-warp and tiled int4)
  run throughput 60 gemm,bandwidth
  # 4. Scout decode with the kernels the load-time checks chose; if that run fails (a newer kernel faulting the
  #    context, say), once more with the verified kernels only so that the decode figures are never lost
  run scout 150 scout_decode || run scout-verified 60 scout_decode --verified-kernels-only
  python3 - "$report_dir" <<'PY'
import json, sys, os, glob
d = sys.argv[1]
merged = {}
for part in sorted(glob.glob(os.path.join(d, "part-*.json"))):
    with open(part) as f:
        data = json.load(f)
    for k, v in data.items():
        if k in ("started", "finished"):
            merged.setdefault(k + "_" + os.path.basename(part)[5:-5], v)
        else:
            merged.setdefault(k, v)
with open(os.path.join(d, "gpu-report.json"), "w") as f:
    json.dump(merged, f, indent=2)
print("merged", len(merged), "entries into gpu-report.json")
PY
} 2>&1 | tee "$log"

#!/usr/bin/env bash
# Builds everything a GPU machine without Java needs to run the GPU checks into one folder (default gpu-run/,
# ignored by git): a jlink'ed Java runtime (java.base, jdk.incubator.vector, jdk.unsupported; stripped), the
# Quarkus-free engine jar with the CUDA kernels, the Jackson jars, the shared fixtures and run-gpu-checks.sh.
# Usage: integration-tests/gpu/prepare-gpu-run.sh [OUTPUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/gpu-run}"
java_home="${JAVA_HOME:-$("$root/herd" java-home)}"
shared="${HERD_SHARED_DIR:-$root/../shared}"
m2="${HOME}/.m2/repository"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT

rm -rf "$out" && mkdir -p "$out"
# 1. engine classes: every package below the service layer (no Quarkus, Jakarta or Kafka imports there)
jackson_version=$(ls "$m2/com/fasterxml/jackson/core/jackson-databind" | grep -E '^2\.[0-9.]+$' | sort -V | tail -1)
jackson=()
for a in jackson-databind jackson-core jackson-annotations; do
  v=$(ls "$m2/com/fasterxml/jackson/core/$a" | grep -E '^2\.[0-9.]+$' | sort -V | tail -1)
  jackson+=("$m2/com/fasterxml/jackson/core/$a/$v/$a-$v.jar")
done
find "$root/src/main/java" -name '*.java' | grep -v -E '/io/herd/(app|http|messaging|serving|cli)/' > "$build/sources"
"$java_home/bin/javac" --release 25 -nowarn --add-modules jdk.incubator.vector \
  -cp "$(IFS=:; echo "${jackson[*]}")" -d "$build/classes" @"$build/sources" 2>&1 | grep -v -E '^warning|incubat' || true
bash "$root/src/native/build.sh" "$build/classes"
[ -f "$build/classes/native/herd_kernels.fatbin" ] || { echo "no fatbin: nvcc is needed to prepare a GPU run" >&2; exit 1; }
"$java_home/bin/jar" --create --file "$out/herd-engine.jar" -C "$build/classes" .
cp "${jackson[@]}" "$out/"
# 2. Java runtime
"$java_home/bin/jlink" --add-modules java.base,jdk.incubator.vector,jdk.unsupported \
  --strip-debug --no-header-files --no-man-pages --output "$build/jre" 2>&1 | grep -v incubat || true
strip --strip-unneeded "$build/jre/lib/server/libjvm.so" 2>/dev/null || true
tar -C "$build" -czf "$out/jre.tar.gz" jre
# 3. fixtures and the run script
cp -r "$shared/fixtures" "$out/fixtures"
chmod -R u+w "$out/fixtures"
cp "$root/integration-tests/gpu/run-gpu-checks.sh" "$out/"
(cd "$root" && git rev-parse --short HEAD) > "$out/COMMIT" 2>/dev/null || echo unknown > "$out/COMMIT"
du -sh "$out"; ls -la "$out"

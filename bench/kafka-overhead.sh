#!/usr/bin/env bash
# What Kafka adds: runs the same load (fixed prompt, temperature 0, fresh ids) through Kafka against `./herd serve`
# on the demo model, then directly on the engine in this process (after the service has stopped, so the two never
# share the cores), and prints them side by side.
#
#   bench/kafka-overhead.sh [extra options for ./herd bench --kafka, e.g. --max-tokens 32 --rounds 8]
#
# Environment: CONCURRENCY (default 1,16); HERD_HTTP_PORT / HERD_MANAGEMENT_PORT / HERD_EMBEDDED_KAFKA_PORT (default: free ports, so a
# broker already on 9092 is not disturbed); KAFKA_BOOTSTRAP_SERVERS set → the service uses that cluster instead of
# its embedded broker. The service's engine settings (HERD_KV_CACHE_BYTES, HERD_MAX_NUM_SEQS, …) are read by both runs.
set -euo pipefail
HERD_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERD="$HERD_HOME/herd"
CONCURRENCY="${CONCURRENCY:-1,16}"
cd "$HERD_HOME"

free_port() { # the first port from $1 upwards that nothing listens on
  local p="$1"
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
export HERD_HTTP_PORT="${HERD_HTTP_PORT:-$(free_port 18080)}"
export HERD_MANAGEMENT_PORT="${HERD_MANAGEMENT_PORT:-$(free_port 19000)}"
export HERD_EMBEDDED_KAFKA_PORT="${HERD_EMBEDDED_KAFKA_PORT:-$(free_port 19092)}"
export HERD_MANAGEMENT_PORT="${HERD_MANAGEMENT_PORT:-$(free_port 19000)}"
BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:-localhost:$HERD_EMBEDDED_KAFKA_PORT}"

# A data folder of its own: a fresh broker log, and the demo model (the same bytes on every machine) written once
# here so that both runs load the very same files.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/herd-kafka-overhead.XXXXXX")"
export HERD_DATA_DIR="$WORK/data"
MODEL="$HERD_DATA_DIR/demo-model"
STAMP="$(date -u +%Y-%m-%dT%H-%M-%SZ)"
RESULTS="$HERD_HOME/bench/results"
KAFKA_JSON="$RESULTS/kafka-overhead-$STAMP-kafka.json"
INPROC_JSON="$RESULTS/kafka-overhead-$STAMP-in-process.json"
LOG="$WORK/serve.log"
mkdir -p "$RESULTS"

SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# ./herd builds on its first use when the sources are newer than the package; this call does it in the foreground.
"$HERD" make-demo-model "$MODEL" >&2

echo "kafka-overhead: starting the service (HTTP $HERD_HTTP_PORT, Kafka $BOOTSTRAP, log $LOG)" >&2
HERD_MODEL_DIR="$MODEL" "$HERD" serve >"$LOG" 2>&1 &
SERVE_PID=$!
deadline=$((SECONDS + ${HERD_START_TIMEOUT:-300}))
until curl -fsS "http://localhost:$HERD_MANAGEMENT_PORT/q/health/ready" >/dev/null 2>&1; do
  if ! kill -0 "$SERVE_PID" 2>/dev/null; then
    echo "kafka-overhead: the service exited during startup; last lines of its log:" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "kafka-overhead: the service was not ready within ${HERD_START_TIMEOUT:-300} s; last lines of its log:" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi
  sleep 1
done

echo "kafka-overhead: service ready; load through Kafka" >&2
NOTE="service: embedded broker unless KAFKA_BOOTSTRAP_SERVERS; HERD_JAVA_OPTS=${HERD_JAVA_OPTS:-(none)}"
"$HERD" bench --kafka --bootstrap "$BOOTSTRAP" --concurrency "$CONCURRENCY" --model "$MODEL" --out "$KAFKA_JSON" \
  --note "$NOTE" "$@" >&2

echo "kafka-overhead: stopping the service" >&2
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
SERVE_PID=""

echo "kafka-overhead: the same load in process" >&2
"$HERD" bench --kafka --in-process --model "$MODEL" --concurrency "$CONCURRENCY" --out "$INPROC_JSON" \
  --note "HERD_JAVA_OPTS=${HERD_JAVA_OPTS:-(none)}" "$@" >&2

echo
"$HERD" bench --kafka --compare "$KAFKA_JSON" "$INPROC_JSON"
echo
echo "results: $KAFKA_JSON"
echo "         $INPROC_JSON"

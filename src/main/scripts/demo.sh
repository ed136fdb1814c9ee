#!/usr/bin/env bash
# ./herd demo: start the service (embedded Kafka broker + demo model unless configured otherwise), wait until it is
# ready, stream one reply with ./herd send, then stop the service.
set -euo pipefail
HERD_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
HERD="$HERD_HOME/herd"
# Health is on the management port (API on HERD_HTTP_PORT, 8080).
PORT="${HERD_MANAGEMENT_PORT:-9000}"
PROMPT="${1:-Herd streams tokens through Kafka. Tell me a short story about a herd of llamas.}"
LOG="${HERD_DEMO_LOG:-$HERD_HOME/data/demo-serve.log}"
mkdir -p "$(dirname "$LOG")"

cd "$HERD_HOME"
echo "herd demo: starting the service (log: $LOG)" >&2
"$HERD" serve >"$LOG" 2>&1 &
SERVE_PID=$!
stop_service() {
  if kill -0 "$SERVE_PID" 2>/dev/null; then
    echo "herd demo: stopping the service" >&2
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
}
trap stop_service EXIT INT TERM

# Ready = model loaded and request partitions assigned (GET /q/health/ready answers 200).
deadline=$((SECONDS + ${HERD_DEMO_START_TIMEOUT:-300}))
until curl -fsS "http://localhost:$PORT/q/health/ready" >/dev/null 2>&1; do
  if ! kill -0 "$SERVE_PID" 2>/dev/null; then
    echo "herd demo: the service exited during startup; last lines of $LOG:" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "herd demo: the service was not ready within ${HERD_DEMO_START_TIMEOUT:-300} s; see $LOG" >&2
    exit 1
  fi
  sleep 1
done

echo "herd demo: ready; sending: $PROMPT" >&2
echo >&2
# Without KAFKA_BOOTSTRAP_SERVERS the service runs its embedded broker on HERD_EMBEDDED_KAFKA_PORT (default 9092).
BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:-localhost:${HERD_EMBEDDED_KAFKA_PORT:-9092}}"
"$HERD" send --bootstrap "$BOOTSTRAP" --max-tokens "${HERD_DEMO_MAX_TOKENS:-64}" --temperature 0 "$PROMPT"

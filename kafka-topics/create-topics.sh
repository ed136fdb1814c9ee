#!/usr/bin/env bash
# Creates Herd's topics through the Kafka Admin API (kafka-topics.sh / kafka-configs.sh from a Kafka distribution),
# for clusters without the Strimzi Topic Operator (Amazon MSK, Confluent, plain Apache Kafka).
# Generated from kafka-topics/topics.json by io.herd.deploy.TopicManifestsTest; do not edit by hand.
# Regenerate: ./mvnw -B -q test -Dtest=TopicManifestsTest -Dherd.deploy.regenerate=true
#
# Environment:
#   KAFKA_BOOTSTRAP_SERVERS      broker list, e.g. b-1.example:9096,b-2.example:9096 (required)
#   KAFKA_CLIENT_PROPERTIES      client config file with TLS/SASL settings (optional; see docs/DEPLOY.md)
#   KAFKA_BIN                    folder holding kafka-topics.sh (optional; default: found on PATH)
#   HERD_REPLICATION_FACTOR      overrides every topic's replication factor, e.g. 1 for a one-broker test cluster;
#                                min.insync.replicas is then capped to it
# Idempotent: existing topics are kept (partitions only grow, see README-topics.md) and their config is set again.
set -euo pipefail
: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS to the Kafka bootstrap servers}"
bin="${KAFKA_BIN:+$KAFKA_BIN/}"
client=()
if [ -n "${KAFKA_CLIENT_PROPERTIES:-}" ]; then client=(--command-config "$KAFKA_CLIENT_PROPERTIES"); fi

# create_topic NAME PARTITIONS REPLICATION_FACTOR KEY=VALUE...
create_topic() {
  local name="$1" partitions="$2" rf="${HERD_REPLICATION_FACTOR:-$3}"
  shift 3
  local configs=() kv
  for kv in "$@"; do
    if [[ "$kv" == min.insync.replicas=* ]] && [ "${kv#*=}" -gt "$rf" ]; then kv="min.insync.replicas=$rf"; fi
    configs+=("$kv")
  done
  local create_args=() joined
  for kv in "${configs[@]}"; do create_args+=(--config "$kv"); done
  "${bin}kafka-topics.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" "${client[@]}" --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor "$rf" "${create_args[@]}"
  joined="$(IFS=,; echo "${configs[*]}")"
  "${bin}kafka-configs.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" "${client[@]}" --alter \
    --entity-type topics --entity-name "$name" --add-config "$joined"
  echo "topic $name: $partitions partitions, replication factor $rf"
}

create_topic herd.requests 24 3 \
  cleanup.policy=delete \
  max.message.bytes=4194304 \
  min.insync.replicas=2 \
  retention.ms=86400000
create_topic herd.responses 12 3 \
  cleanup.policy=delete \
  min.insync.replicas=2 \
  retention.ms=3600000
create_topic herd.control 1 3 \
  cleanup.policy=delete \
  min.insync.replicas=2 \
  retention.ms=3600000
create_topic herd.requests.dlq 3 3 \
  cleanup.policy=delete \
  max.message.bytes=5242880 \
  min.insync.replicas=2 \
  retention.ms=1209600000
create_topic herd.attempts 24 3 \
  cleanup.policy=compact,delete \
  min.cleanable.dirty.ratio=0.1 \
  min.insync.replicas=2 \
  retention.ms=86400000 \
  segment.ms=3600000

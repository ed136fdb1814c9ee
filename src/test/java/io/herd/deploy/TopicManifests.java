package io.herd.deploy;

import java.util.List;
import java.util.Map;

/**
 * Makes the cluster-side topic definitions from {@code topics.json}: Strimzi {@code KafkaTopic} resources and a
 * shell script over {@code kafka-topics.sh}/{@code kafka-configs.sh} for clusters without Strimzi (MSK, Confluent, plain Kafka).
 * {@link TopicManifestsTest} fails when the committed files differ from what this produces, so they never drift.
 */
final class TopicManifests {

    /** Label the Strimzi Topic Operator uses to pick the Kafka cluster a topic belongs to. */
    static final String STRIMZI_CLUSTER_LABEL = "strimzi.io/cluster";
    static final String STRIMZI_CLUSTER = "herd-kafka";
    static final String STRIMZI_PATH = "kafka-topics/strimzi/kafka-topics.yaml";
    static final String SCRIPT_PATH = "kafka-topics/create-topics.sh";

    private TopicManifests() {
    }

    static String strimziYaml(List<TopicDefinition> topics) {
        StringBuilder out = new StringBuilder();
        out.append("# Generated from kafka-topics/topics.json by io.herd.deploy.TopicManifestsTest; do not edit by hand.\n");
        out.append("# Regenerate: ./mvnw -B -q test -Dtest=TopicManifestsTest -Dherd.deploy.regenerate=true\n");
        out.append("# Apply in the namespace the Strimzi Topic Operator watches: kubectl apply -n kafka -f ").append(STRIMZI_PATH).append('\n');
        for (TopicDefinition topic : topics) {
            out.append("---\n");
            out.append("apiVersion: kafka.strimzi.io/v1beta2\n");
            out.append("kind: KafkaTopic\n");
            out.append("metadata:\n");
            out.append("  name: ").append(topic.name()).append('\n');
            out.append("  labels:\n");
            out.append("    ").append(STRIMZI_CLUSTER_LABEL).append(": ").append(STRIMZI_CLUSTER).append('\n');
            out.append("    app.kubernetes.io/part-of: herd\n");
            out.append("    herd.io/topic-role: ").append(topic.role()).append('\n');
            out.append("spec:\n");
            out.append("  topicName: ").append(topic.name()).append('\n');
            out.append("  partitions: ").append(topic.partitions()).append('\n');
            out.append("  replicas: ").append(topic.replicationFactor()).append('\n');
            out.append("  config:\n");
            for (Map.Entry<String, String> entry : topic.config().entrySet()) {
                // Strimzi takes config values as strings or numbers; quoting keeps "86400000" a string for every YAML reader.
                out.append("    ").append(entry.getKey()).append(": \"").append(entry.getValue()).append("\"\n");
            }
        }
        return out.toString();
    }

    static String createTopicsScript(List<TopicDefinition> topics) {
        StringBuilder out = new StringBuilder();
        out.append("""
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
                  "${bin}kafka-topics.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" "${client[@]}" --create --if-not-exists \\
                    --topic "$name" --partitions "$partitions" --replication-factor "$rf" "${create_args[@]}"
                  joined="$(IFS=,; echo "${configs[*]}")"
                  "${bin}kafka-configs.sh" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" "${client[@]}" --alter \\
                    --entity-type topics --entity-name "$name" --add-config "$joined"
                  echo "topic $name: $partitions partitions, replication factor $rf"
                }

                """);
        for (TopicDefinition topic : topics) {
            out.append("create_topic ").append(topic.name()).append(' ').append(topic.partitions()).append(' ')
                    .append(topic.replicationFactor());
            for (Map.Entry<String, String> entry : topic.config().entrySet()) {
                out.append(" \\\n  ").append(entry.getKey()).append('=').append(entry.getValue());
            }
            out.append('\n');
        }
        return out.toString();
    }
}

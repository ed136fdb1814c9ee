package io.herd.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class TopicManifestsTest {

    private final List<TopicDefinition> topics = TopicDefinition.loadProject();

    @Test
    void topicsJsonDefinesTheAgreedTopicsOncePerRole() {
        assertThat(topics).extracting(TopicDefinition::role).containsExactlyInAnyOrderElementsOf(TopicDefinition.ROLES);
        Map<String, String> nameByRole = topics.stream().collect(Collectors.toMap(TopicDefinition::role, TopicDefinition::name));
        assertThat(nameByRole).containsExactlyInAnyOrderEntriesOf(Map.of(
                "requests", "herd.requests", "responses", "herd.responses", "control", "herd.control", "dlq", "herd.requests.dlq",
                "attempts", "herd.attempts"));
    }

    @Test
    void durabilitySettingsLeaveRoomForOneBrokerDown() {
        for (TopicDefinition topic : topics) {
            int minInsync = Integer.parseInt(topic.config().getOrDefault("min.insync.replicas", "1"));
            // acks=all keeps producing while one broker is down only if min.insync.replicas < replicationFactor.
            assertThat(minInsync).as("min.insync.replicas of %s", topic.name()).isLessThan(topic.replicationFactor());
            assertThat(topic.config()).as("config of %s", topic.name()).containsKeys("retention.ms", "cleanup.policy");
        }
    }

    @Test
    void deadLetterTopicKeepsWhatTheRequestTopicAccepts() {
        TopicDefinition requests = TopicDefinition.byRole(topics, "requests");
        TopicDefinition dlq = TopicDefinition.byRole(topics, "dlq");
        assertThat(Long.parseLong(dlq.config().get("retention.ms")))
                .as("DLQ records must outlive the requests they came from, to be inspected and replayed")
                .isGreaterThan(Long.parseLong(requests.config().get("retention.ms")));
        assertThat(Long.parseLong(dlq.config().getOrDefault("max.message.bytes", "1048588")))
                .as("a request that was accepted must fit the DLQ too")
                .isGreaterThanOrEqualTo(Long.parseLong(requests.config().getOrDefault("max.message.bytes", "1048588")));
    }

    @Test
    void deadLetterTopicTakesARequestOfTheLargestSizePlusItsHeaders() {
        long requests = Long.parseLong(TopicDefinition.byRole(topics, "requests").config().get("max.message.bytes"));
        long dlq = Long.parseLong(TopicDefinition.byRole(topics, "dlq").config().get("max.message.bytes"));
        // A dead-lettered record is the original value and key plus the service's headers (cut to 1 KiB each).
        assertThat(dlq).as("DLQ max.message.bytes leaves room for headers beyond the requests topic's limit")
                .isGreaterThanOrEqualTo(requests + 64 * 1024).isEqualTo(5_242_880L);
    }

    @Test
    void attemptsTopicIsCompactedBoundedAndCoversTheRequestTopic() {
        TopicDefinition requests = TopicDefinition.byRole(topics, "requests");
        TopicDefinition attempts = TopicDefinition.byRole(topics, "attempts");
        assertThat(attempts.config()).as("attempts config, as the service and every creation path use it").isEqualTo(Map.of(
                "cleanup.policy", "compact,delete", "retention.ms", "86400000", "segment.ms", "3600000",
                "min.cleanable.dirty.ratio", "0.1", "min.insync.replicas", "2"));
        assertThat(attempts.partitions()).as("one attempts partition per request partition").isEqualTo(requests.partitions());
        assertThat(attempts.replicationFactor()).isEqualTo(3);
        long retention = Long.parseLong(attempts.config().get("retention.ms"));
        assertThat(retention).as("markers outlive every request still waiting in herd.requests, or a re-delivered request runs again")
                .isGreaterThanOrEqualTo(Long.parseLong(requests.config().get("retention.ms")));
        long segment = Long.parseLong(attempts.config().get("segment.ms"));
        assertThat(segment).as("segments roll often enough for the cleaner and retention to act (only closed segments are cleaned)")
                .isLessThanOrEqualTo(retention / 12);
    }

    @Test
    void committedStrimziTopicsMatchTopicsJson() throws IOException {
        assertGenerated(TopicManifests.STRIMZI_PATH, TopicManifests.strimziYaml(topics));
        // A second, independent reading of the committed file: parse it as YAML and compare with topics.json.
        List<Map<String, Object>> docs = Yaml.readAll(ProjectFiles.read(TopicManifests.STRIMZI_PATH));
        assertThat(docs).hasSize(topics.size());
        for (int i = 0; i < docs.size(); i++) {
            Map<String, Object> doc = docs.get(i);
            TopicDefinition topic = topics.get(i);
            CrdSchemas.check(doc);
            assertThat(Yaml.at(doc, "spec.topicName")).isEqualTo(topic.name());
            assertThat(Yaml.at(doc, "spec.partitions")).isEqualTo(topic.partitions());
            assertThat(Yaml.at(doc, "spec.replicas")).isEqualTo(topic.replicationFactor());
            assertThat(Yaml.at(doc, "spec.config")).isEqualTo(Map.copyOf(topic.config()));
            assertThat(Yaml.at(doc, "metadata.labels.'strimzi.io/cluster'")).isEqualTo(TopicManifests.STRIMZI_CLUSTER);
        }
    }

    @Test
    void committedCreateTopicsScriptMatchesTopicsJson() throws IOException {
        assertGenerated(TopicManifests.SCRIPT_PATH, TopicManifests.createTopicsScript(topics));
        assertThat(Files.isExecutable(ProjectFiles.resolve(TopicManifests.SCRIPT_PATH))).as("create-topics.sh is executable").isTrue();
    }

    @Test
    void createTopicsScriptCallsTheAdminToolsWithEveryTopic(@TempDir Path bin) throws Exception {
        Path log = bin.resolve("calls.log");
        for (String tool : List.of("kafka-topics.sh", "kafka-configs.sh")) {
            Path stub = bin.resolve(tool);
            Files.writeString(stub, "#!/usr/bin/env bash\necho \"" + tool + " $*\" >> '" + log + "'\n");
            assertThat(stub.toFile().setExecutable(true)).isTrue();
        }
        ProcessBuilder builder = new ProcessBuilder("bash", ProjectFiles.resolve(TopicManifests.SCRIPT_PATH).toString())
                .redirectErrorStream(true).redirectOutput(bin.resolve("out.log").toFile());
        builder.environment().put("KAFKA_BOOTSTRAP_SERVERS", "broker-1:9096");
        builder.environment().put("KAFKA_BIN", bin.toString());
        builder.environment().put("KAFKA_CLIENT_PROPERTIES", "/etc/herd/client.properties");
        Process run = builder.start();
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).as(Files.readString(bin.resolve("out.log"))).isZero();

        List<String> calls = Files.readAllLines(log, StandardCharsets.UTF_8);
        assertThat(calls).hasSize(2 * topics.size());
        for (TopicDefinition topic : topics) {
            String create = calls.stream().filter(c -> c.startsWith("kafka-topics.sh") && c.contains("--topic " + topic.name() + " "))
                    .findFirst().orElseThrow(() -> new AssertionError("no kafka-topics.sh call for " + topic.name() + " in " + calls));
            assertThat(create).contains("--bootstrap-server broker-1:9096", "--command-config /etc/herd/client.properties",
                    "--create --if-not-exists", "--partitions " + topic.partitions() + " ",
                    "--replication-factor " + topic.replicationFactor());
            Set<String> configs = topic.config().entrySet().stream().map(e -> "--config " + e.getKey() + "=" + e.getValue())
                    .collect(Collectors.toSet());
            assertThat(create).contains(configs);
            String alter = calls.stream().filter(c -> c.startsWith("kafka-configs.sh") && c.contains("--entity-name " + topic.name() + " "))
                    .findFirst().orElseThrow(() -> new AssertionError("no kafka-configs.sh call for " + topic.name()));
            assertThat(alter).contains("--add-config " + topic.config().entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")));
        }
    }

    private static void assertGenerated(String relative, String expected) throws IOException {
        Path file = ProjectFiles.resolve(relative);
        if (ProjectFiles.regenerate()) {
            Files.createDirectories(file.getParent());
            Files.writeString(file, expected, StandardCharsets.UTF_8);
            if (relative.endsWith(".sh")) {
                assertThat(file.toFile().setExecutable(true, false)).isTrue();
            }
        }
        assertThat(Files.exists(file)).as(relative + " is missing; regenerate with -Dherd.deploy.regenerate=true").isTrue();
        assertThat(Files.readString(file, StandardCharsets.UTF_8))
                .as(relative + " differs from what kafka-topics/topics.json produces; regenerate with "
                        + "./mvnw -B -q test -Dtest=TopicManifestsTest -Dherd.deploy.regenerate=true")
                .isEqualTo(expected);
    }
}

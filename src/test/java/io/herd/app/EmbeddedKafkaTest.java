package io.herd.app;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedKafkaTest {

    @Test
    void restartsOnItsOwnDataWithTheTopicsItHad(@TempDir Path dir) throws Exception {
        int topicCount = TopicProvisioner.load().size();
        try (EmbeddedKafka broker = EmbeddedKafka.start(dir, 0)) {
            TopicProvisioner.ensureTopics(broker.bootstrapServers(), 2);
            assertThat(topics(broker)).hasSize(topicCount);
        }
        try (EmbeddedKafka again = EmbeddedKafka.start(dir, 0)) {
            assertThat(topics(again)).as("topics survive the restart").hasSize(topicCount);
            TopicProvisioner.ensureTopics(again.bootstrapServers(), 2); // idempotent
        }
    }

    private static java.util.Set<String> topics(EmbeddedKafka broker) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            return admin.listTopics().names().get(60, TimeUnit.SECONDS);
        }
    }
}

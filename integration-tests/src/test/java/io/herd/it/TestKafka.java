package io.herd.it;

import io.herd.app.EmbeddedKafka;
import io.herd.app.TopicProvisioner;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One real KRaft broker for the whole IT run, in this JVM (Kafka's own server classes), on a free port. Each test
 * class gets its own set of Herd topics under a prefix, so classes never see each other's records or offsets.
 */
final class TestKafka {

    /** The topic names of one test class, by role, as the service takes them from HERD_TOPIC_*. */
    record Topics(String requests, String responses, String control, String dlq, String attempts) {
        Map<String, String> env() {
            return Map.of("HERD_TOPIC_REQUESTS", requests, "HERD_TOPIC_RESPONSES", responses,
                    "HERD_TOPIC_CONTROL", control, "HERD_TOPIC_DLQ", dlq, "HERD_TOPIC_ATTEMPTS", attempts);
        }
    }

    private static EmbeddedKafka broker;

    private TestKafka() {}

    static synchronized String bootstrap() {
        if (broker == null) {
            try {
                Path dir = Files.createTempDirectory("herd-it-kafka");
                broker = EmbeddedKafka.start(dir, 0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "herd-it-kafka-stop"));
        }
        return broker.bootstrapServers();
    }

    /** Creates the topics of topics.json under {@code prefix}, with {@code partitions} partitions (control: 1). */
    static Topics topics(String prefix, int partitions) {
        return topics(bootstrap(), prefix, partitions);
    }

    /** The same on another broker (the fault suite's broker process). */
    static Topics topics(String bootstrapServers, String prefix, int partitions) {
        Map<String, String> byRole = new LinkedHashMap<>();
        List<NewTopic> topics = new ArrayList<>();
        for (TopicProvisioner.TopicSpec spec : TopicProvisioner.load()) {
            String name = prefix + "." + spec.name();
            byRole.put(spec.role(), name);
            Map<String, String> config = new LinkedHashMap<>(spec.config());
            config.put("min.insync.replicas", "1");
            topics.add(new NewTopic(name, spec.partitions() == 1 ? 1 : partitions, (short) 1).configs(config));
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create test topics " + byRole.values(), e);
        }
        // The attempts topic is the service's own: it creates it at startup, derived from the requests topic.
        return new Topics(byRole.get("requests"), byRole.get("responses"), byRole.get("control"), byRole.get("dlq"),
                byRole.getOrDefault("attempts", prefix + ".herd.attempts"));
    }
}

package io.herd.app;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The service's internal topic of attempt markers (see {@code messaging.AttemptLedger}). It is derived from the
 * requests topic, the way a stream processor derives its changelog topic: one partition per requests partition
 * (marker for request partition p lives in partition p), compacted per request id, kept as long as requests.
 * Created (or widened) at startup, so it can never disagree with the requests topic.
 */
public final class AttemptsTopic {

    /** Compaction keeps the latest marker per id; deletion drops ids older than the requests they belong to. */
    static final Map<String, String> CONFIG = Map.of("cleanup.policy", "compact,delete", "retention.ms", "86400000",
            "segment.ms", "3600000", "min.cleanable.dirty.ratio", "0.1");

    private AttemptsTopic() {}

    /**
     * Ensures {@code attempts} exists with at least as many partitions as {@code requests}.
     *
     * @param clientConfig Kafka client settings (bootstrap, TLS/SASL)
     */
    public static void ensure(Map<String, Object> clientConfig, String requests, String attempts) {
        Map<String, Object> config = new HashMap<>();
        clientConfig.forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k)) config.put(k, v);
        });
        try (Admin admin = Admin.create(config)) {
            Map<String, TopicDescription> requestsTopic = admin.describeTopics(List.of(requests)).allTopicNames()
                    .get(60, TimeUnit.SECONDS);
            int partitions = requestsTopic.get(requests).partitions().size();
            int brokers = admin.describeCluster().nodes().get(60, TimeUnit.SECONDS).size();
            if (admin.listTopics().names().get(60, TimeUnit.SECONDS).contains(attempts)) {
                int have = admin.describeTopics(List.of(attempts)).allTopicNames().get(60, TimeUnit.SECONDS)
                        .get(attempts).partitions().size();
                if (have < partitions) {
                    admin.createPartitions(Map.of(attempts, NewPartitions.increaseTo(partitions))).all().get(60, TimeUnit.SECONDS);
                }
                return;
            }
            short rf = (short) Math.min(3, brokers);
            Map<String, String> topicConfig = new HashMap<>(CONFIG);
            topicConfig.put("min.insync.replicas", String.valueOf(Math.min(2, rf)));
            try {
                admin.createTopics(List.of(new NewTopic(attempts, partitions, rf).configs(topicConfig))).all()
                        .get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create or check the attempts topic " + attempts + " (one partition per"
                    + " partition of " + requests + ", cleanup.policy=compact,delete); create it by hand if the service may"
                    + " not create topics: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + attempts, e);
        }
    }
}

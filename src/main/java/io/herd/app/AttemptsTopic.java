package io.herd.app;

import io.herd.messaging.AdminSettings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The service's internal topic of attempt markers (see {@code messaging.AttemptLedger}). Its settings come from the
 * {@code attempts} entry of {@code kafka-topics/topics.json}, as every other topic's do, with one rule on top: it has
 * at least as many partitions as the requests topic (the marker for request partition p lives in partition p).
 * Created (or widened, and its configs brought in line) at startup, so it can never disagree with the requests topic.
 */
public final class AttemptsTopic {

    private static final Logger LOG = Logger.getLogger(AttemptsTopic.class);

    private AttemptsTopic() {}

    /** The attempts topic's settings from topics.json. */
    static TopicProvisioner.TopicSpec spec() {
        return TopicProvisioner.load().stream().filter(t -> t.role().equals("attempts")).findFirst()
                .orElseThrow(() -> new IllegalStateException(TopicProvisioner.RESOURCE + " has no topic with role attempts"));
    }

    /**
     * Ensures {@code attempts} exists with at least as many partitions as {@code requests} and the configs of
     * topics.json.
     *
     * @param clientConfig Kafka client settings (bootstrap, TLS/SASL)
     */
    public static void ensure(Map<String, Object> clientConfig, String requests, String attempts) {
        Map<String, Object> config = AdminSettings.from(clientConfig, null);
        TopicProvisioner.TopicSpec spec = spec();
        try (Admin admin = Admin.create(config)) {
            Map<String, TopicDescription> requestsTopic = admin.describeTopics(List.of(requests)).allTopicNames()
                    .get(60, TimeUnit.SECONDS);
            int partitions = requestsTopic.get(requests).partitions().size();
            int brokers = admin.describeCluster().nodes().get(60, TimeUnit.SECONDS).size();
            short rf = (short) Math.min(spec.replicationFactor(), brokers);
            Map<String, String> topicConfig = TopicProvisioner.configFor(spec, rf);
            if (admin.listTopics().names().get(60, TimeUnit.SECONDS).contains(attempts)) {
                int have = admin.describeTopics(List.of(attempts)).allTopicNames().get(60, TimeUnit.SECONDS)
                        .get(attempts).partitions().size();
                if (have < partitions) {
                    admin.createPartitions(Map.of(attempts, NewPartitions.increaseTo(partitions))).all().get(60, TimeUnit.SECONDS);
                }
                alignConfigs(admin, attempts, topicConfig);
                return;
            }
            try {
                admin.createTopics(List.of(new NewTopic(attempts, partitions, rf).configs(topicConfig))).all()
                        .get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create or check the attempts topic " + attempts + " (one partition per"
                    + " partition of " + requests + ", configs as in " + TopicProvisioner.RESOURCE + "); create it by hand"
                    + " if the service may not create topics: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + attempts, e);
        }
    }

    /**
     * An attempts topic made earlier with other settings (older versions, or by hand) keeps growing or loads slowly:
     * bring the keys topics.json sets in line. Where the service may not alter configs, say what differs and go on.
     */
    private static void alignConfigs(Admin admin, String attempts, Map<String, String> wanted)
            throws InterruptedException, java.util.concurrent.TimeoutException {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, attempts);
        try {
            Config current = admin.describeConfigs(List.of(resource)).all().get(60, TimeUnit.SECONDS).get(resource);
            List<AlterConfigOp> ops = new ArrayList<>();
            wanted.forEach((k, v) -> {
                ConfigEntry e = current.get(k);
                if (e == null || !v.equals(e.value())) ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET));
            });
            if (ops.isEmpty()) return;
            admin.incrementalAlterConfigs(Map.of(resource, ops)).all().get(60, TimeUnit.SECONDS);
            LOG.infof("attempts topic %s: configs brought in line with %s: %s", attempts, TopicProvisioner.RESOURCE,
                    ops.stream().map(o -> o.configEntry().name() + "=" + o.configEntry().value()).toList());
        } catch (ExecutionException e) {
            LOG.warnf("attempts topic %s: cannot check or align its configs with %s (%s); set them by hand: %s", attempts,
                    TopicProvisioner.RESOURCE, e.getCause(), wanted);
        }
    }
}

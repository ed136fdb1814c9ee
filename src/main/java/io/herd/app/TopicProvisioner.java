package io.herd.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Creates Herd's topics from {@code kafka-topics/topics.json} (on the classpath), the single source of truth for
 * names, partitions and configs. Replication and min.insync.replicas are capped at the broker count, so the same
 * file serves a one-node broker and a production cluster.
 */
public final class TopicProvisioner {

    public static final String RESOURCE = "kafka-topics/topics.json";

    /** One topic of topics.json. */
    public record TopicSpec(String role, String name, int partitions, int replicationFactor, Map<String, String> config) {}

    private TopicProvisioner() {}

    public static List<TopicSpec> load() {
        try (InputStream in = TopicProvisioner.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is not on the classpath");
            JsonNode root = new ObjectMapper().readTree(in);
            List<TopicSpec> out = new ArrayList<>();
            for (JsonNode t : root.path("topics")) {
                Map<String, String> config = new LinkedHashMap<>();
                t.path("config").properties().forEach(e -> config.put(e.getKey(), e.getValue().asText()));
                out.add(new TopicSpec(t.path("role").asText(), t.path("name").asText(), t.path("partitions").asInt(),
                        t.path("replicationFactor").asInt(1), config));
            }
            if (out.isEmpty()) throw new IllegalStateException(RESOURCE + " lists no topics");
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /**
     * Creates the missing topics. {@code partitionsOverride} (if > 0) replaces every topic's partition count except
     * single-partition ones (control).
     */
    public static void ensureTopics(String bootstrapServers, int partitionsOverride) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            int brokers = admin.describeCluster().nodes().get(60, TimeUnit.SECONDS).size();
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (TopicSpec spec : load()) {
                if (existing.contains(spec.name())) continue;
                int partitions = partitionsOverride > 0 && spec.partitions() > 1 ? partitionsOverride : spec.partitions();
                short rf = (short) Math.min(spec.replicationFactor(), brokers);
                missing.add(new NewTopic(spec.name(), partitions, rf).configs(configFor(spec, rf)));
            }
            if (missing.isEmpty()) return;
            try {
                admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create topics on " + bootstrapServers + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }

    /** A topic's configs for a cluster where it gets {@code replicationFactor} replicas (min.insync.replicas capped). */
    static Map<String, String> configFor(TopicSpec spec, short replicationFactor) {
        Map<String, String> config = new LinkedHashMap<>(spec.config());
        config.computeIfPresent("min.insync.replicas",
                (k, v) -> String.valueOf(Math.min(Integer.parseInt(v), replicationFactor)));
        return config;
    }

    /** Topic names by role ("requests", "responses", …). */
    public static Map<String, String> namesByRole() {
        return load().stream().collect(Collectors.toMap(TopicSpec::role, TopicSpec::name, (a, b) -> a, LinkedHashMap::new));
    }
}

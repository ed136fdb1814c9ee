package io.herd.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * What every fault scenario stands on: a broker process, a fresh set of prefixed topics, the observer, a request
 * sender, a service cluster in one group and the invariant checker, closed in reverse order.
 */
final class FaultRig implements AutoCloseable {

    final String prefix;
    final BrokerProcess broker;
    final TestKafka.Topics topics;
    final EventObserver observer;
    final FaultLoad load;
    final ServiceCluster cluster;
    final FaultInvariants invariants;

    /**
     * @param env          settings for every instance on top of the suite's own
     * @param extraTopics  more one-partition topics, named {@code prefix.suffix}, created and observed as well
     */
    FaultRig(String name, int partitions, Map<String, String> env, List<String> extraTopics) {
        prefix = name + "-" + UUID.randomUUID().toString().substring(0, 8);
        broker = BrokerProcess.start(prefix);
        try {
            topics = TestKafka.topics(broker.bootstrap(), prefix, partitions);
            List<String> read = new ArrayList<>(List.of(topics.responses(), topics.dlq(), topics.attempts(),
                    topics.requests(), topics.control()));
            try (Admin admin = broker.admin()) {
                List<NewTopic> extra = extraTopics.stream().map(s -> new NewTopic(topic(s), 1, (short) 1)).toList();
                admin.createTopics(extra).all().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("cannot create " + extraTopics, e);
            }
            extraTopics.forEach(s -> read.add(topic(s)));
            observer = new EventObserver(broker.bootstrap(), read);
            load = new FaultLoad(broker.bootstrap(), topics.requests());
            Map<String, String> all = new HashMap<>();
            all.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap());
            // Short enough that a frozen or vanished member is noticed within a scenario.
            all.put("HERD_SESSION_TIMEOUT_MS", "6000");
            // Loopback only.
            all.put("QUARKUS_HTTP_HOST", "127.0.0.1");
            all.put("QUARKUS_MANAGEMENT_HOST", "127.0.0.1");
            all.put("HERD_MAX_ATTEMPTS", "3");
            all.put("HERD_REPLY_TO_ALLOWED", Pattern.quote(prefix + ".herd.responses") + "(\\..+)?");
            all.put("HERD_SHUTDOWN_GRACE", "PT15S");
            // The suite restarts instances many times; JIT warm-up before readiness would add seconds to each.
            all.put("HERD_WARM_UP_TIMEOUT_MS", "0");
            all.putAll(env);
            cluster = new ServiceCluster(prefix, topics, all);
            invariants = new FaultInvariants(observer, topics, cluster);
        } catch (RuntimeException e) {
            try {
                broker.close();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
    }

    /** The name of an extra topic. */
    String topic(String suffix) { return prefix + "." + suffix; }

    @Override
    public void close() throws Exception {
        try {
            if (cluster != null) cluster.close();
        } finally {
            if (load != null) load.close();
            if (observer != null) observer.close();
            broker.close();
        }
    }
}

package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers, per request id, the latest attempt and whether it finished, in the compacted topic herd.attempts.
 *
 * <p>Why: a request cut off by a crash is re-delivered to whoever gets its partition. That instance must number the
 * re-run (attempt 2, so consumers drop the partial attempt 1) and must not generate again a request that already
 * finished. Each marker goes to the attempts partition with the same number as the request's partition, so the
 * owner of requests partition p reads exactly attempts partition p, once, when p is assigned (on the polling
 * thread, before any record of p is handed out).
 */
@ApplicationScoped
public class AttemptLedger {

    private static final Logger LOG = Logger.getLogger(AttemptLedger.class);

    /** What to do with a request record. */
    public sealed interface Decision {
        /** Run it as this attempt. */
        record Run(int attempt) implements Decision {}
        /** Skip it: it is running here or finished recently. */
        record Skip(String why) implements Decision {}
        /** Do not run it: this would be attempt {@code attempt}, past {@code herd.max-attempts}. */
        record Exceeded(int attempt) implements Decision {}
    }

    private record Entry(int partition, int attempt, boolean finished, long atEpochMs) {}

    @Inject
    @Channel(Channels.ATTEMPTS)
    @OnOverflow(OnOverflow.Strategy.UNBOUNDED_BUFFER)
    Emitter<String> emitter;

    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafkaConfig;

    @Inject
    ObjectMapper mapper;

    @ConfigProperty(name = "herd.kafka.topics.attempts", defaultValue = "herd.attempts")
    String topic;

    @ConfigProperty(name = "herd.dedupe.retention", defaultValue = "PT1H")
    Duration retention;

    /** Runs of one request id at most; a record that would start one more is dead-lettered instead. */
    @ConfigProperty(name = "herd.max-attempts", defaultValue = "3")
    int maxAttempts;

    /** How long a running marker without a finished one is remembered (the attempts topic keeps it as long). */
    @ConfigProperty(name = "herd.attempts.running-retention", defaultValue = "P1D")
    Duration runningRetention;

    @Inject
    BrokerWrites writes;

    private static final int PRUNE_EVERY = 4096;

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger finishedSincePrune = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<String, Boolean> runningHere = new ConcurrentHashMap<>();
    private KafkaConsumer<String, String> reader;

    /** Decides and, for a run, records the id as running here. Called in record order by the consumer. */
    public Decision decide(int partition, String requestId) {
        if (runningHere.containsKey(requestId)) return new Decision.Skip("running");
        Entry e = entries.get(requestId);
        if (e != null && e.finished() && System.currentTimeMillis() - e.atEpochMs() < retention.toMillis()) {
            return new Decision.Skip("finished");
        }
        int next = e == null ? 1 : e.attempt() + 1;
        if (next > maxAttempts) return new Decision.Exceeded(next);
        runningHere.put(requestId, Boolean.TRUE);
        return new Decision.Run(next);
    }

    /** Persists "attempt n is running"; the stage completes when the broker has it. */
    public CompletionStage<Void> markRunning(int partition, String requestId, int attempt) {
        entries.put(requestId, new Entry(partition, attempt, false, System.currentTimeMillis()));
        return write(partition, requestId, attempt, "running");
    }

    /** Persists "finished" after the terminal event was acknowledged. */
    public CompletionStage<Void> markFinished(int partition, String requestId, int attempt) {
        runningHere.remove(requestId);
        long now = System.currentTimeMillis();
        entries.put(requestId, new Entry(partition, attempt, true, now));
        // Forget expired ids now and then, so the map stays bounded under sustained load.
        if (finishedSincePrune.incrementAndGet() >= PRUNE_EVERY) {
            finishedSincePrune.set(0);
            prune(now);
        }
        return write(partition, requestId, attempt, "finished");
    }

    /**
     * Drops finished ids past the de-duplication retention and running ones past the attempts topic's retention
     * (their record is long gone from the requests topic, or the marker would have been rewritten).
     */
    void prune(long nowEpochMs) {
        entries.entrySet().removeIf(en -> {
            Entry e = en.getValue();
            long age = nowEpochMs - e.atEpochMs();
            return e.finished() ? age >= retention.toMillis()
                    : age >= runningRetention.toMillis() && !runningHere.containsKey(en.getKey());
        });
    }

    /** Markers held in memory (all owned partitions). */
    public int size() { return entries.size(); }

    /** The request stopped here without finishing (abandoned or never started): a re-delivery runs it again. */
    public void release(String requestId) {
        runningHere.remove(requestId);
    }

    /** Loads the markers of newly assigned requests partitions. Runs on the consumer's polling thread. */
    public synchronized void load(List<Integer> partitions) {
        if (partitions.isEmpty()) return;
        KafkaConsumer<String, String> consumer = reader();
        List<PartitionInfo> info = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        int available = info == null ? 0 : info.size();
        List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(topic, p)).toList();
        for (int p : partitions) {
            if (p >= available) {
                throw new IllegalStateException("topic " + topic + " has " + available + " partitions; it needs at least as"
                        + " many as the requests topic (partition " + p + " is assigned)");
            }
        }
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
        long now = System.currentTimeMillis();
        long cutoff = now - retention.toMillis();
        long runningCutoff = now - runningRetention.toMillis();
        int loaded = 0;
        while (tps.stream().anyMatch(tp -> consumer.position(tp, Duration.ofSeconds(30)) < end.get(tp))) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                Entry e = parse(r);
                if (e == null) continue;
                Entry current = entries.get(r.key());
                if (current == null || current.attempt() <= e.attempt()) {
                    boolean live = e.finished() ? e.atEpochMs() >= cutoff : e.atEpochMs() >= runningCutoff;
                    if (live) entries.put(r.key(), e);
                    else if (current != null) entries.remove(r.key());
                    loaded++;
                }
            }
        }
        consumer.unsubscribe();
        LOG.infof("attempt ledger: %d markers loaded for partitions %s", loaded, partitions);
    }

    /** Forgets the markers of partitions this instance no longer owns (they are reloaded if they come back). */
    public void unload(List<Integer> partitions) {
        entries.values().removeIf(e -> partitions.contains(e.partition()));
    }

    private Entry parse(ConsumerRecord<String, String> r) {
        if (r.key() == null || r.value() == null) return null;
        try {
            JsonNode n = mapper.readTree(r.value());
            return new Entry(r.partition(), n.path("attempt").asInt(1), "finished".equals(n.path("state").asText()),
                    n.path("at").asLong(r.timestamp()));
        } catch (Exception e) {
            throw new IllegalStateException("unreadable marker in " + topic + "-" + r.partition() + "@" + r.offset(), e);
        }
    }

    private CompletionStage<Void> write(int partition, String requestId, int attempt, String state) {
        String json = mapper.createObjectNode().put("id", requestId).put("attempt", attempt).put("state", state)
                .put("at", System.currentTimeMillis()).toString();
        CompletableFuture<Void> acked = new CompletableFuture<>();
        writes.sent();
        emitter.send(Message.of(json)
                .withAck(() -> {
                    writes.settled(true);
                    acked.complete(null);
                    return CompletableFuture.completedFuture(null);
                })
                .withNack(t -> {
                    writes.settled(false);
                    acked.completeExceptionally(t);
                    return CompletableFuture.completedFuture(null);
                })
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(requestId).withPartition(partition).build()));
        return acked;
    }

    private KafkaConsumer<String, String> reader() {
        if (reader == null) {
            Map<String, Object> config = new HashMap<>(kafkaConfig);
            config.keySet().removeIf(k -> k.startsWith("group.") || k.equals("client.id"));
            config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            config.put(ConsumerConfig.CLIENT_ID_CONFIG, "herd-attempt-ledger");
            config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            reader = new KafkaConsumer<>(config);
        }
        return reader;
    }

    @PreDestroy
    synchronized void close() {
        if (reader != null) reader.close(Duration.ofSeconds(2));
    }
}

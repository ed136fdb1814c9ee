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

    private final MarkerTable entries = new MarkerTable();
    /** Per attempts partition, the next offset to read: a partition that comes back is read on from there. */
    private final Map<Integer, Long> positions = new HashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger finishedSincePrune = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<String, Boolean> runningHere = new ConcurrentHashMap<>();
    private KafkaConsumer<String, String> reader;

    /** Decides and, for a run, records the id as running here. Called in record order by the consumer. */
    public Decision decide(int partition, String requestId) {
        if (runningHere.containsKey(requestId)) return new Decision.Skip("running");
        long e = entries.get(requestId);
        boolean known = e != MarkerTable.ABSENT;
        if (known && MarkerTable.finished(e) && System.currentTimeMillis() - MarkerTable.epochMs(e) < retention.toMillis()) {
            return new Decision.Skip("finished");
        }
        int next = known ? MarkerTable.attempt(e) + 1 : 1;
        if (next > maxAttempts) return new Decision.Exceeded(next);
        runningHere.put(requestId, Boolean.TRUE);
        return new Decision.Run(next);
    }

    /** Persists "attempt n is running"; the stage completes when the broker has it. */
    public CompletionStage<Void> markRunning(int partition, String requestId, int attempt) {
        entries.put(requestId, MarkerTable.pack(partition, attempt, false, System.currentTimeMillis()));
        return write(partition, requestId, attempt, "running");
    }

    /** Persists "finished" after the terminal event was acknowledged. */
    public CompletionStage<Void> markFinished(int partition, String requestId, int attempt) {
        runningHere.remove(requestId);
        long now = System.currentTimeMillis();
        entries.put(requestId, MarkerTable.pack(partition, attempt, true, now));
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
        entries.retain(e -> !expired(e, nowEpochMs));
    }

    private boolean expired(long marker, long nowEpochMs) {
        long age = nowEpochMs - MarkerTable.epochMs(marker);
        return age >= (MarkerTable.finished(marker) ? retention : runningRetention).toMillis();
    }

    /** Markers held in memory. */
    public int size() { return entries.size(); }

    /** Heap the markers take. */
    public long bytes() { return entries.bytes(); }

    /** The request stopped here without finishing (abandoned or never started): a re-delivery runs it again. */
    public void release(String requestId) {
        runningHere.remove(requestId);
    }

    /**
     * Reads the markers of newly assigned requests partitions, from where this instance last stopped reading each
     * (the start, the first time), so a partition that comes back costs only the markers written since. Markers of
     * partitions given away are kept (pruned as they expire, like all others): ids never move between partitions, so
     * they are never consulted meanwhile, and reading on from the last position brings them up to date. Runs on the
     * consumer's polling thread, before any record of those partitions is handed out.
     */
    public synchronized void load(List<Integer> partitions) {
        if (partitions.isEmpty()) return;
        long started = System.nanoTime();
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
        for (TopicPartition tp : tps) {
            Long from = positions.get(tp.partition());
            if (from == null) consumer.seekToBeginning(List.of(tp));
            else consumer.seek(tp, from);
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
        long now = System.currentTimeMillis();
        int loaded = 0;
        while (tps.stream().anyMatch(tp -> consumer.position(tp, Duration.ofSeconds(30)) < end.get(tp))) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                long e = parse(r);
                if (e == MarkerTable.ABSENT) continue;
                long current = entries.get(r.key());
                if (current == MarkerTable.ABSENT || MarkerTable.attempt(current) <= MarkerTable.attempt(e)) {
                    if (!expired(e, now)) entries.put(r.key(), e);
                    else if (current != MarkerTable.ABSENT) entries.remove(r.key());
                    loaded++;
                }
            }
        }
        for (TopicPartition tp : tps) positions.put(tp.partition(), consumer.position(tp, Duration.ofSeconds(30)));
        consumer.unsubscribe();
        LOG.infof("attempt ledger: %d markers read for partitions %s in %d ms (%d held, %d KiB)", loaded, partitions,
                (System.nanoTime() - started) / 1_000_000, entries.size(), entries.bytes() / 1024);
    }

    /** A marker record packed, or ABSENT for a tombstone. */
    private long parse(ConsumerRecord<String, String> r) {
        if (r.key() == null || r.value() == null) return MarkerTable.ABSENT;
        long quick = parseOwnFormat(r.partition(), r.value());
        if (quick != MarkerTable.ABSENT) return quick;
        try {
            JsonNode n = mapper.readTree(r.value());
            return MarkerTable.pack(r.partition(), n.path("attempt").asInt(1), "finished".equals(n.path("state").asText()),
                    n.path("at").asLong(r.timestamp()));
        } catch (Exception e) {
            throw new IllegalStateException("unreadable marker in " + topic + "-" + r.partition() + "@" + r.offset(), e);
        }
    }

    /**
     * Reads a marker as this class writes it ({@code "attempt":N}, {@code "state":"…"}, {@code "at":T}) without a JSON
     * tree: loading a million markers is dominated by parsing otherwise. ABSENT when the text is not in that form (the
     * caller then parses it as JSON).
     */
    static long parseOwnFormat(int partition, String json) {
        int a = json.indexOf("\"attempt\":");
        int s = json.indexOf("\"state\":\"");
        int t = json.indexOf("\"at\":");
        if (a < 0 || s < 0 || t < 0) return MarkerTable.ABSENT;
        long attempt = digits(json, a + 10);
        long at = digits(json, t + 5);
        if (attempt < 0 || attempt > 0x7FFF || at < 0) return MarkerTable.ABSENT;
        boolean finished = json.startsWith("finished\"", s + 9);
        if (!finished && !json.startsWith("running\"", s + 9)) return MarkerTable.ABSENT;
        return MarkerTable.pack(partition, (int) attempt, finished, at);
    }

    /** The non-negative decimal number at {@code from}, or -1. */
    private static long digits(String s, int from) {
        long v = 0;
        int i = from;
        while (i < s.length() && Character.isDigit(s.charAt(i)) && i - from < 18) v = v * 10 + (s.charAt(i++) - '0');
        return i == from ? -1 : v;
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
            // Markers are small and read in bulk at assignment: large fetches, many records per poll.
            config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
            config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
            reader = new KafkaConsumer<>(config);
        }
        return reader;
    }

    @PreDestroy
    synchronized void close() {
        if (reader != null) reader.close(Duration.ofSeconds(2));
    }
}

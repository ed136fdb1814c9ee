package io.herd.messaging;

import io.herd.serving.CompletionRequest;
import io.herd.serving.Frontend;
import io.herd.serving.PreparedRequest;
import io.herd.serving.RequestRejectedException;
import io.herd.serving.RequestValidator;
import io.herd.serving.StreamEvent;
import io.herd.serving.StreamTarget;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Default;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The herd.requests consumer. Per record: decode and validate (unservable → dead-letter topic, plus an error event
 * when an id can be recovered), skip duplicates, wait for an admission slot (this is what pauses consumption when
 * the queue is full: the next record is not taken until the stage returned here completes), record the attempt,
 * start the stream. The record is acknowledged, and its offset becomes committable, only after its terminal event
 * was acknowledged by the broker.
 */
@ApplicationScoped
@Default
@Identifier(RequestConsumer.REBALANCE_LISTENER)
public class RequestConsumer implements KafkaConsumerRebalanceListener {

    public static final String REBALANCE_LISTENER = "herd.requests.rebalance";
    private static final Logger LOG = Logger.getLogger(RequestConsumer.class);

    @Inject RequestCodec codec;
    @Inject RequestValidator validator;
    @Inject Frontend frontend;
    @Inject AttemptLedger ledger;
    @Inject ResponsePublisher publisher;
    @Inject RequestTracing tracing;
    @Inject StreamMetrics metrics;
    @Inject ReplyTopics replyTopics;

    /** Requests in flight here, by id → requests partition (to abandon them when the partition is revoked). */
    private final Map<String, Integer> inFlight = new ConcurrentHashMap<>();
    private final Set<Integer> assigned = ConcurrentHashMap.newKeySet();
    private volatile boolean draining;

    @Incoming(Channels.REQUESTS)
    public CompletionStage<Void> consume(Message<String> message) {
        long receivedNanos = System.nanoTime();
        Instant now = Instant.now();
        long receivedEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        metrics.recordIn();
        if (draining) return CompletableFuture.completedFuture(null); // left unacknowledged: re-delivered after restart
        IncomingKafkaRecordMetadata<?, ?> meta = message.getMetadata(IncomingKafkaRecordMetadata.class)
                .orElseThrow(() -> new IllegalStateException("record without Kafka metadata on channel " + Channels.REQUESTS));
        String key = meta.getKey() == null ? null : meta.getKey().toString();
        PreparedRequest prepared;
        try {
            CompletionRequest request = codec.decode(key, message.getPayload());
            prepared = validator.prepare(request);
        } catch (RequestRejectedException e) {
            return reject(message, key, e);
        }
        String replyTo = prepared.request().replyTo();
        if (replyTo == null) return admit(message, meta, prepared, receivedNanos, receivedEpochNanos);
        return replyTopics.exists(replyTo).thenCompose(exists -> exists
                ? admit(message, meta, prepared, receivedNanos, receivedEpochNanos)
                : reject(message, key, new RequestRejectedException("unknown_reply_topic",
                        "reply_to topic '" + replyTo + "' does not exist")));
    }

    private CompletionStage<Void> admit(Message<String> message, IncomingKafkaRecordMetadata<?, ?> meta,
                                        PreparedRequest prepared, long receivedNanos, long receivedEpochNanos) {
        String id = prepared.id();
        int partition = meta.getPartition();
        return switch (ledger.decide(partition, id)) {
            case AttemptLedger.Decision.Skip skip -> {
                LOG.debugf("request %s skipped: %s", id, skip.why());
                metrics.duplicate();
                yield message.ack();
            }
            case AttemptLedger.Decision.Run run -> frontend.awaitCapacity().thenAccept(slot ->
                    begin(message, meta, prepared, partition, run.attempt(), receivedNanos, receivedEpochNanos));
        };
    }

    private void begin(Message<String> message, IncomingKafkaRecordMetadata<?, ?> meta, PreparedRequest prepared,
                       int partition, int attempt, long receivedNanos, long receivedEpochNanos) {
        String id = prepared.id();
        inFlight.put(id, partition);
        Map<String, String> carrier = tracing.begin(id, attempt, meta.getHeaders(), receivedEpochNanos);
        StreamTarget target = new StreamTarget(id, attempt, prepared.request().replyTo(), carrier);
        ledger.markRunning(partition, id, attempt).whenComplete((ok, markerFailure) -> {
            if (markerFailure != null) {
                // The broker is unreachable: leave the record unacknowledged so it is re-delivered.
                LOG.errorf(markerFailure, "request %s: attempt marker not written; leaving it uncommitted", id);
                inFlight.remove(id);
                ledger.release(id);
                tracing.abandon(id, attempt);
                frontend.releaseCapacity();
                return;
            }
            frontend.start(prepared, target, receivedNanos, receivedEpochNanos,
                    (outcome, failure) -> ended(message, partition, id, attempt, outcome, failure));
        });
    }

    private void ended(Message<String> message, int partition, String id, int attempt, Frontend.Outcome outcome,
                       Throwable failure) {
        inFlight.remove(id);
        switch (outcome) {
            case COMPLETED -> ledger.markFinished(partition, id, attempt).whenComplete((ok, markerFailure) -> {
                if (markerFailure != null) LOG.warnf(markerFailure, "request %s: finished marker not written", id);
                message.ack();
            });
            case ABANDONED -> {
                ledger.release(id);
                tracing.abandon(id, attempt);
            }
            case PUBLISH_FAILED -> {
                LOG.errorf(failure, "request %s: its events could not be published", id);
                ledger.markFinished(partition, id, attempt);
                tracing.abandon(id, attempt);
                metrics.deadLettered("publish_failed");
                message.nack(failure, dlqMetadata("publish_failed", String.valueOf(failure)));
            }
        }
    }

    /** Unservable: an error event to whoever can be addressed, then the record to the dead-letter topic. */
    private CompletionStage<Void> reject(Message<String> message, String key, RequestRejectedException e) {
        RequestCodec.Recovered recovered = codec.recover(key, message.getPayload());
        // An error for a missing reply topic goes to the default response topic.
        RequestCodec.Recovered who = "unknown_reply_topic".equals(e.code())
                ? new RequestCodec.Recovered(recovered.id(), null) : recovered;
        CompletionStage<Void> errorSent = CompletableFuture.completedFuture(null);
        if (who.id() != null) {
            StreamTarget target = new StreamTarget(who.id(), 1, who.replyTo(), Map.of());
            errorSent = publisher.publish(target, 0, new StreamEvent.Error(e.code(), e.getMessage()))
                    .exceptionally(t -> {
                        LOG.warnf(t, "error event for rejected request %s not delivered", who.id());
                        return null;
                    });
        }
        if (!e.deadLetter()) return errorSent.thenCompose(v -> message.ack());
        metrics.deadLettered(e.code());
        LOG.debugf("request %s dead-lettered: %s: %s", who.id(), e.code(), e.getMessage());
        return errorSent.thenCompose(v -> message.nack(e, dlqMetadata(e.code(), e.getMessage())));
    }

    private static Metadata dlqMetadata(String code, String text) {
        return Metadata.of(OutgoingKafkaRecordMetadata.builder().withHeaders(List.of(
                new RecordHeader(Channels.DLQ_CODE_HEADER, code.getBytes(StandardCharsets.UTF_8)),
                new RecordHeader(Channels.DLQ_MESSAGE_HEADER, text.getBytes(StandardCharsets.UTF_8)))).build());
    }

    // ---- partitions ------------------------------------------------------------------------------------------

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        List<Integer> ps = partitions.stream().map(TopicPartition::partition).toList();
        ledger.load(ps);
        assigned.addAll(ps);
    }

    @Override
    public void onPartitionsRevoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        dropPartitions(partitions);
    }

    @Override
    public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        dropPartitions(partitions);
    }

    private void dropPartitions(Collection<TopicPartition> partitions) {
        List<Integer> ps = partitions.stream().map(TopicPartition::partition).toList();
        assigned.removeAll(ps);
        // Their records will be re-run by the new owner as the next attempt; stop generating them here.
        inFlight.forEach((id, p) -> {
            if (ps.contains(p)) frontend.abandon(id);
        });
        ledger.unload(ps);
    }

    /** True while this instance owns at least one requests partition (readiness). */
    public boolean hasPartitions() { return !assigned.isEmpty(); }

    public Set<Integer> assignedPartitions() { return Set.copyOf(assigned); }

    /**
     * Graceful shutdown: take no new records, let in-flight streams finish within {@code grace}, and abandon what
     * is left (uncommitted, so it is re-run after the restart).
     */
    public void drain(Duration grace) throws InterruptedException {
        draining = true;
        if (!frontend.awaitIdle(grace)) {
            LOG.warnf("shutdown grace of %s passed with %d requests in flight; they stay uncommitted", grace, inFlight.size());
            inFlight.keySet().forEach(frontend::abandon);
            frontend.awaitIdle(Duration.ofSeconds(2));
        }
    }
}

package io.herd.messaging;

import io.herd.serving.CompletionRequest;
import io.herd.serving.Frontend;
import io.herd.serving.PreparedRequest;
import io.herd.serving.PublishGate;
import io.herd.serving.RequestRejectedException;
import io.herd.serving.RequestValidator;
import io.herd.serving.StreamEvent;
import io.herd.serving.StreamTarget;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Default;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The herd.requests consumer. Per record: decode, validate and tokenize off the event loop (unservable → dead-letter
 * topic plus an error event), check reply_to, skip duplicates and refuse attempts past {@code herd.max-attempts},
 * wait for an admission slot (this is what pauses consumption when the queue is full: the next record is not taken
 * until the stage returned here completes), write the running marker, start the stream. The record is
 * acknowledged, and its offset becomes committable, only after its terminal event and finished marker were
 * acknowledged by the broker.
 *
 * <p>Every step first asks {@link PartitionWork} whether the record's partition is still owned here; a revoke drops
 * records not started yet, stops the streams of moved partitions and waits (bounded) until their marker writes and
 * events are acknowledged, so the new owner sees them before it reads the attempts partition.
 */
@ApplicationScoped
@Default
@Identifier(RequestConsumer.REBALANCE_LISTENER)
public class RequestConsumer implements KafkaConsumerRebalanceListener {

    public static final String REBALANCE_LISTENER = "herd.requests.rebalance";
    private static final Logger LOG = Logger.getLogger(RequestConsumer.class);
    private static final long FIRST_MARKER_BACKOFF_MS = 200;
    private static final long MAX_MARKER_BACKOFF_MS = 10_000;

    @Inject RequestCodec codec;
    @Inject RequestValidator validator;
    @Inject Frontend frontend;
    @Inject AttemptLedger ledger;
    @Inject ResponsePublisher publisher;
    @Inject RequestTracing tracing;
    @Inject StreamMetrics metrics;
    @Inject ReplyTopics replyTopics;
    @Inject ReplyTopicPolicy replyPolicy;
    @Inject DeadLetters deadLetters;
    @Inject CrashFault crashFault;
    @Inject PublishGate fence;

    /** How long a revoke waits for the writes of the records it takes away (bounded: the group waits for it). */
    @ConfigProperty(name = "herd.rebalance.revoke-timeout", defaultValue = "PT15S")
    Duration revokeTimeout;

    @Inject PartitionWork work;
    // Decoding, validation and tokenization of a record may take milliseconds (a 4 MiB prompt): never on the event loop.
    private final ExecutorService preparing = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("herd-prepare").daemon().factory());
    private final LastAttemptGate lastAttempts = new LastAttemptGate();
    private final ScheduledExecutorService markerRetries = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("herd-marker-retry").daemon().factory());
    private volatile boolean draining;

    /** One record on its way through this consumer. */
    private record Taken(Message<byte[]> message, IncomingKafkaRecordMetadata<?, ?> meta, PartitionWork.Ticket ticket,
                         long receivedNanos, long receivedEpochNanos) {
        int partition() { return ticket.partition(); }

        String key() { return meta.getKey() == null ? null : meta.getKey().toString(); }
    }

    @Incoming(Channels.REQUESTS)
    public CompletionStage<Void> consume(Message<byte[]> message) {
        long receivedNanos = System.nanoTime();
        Instant now = Instant.now();
        long receivedEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        metrics.recordIn();
        if (draining) return CompletableFuture.completedFuture(null); // left unacknowledged: re-delivered after restart
        IncomingKafkaRecordMetadata<?, ?> meta = message.getMetadata(IncomingKafkaRecordMetadata.class)
                .orElseThrow(() -> new IllegalStateException("record without Kafka metadata on channel " + Channels.REQUESTS));
        PartitionWork.Ticket ticket = work.open(meta.getPartition(), meta.getOffset());
        if (ticket == null) {
            metrics.revoked("received");
            return CompletableFuture.completedFuture(null); // its partition moved on: the new owner reads it
        }
        Taken taken = new Taken(message, meta, ticket, receivedNanos, receivedEpochNanos);
        return CompletableFuture.supplyAsync(() -> prepare(taken), preparing)
                .thenCompose(p -> p.rejected() != null ? reject(taken, p.rejected(), null) : route(taken, p.request()))
                .exceptionallyCompose(t -> {
                    LOG.errorf(t, "%s: unexpected failure; dead-lettering it", ticket);
                    return reject(taken, new RequestRejectedException("internal", "unexpected failure: " + t), null);
                });
    }

    /** A decoded and validated request, or why it cannot be served. */
    private record Prepared(PreparedRequest request, RequestRejectedException rejected) {}

    private Prepared prepare(Taken taken) {
        try {
            String payload = utf8(taken.message().getPayload());
            CompletionRequest request = codec.decode(taken.key(), payload);
            work.identify(taken.ticket(), request.id());
            return new Prepared(validator.prepare(request), null);
        } catch (RequestRejectedException e) {
            return new Prepared(null, e);
        }
    }

    private CompletionStage<Void> route(Taken taken, PreparedRequest prepared) {
        String replyTo = prepared.request().replyTo();
        if (replyTo == null) return decide(taken, prepared);
        String refusal = replyPolicy.refusal(replyTo);
        if (refusal != null) {
            return reject(taken, new RequestRejectedException("reply_to_not_allowed", refusal + ": '" + replyTo + "'"), null);
        }
        return replyTopics.exists(replyTo).thenCompose(exists -> exists
                ? decide(taken, prepared)
                : reject(taken, new RequestRejectedException("unknown_reply_topic",
                        "reply_to topic '" + replyTo + "' does not exist"), null));
    }

    private CompletionStage<Void> decide(Taken taken, PreparedRequest prepared) {
        String id = prepared.id();
        return switch (ledger.decide(taken.partition(), id)) {
            case AttemptLedger.Decision.Skip skip -> {
                LOG.debugf("request %s skipped: %s", id, skip.why());
                metrics.duplicate();
                yield acknowledge(taken);
            }
            case AttemptLedger.Decision.Exceeded exceeded -> {
                // Remembered as finished, so a duplicate of the record is skipped rather than dead-lettered again.
                ledger.markFinished(taken.partition(), id, exceeded.attempt());
                yield reject(taken, new RequestRejectedException("max_attempts_exceeded", "request " + id + " was started "
                        + (exceeded.attempt() - 1) + " times without finishing (herd.max-attempts)"), exceeded.attempt());
            }
            // A last allowed attempt waits for its turn (LastAttemptGate says why). After a stall the fence holds new
            // starts until the group confirms the partition is still ours: the new owner may have started this attempt.
            case AttemptLedger.Decision.Run run -> {
                boolean last = run.attempt() > 1 && run.attempt() >= ledger.maxAttempts;
                CompletionStage<Void> turn = last ? lastAttempts.acquire() : CompletableFuture.completedFuture(null);
                yield turn.thenCompose(t -> frontend.awaitCapacity())
                        .thenCompose(slot -> fence.whenOpen())
                        .thenAccept(open -> begin(taken, prepared, run.attempt(), last));
            }
        };
    }

    /**
     * Holding an admission slot: writes the running marker and starts the stream at once. The marker must be
     * acknowledged before any event of the attempt leaves (it is what numbers a re-run), so the stream's events are
     * held until then, while its prefill already runs: the marker's round trip overlaps the engine's work instead of
     * adding to the time to first token.
     */
    private void begin(Taken taken, PreparedRequest prepared, int attempt, boolean last) {
        String id = prepared.id();
        CompletableFuture<Void> streamSettled = new CompletableFuture<>();
        if (!work.advance(taken.ticket(), PartitionWork.Stage.RUNNING, streamSettled)) {
            letGo(taken, id, "admission", true, last);
            return;
        }
        CompletableFuture<Void> marked = new CompletableFuture<>();
        writeRunningMarker(taken, id, attempt, marked, FIRST_MARKER_BACKOFF_MS);
        CompletableFuture<Void> cleared = marked.thenRun(() -> {
            // Given away while the marker was on its way: the new owner runs it; nothing of this attempt may leave.
            if (taken.ticket().revoked()) throw new CancellationException("partition of " + id + " revoked");
            crashFault.beforeStart(prepared.request());
        });
        Map<String, String> carrier = tracing.begin(id, attempt, taken.meta().getHeaders(), taken.receivedEpochNanos());
        StreamTarget target = new StreamTarget(id, attempt, prepared.request().replyTo(), carrier);
        // The caller's end-user tag is for logs only (it never changes the output); bounded by RequestValidator.
        if (prepared.request().user() != null) LOG.debugf("request %s attempt %d for user %s", id, attempt, prepared.request().user());
        try {
            frontend.start(prepared, target, taken.receivedNanos(), taken.receivedEpochNanos(), cleared, (outcome, error) -> {
                if (last) lastAttempts.release();
                // A revoke waits on streamSettled: the marker's write must be settled too, so the new owner sees it.
                marked.handle((ok, t) -> null).thenRun(() -> ended(taken, prepared, attempt, outcome, error, streamSettled));
            });
        } catch (IllegalStateException e) { // the same id runs here already (e.g. over HTTP)
            tracing.abandon(id, attempt);
            marked.handle((ok, t) -> null).thenRun(() -> {
                letGo(taken, id, "duplicate", false, last);
                streamSettled.complete(null);
                reject(taken, new RequestRejectedException("invalid_request", e.getMessage(), false), attempt);
            });
        }
    }

    /**
     * The running marker must be acknowledged before any event of the attempt leaves (it is what numbers a re-run).
     * A failed write is retried with backoff while the partition is owned here: the record is never left unacknowledged
     * behind a marker that will not come.
     */
    private void writeRunningMarker(Taken taken, String id, int attempt, CompletableFuture<Void> marked, long backoffMs) {
        ledger.markRunning(taken.partition(), id, attempt).whenComplete((ok, failure) -> {
            if (failure == null) {
                marked.complete(null);
            } else if (taken.ticket().revoked() || draining) {
                marked.completeExceptionally(failure);
            } else {
                LOG.warnf("request %s: running marker not written (%s); retrying in %d ms", id, failure, backoffMs);
                markerRetries.schedule(() -> writeRunningMarker(taken, id, attempt, marked,
                        Math.min(MAX_MARKER_BACKOFF_MS, backoffMs * 2)), backoffMs, TimeUnit.MILLISECONDS);
            }
        });
    }

    private void ended(Taken taken, PreparedRequest prepared, int attempt, Frontend.Outcome outcome, Throwable failure,
                       CompletableFuture<Void> streamSettled) {
        String id = prepared.id();
        switch (outcome) {
            case COMPLETED -> ledger.markFinished(taken.partition(), id, attempt).whenComplete((ok, markerFailure) -> {
                if (markerFailure != null) LOG.warnf(markerFailure, "request %s: finished marker not written", id);
                acknowledge(taken);
                streamSettled.complete(null);
            });
            case ABANDONED -> {
                ledger.release(id);
                tracing.abandon(id, attempt);
                work.close(taken.ticket());
                streamSettled.complete(null);
            }
            case PUBLISH_FAILED -> {
                // Not the request's fault: run it again here as the next attempt (its marker numbers it), unless the
                // partition moved on meanwhile. Never dead-lettered for a broker problem.
                LOG.warnf("request %s attempt %d: its events could not be published (%s); re-running it", id, attempt,
                        String.valueOf(failure));
                metrics.publishFailed();
                ledger.release(id);
                tracing.abandon(id, attempt);
                streamSettled.complete(null);
                if (!draining && work.restart(taken.ticket())) decide(taken, prepared);
                else work.close(taken.ticket());
            }
        }
    }

    /** Gives back what a record holds when it will not start here after all; it stays unacknowledged. */
    private void letGo(Taken taken, String id, String stage, boolean holdsSlot, boolean holdsLastAttempt) {
        if (holdsSlot) frontend.releaseCapacity();
        if (holdsLastAttempt) lastAttempts.release();
        ledger.release(id);
        metrics.revoked(stage);
        work.close(taken.ticket());
    }

    private CompletionStage<Void> acknowledge(Taken taken) {
        boolean owned = !taken.ticket().revoked();
        work.close(taken.ticket());
        return owned ? taken.message().ack() : CompletableFuture.completedFuture(null);
    }

    /**
     * Unservable: an error event to whoever can be addressed (the record's reply_to only when it is allowed and
     * exists, else the default responses topic), then the record to the dead-letter topic, then the acknowledgement.
     *
     * @param attempt the attempt the error event carries (null: 1)
     */
    private CompletionStage<Void> reject(Taken taken, RequestRejectedException e, Integer attempt) {
        RequestCodec.Recovered recovered = codec.recover(taken.key(), utf8Lenient(taken.message().getPayload()));
        CompletionStage<String> replyTo = addressableReplyTo(e.code(), recovered.replyTo());
        CompletionStage<Void> errorSent = replyTo.thenCompose(topic -> {
            if (recovered.id() == null) return CompletableFuture.<Void>completedFuture(null);
            StreamTarget target = new StreamTarget(recovered.id(), attempt == null ? 1 : attempt, topic, Map.of());
            return publisher.publish(target, 0, new StreamEvent.Error(e.code(), e.getMessage()));
        }).exceptionally(t -> {
            LOG.warnf("error event for rejected %s not delivered: %s", taken.ticket(), t);
            return null;
        });
        if (!e.deadLetter()) return errorSent.thenCompose(v -> acknowledge(taken));
        LOG.debugf("%s dead-lettered: %s: %s", taken.ticket(), e.code(), e.getMessage());
        return errorSent
                .thenCompose(v -> deadLetters.send(taken.meta(), taken.message().getPayload(), e.code(), e.getMessage(),
                        () -> !taken.ticket().revoked() && !draining))
                .handle((v, failure) -> {
                    if (failure == null) return acknowledge(taken);
                    work.close(taken.ticket()); // revoked while the dead letter waited: the new owner has the record
                    return CompletableFuture.<Void>completedFuture(null);
                })
                .thenCompose(stage -> stage);
    }

    /** The topic an error event for a rejected record may go to: its reply_to only if allowed and existing. */
    private CompletionStage<String> addressableReplyTo(String code, String replyTo) {
        if (replyTo == null || "reply_to_not_allowed".equals(code) || "unknown_reply_topic".equals(code)
                || !replyPolicy.allows(replyTo)) {
            return CompletableFuture.completedFuture(null);
        }
        return replyTopics.exists(replyTo).handle((exists, t) -> t == null && exists ? replyTo : null);
    }

    private static String utf8(byte[] payload) {
        if (payload == null) return null;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            throw new RequestRejectedException("invalid_json", "value is not UTF-8");
        }
    }

    private static String utf8Lenient(byte[] payload) {
        return payload == null ? null : new String(payload, StandardCharsets.UTF_8);
    }

    // ---- partitions ------------------------------------------------------------------------------------------

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        List<Integer> ps = partitions.stream().map(TopicPartition::partition).toList();
        // A loss this listener never heard of: the connector turns onPartitionsLost into its own revoke, which commits
        // first, and that commit fails for a member already dropped from the group, so ours is skipped. Partitions
        // still held here that the consumer no longer has, or that it has just been given afresh, were lost meanwhile.
        Set<Integer> current = consumer.assignment().stream().map(TopicPartition::partition).collect(Collectors.toSet());
        List<Integer> lostUnnoticed = work.ownedPartitions().stream()
                .filter(p -> !current.contains(p) || ps.contains(p)).sorted().toList();
        if (!lostUnnoticed.isEmpty()) {
            LOG.warnf("partitions %s were lost without notice (this member was dropped from the group): their streams"
                    + " stop now", lostUnnoticed);
            giveAway(lostUnnoticed, false);
        }
        ledger.load(ps);
        work.assign(ps);
    }

    @Override
    public void onPartitionsRevoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        giveAway(partitions, true);
    }

    @Override
    public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        // Already owned by others: stop at once; waiting would not order anything any more.
        giveAway(partitions, false);
    }

    private void giveAway(Collection<TopicPartition> partitions, boolean flush) {
        giveAway(partitions.stream().map(TopicPartition::partition).toList(), flush);
    }

    private void giveAway(List<Integer> ps, boolean flush) {
        List<PartitionWork.Revoked> revoked = work.revoke(ps);
        for (PartitionWork.Revoked r : revoked) {
            if (r.stage() == PartitionWork.Stage.RUNNING && r.requestId() != null) frontend.abandon(r.requestId());
        }
        if (flush && !revoked.isEmpty()) {
            CompletableFuture<?>[] settled = revoked.stream().map(PartitionWork.Revoked::settled).toArray(CompletableFuture[]::new);
            try {
                CompletableFuture.allOf(settled).get(revokeTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                LOG.warnf("revoke of %s: writes of %d records still pending after %s", ps, revoked.size(), revokeTimeout);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.debugf("revoke of %s: a pending write failed: %s", ps, e.getCause());
            }
        }
        if (!revoked.isEmpty()) LOG.infof("partitions %s given away with %d records in flight", ps, revoked.size());
    }

    /** True while this instance owns at least one requests partition (readiness). */
    public boolean hasPartitions() { return work.ownsAny(); }

    public Set<Integer> assignedPartitions() { return work.ownedPartitions(); }

    /**
     * Graceful shutdown: take no new records, let in-flight streams finish within {@code grace}, and abandon what
     * is left (uncommitted, so it is re-run after the restart).
     */
    public void drain(Duration grace) throws InterruptedException {
        draining = true;
        if (!frontend.awaitIdle(grace)) {
            List<String> running = work.requestIds(PartitionWork.Stage.RUNNING);
            LOG.warnf("shutdown grace of %s passed with %d requests in flight; they stay uncommitted", grace, running.size());
            running.forEach(frontend::abandon);
            frontend.awaitIdle(Duration.ofSeconds(5));
        }
    }

    @PreDestroy
    void close() {
        preparing.shutdownNow();
        markerRetries.shutdownNow();
    }
}

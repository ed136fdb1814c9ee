package io.herd.messaging;

import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Writes unservable request records to the dead-letter topic: the record as received (key, value bytes, headers)
 * plus Herd's reason headers, each cut to {@link #MAX_HEADER_BYTES}.
 *
 * <p>Why its own producer: the connector's dead-letter producer keeps Kafka's 1 MiB request limit, below the
 * requests topic's 4 MiB records, so a large bad record could never be dead-lettered and was re-delivered forever.
 * This channel's producer takes any record the requests topic accepts (application.properties), and a failed write
 * is retried with backoff instead of failing the record: the record stays unacknowledged until its dead letter is
 * acknowledged, and {@link #failing()} feeds readiness and a metric meanwhile.
 */
@ApplicationScoped
public class DeadLetters {

    private static final Logger LOG = Logger.getLogger(DeadLetters.class);

    /** Longest value of a reason header; longer texts are cut (never a copy of unbounded input). */
    public static final int MAX_HEADER_BYTES = 1024;
    private static final long FIRST_BACKOFF_MS = 200;
    private static final long MAX_BACKOFF_MS = 30_000;

    @Inject
    @Channel(Channels.DEAD_LETTERS)
    @OnOverflow(OnOverflow.Strategy.UNBOUNDED_BUFFER)
    Emitter<byte[]> emitter;

    @Inject StreamMetrics metrics;
    @Inject BrokerWrites writes;

    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("herd-dlq-retry").daemon().factory());
    private final AtomicInteger failing = new AtomicInteger();

    /**
     * Dead-letters a record; the stage completes when the broker has it. While {@code wanted} holds (the partition is
     * still owned here), failed writes are retried with backoff; once it no longer does, the stage completes
     * exceptionally and the record is left to its new owner.
     */
    public CompletionStage<Void> send(IncomingKafkaRecordMetadata<?, ?> source, byte[] value, String code, String text,
                                      BooleanSupplier wanted) {
        metrics.deadLettered(code);
        CompletableFuture<Void> done = new CompletableFuture<>();
        attempt(source, value, code, text, wanted, done, FIRST_BACKOFF_MS, false);
        return done;
    }

    private void attempt(IncomingKafkaRecordMetadata<?, ?> source, byte[] value, String code, String text,
                         BooleanSupplier wanted, CompletableFuture<Void> done, long backoffMs, boolean retrying) {
        Object key = source.getKey();
        var metadata = OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(key == null ? null : key.toString())
                .withHeaders(headers(source, code, text)).build();
        writes.sent();
        emitter.send(Message.of(value).addMetadata(metadata)
                .withAck(() -> {
                    writes.settled(true);
                    if (retrying) failing.decrementAndGet();
                    done.complete(null);
                    return CompletableFuture.completedFuture(null);
                })
                .withNack(failure -> {
                    writes.settled(false);
                    metrics.deadLetterFailed();
                    if (!wanted.getAsBoolean()) {
                        if (retrying) failing.decrementAndGet();
                        done.completeExceptionally(failure);
                    } else {
                        if (!retrying) failing.incrementAndGet();
                        LOG.warnf("dead letter for %s-%d@%d not written (%s); retrying in %d ms", source.getTopic(),
                                source.getPartition(), source.getOffset(), failure, backoffMs);
                        retries.schedule(() -> attempt(source, value, code, text, wanted, done,
                                Math.min(MAX_BACKOFF_MS, backoffMs * 2), true), backoffMs, TimeUnit.MILLISECONDS);
                    }
                    return CompletableFuture.completedFuture(null);
                }));
    }

    /** Dead letters whose write failed and is being retried (readiness turns false while there are any). */
    public int failing() { return failing.get(); }

    static List<RecordHeader> headers(IncomingKafkaRecordMetadata<?, ?> source, String code, String text) {
        List<RecordHeader> out = new ArrayList<>();
        for (Header h : source.getHeaders()) out.add(new RecordHeader(h.key(), h.value()));
        out.add(header(Channels.DLQ_CODE_HEADER, code));
        out.add(header(Channels.DLQ_MESSAGE_HEADER, text));
        out.add(header("dead-letter-reason", code + ": " + text));
        out.add(header("dead-letter-topic", source.getTopic()));
        out.add(header("dead-letter-partition", String.valueOf(source.getPartition())));
        out.add(header("dead-letter-offset", String.valueOf(source.getOffset())));
        return out;
    }

    static RecordHeader header(String name, String value) {
        return new RecordHeader(name, cut(value == null ? "" : value, MAX_HEADER_BYTES));
    }

    /** The UTF-8 bytes of {@code s}, cut at a character boundary to at most {@code max} bytes. */
    static byte[] cut(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= max) return b;
        int end = max;
        while (end > 0 && (b[end] & 0xC0) == 0x80) end--; // do not split a multi-byte character
        byte[] out = new byte[end];
        System.arraycopy(b, 0, out, 0, end);
        return out;
    }

    @PreDestroy
    void close() { retries.shutdownNow(); }
}

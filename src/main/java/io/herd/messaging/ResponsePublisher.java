package io.herd.messaging;

import io.herd.serving.StreamEvent;
import io.herd.serving.StreamOutput;
import io.herd.serving.StreamTarget;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Sends stream events to the response topic (or the request's reply_to), keyed by request id so a stream stays on
 * one partition in order. Each returned stage completes when the broker acknowledged the record.
 */
@ApplicationScoped
public class ResponsePublisher implements StreamOutput {

    // The output thread only publishes what the Nagle-style batching lets through; the producer's own buffer and
    // in-flight limit bound the rest, so the emitter never drops.
    @Inject
    @Channel(Channels.RESPONSES)
    @OnOverflow(OnOverflow.Strategy.UNBOUNDED_BUFFER)
    Emitter<String> emitter;

    @Inject
    EventCodec codec;

    @Inject
    StreamMetrics metrics;

    @Inject
    RequestTracing tracing;

    @Inject
    BrokerWrites writes;

    @Override
    public CompletionStage<Void> publish(StreamTarget target, int seq, StreamEvent event) {
        String json = codec.encode(target.requestId(), seq, target.attempt(), event);
        CompletableFuture<Void> acked = new CompletableFuture<>();
        var metadata = OutgoingKafkaRecordMetadata.<String>builder().withKey(target.requestId())
                .withHeaders(headers(target.carrier()));
        if (target.replyTo() != null) metadata.withTopic(target.replyTo());
        Message<String> message = Message.of(json)
                .withAck(() -> {
                    writes.settled(true);
                    metrics.recordOut();
                    acked.complete(null);
                    return CompletableFuture.completedFuture(null);
                })
                .withNack(failure -> {
                    writes.settled(false);
                    acked.completeExceptionally(failure);
                    return CompletableFuture.completedFuture(null);
                })
                .addMetadata(metadata.build());
        if (event instanceof StreamEvent.Done || event instanceof StreamEvent.Error) {
            metrics.finished(event);
            tracing.end(target.requestId(), target.attempt(), event);
        }
        writes.sent();
        emitter.send(message);
        return acked;
    }

    private static List<RecordHeader> headers(Map<String, String> carrier) {
        List<RecordHeader> out = new ArrayList<>(carrier.size());
        carrier.forEach((k, v) -> out.add(new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8))));
        return out;
    }
}

package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.engine.EngineRequest;
import io.herd.engine.EngineStats;
import io.herd.engine.InferenceEngine;
import io.herd.engine.RequestSink;
import io.herd.serving.CharCodec;
import io.herd.serving.Frontend;
import io.herd.serving.RequestValidator;
import io.herd.serving.ServingLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The consumer's record paths with everything but Kafka real: a record revoked while it waits for admission, while
 * its running marker is in flight, or while it streams, never runs on here, and the revoke returns only after the
 * writes it must order are acknowledged; bad records are dead-lettered and acknowledged.
 */
class RequestConsumerTest {

    /** Records what is sent; acknowledges at once unless {@code hold} is set, then waits for {@link #release()}. */
    static final class TestEmitter<T> implements Emitter<T> {
        final List<Message<? extends T>> sent = new CopyOnWriteArrayList<>();
        final List<Message<? extends T>> pending = new CopyOnWriteArrayList<>();
        volatile boolean hold;

        @Override public CompletionStage<Void> send(T payload) { throw new UnsupportedOperationException(); }

        @Override public <M extends Message<? extends T>> void send(M msg) {
            sent.add(msg);
            if (hold) pending.add(msg);
            else msg.ack();
        }

        void release() {
            hold = false;
            for (Message<? extends T> m : pending) m.ack();
            pending.clear();
        }

        @Override public void complete() {}
        @Override public void error(Exception e) {}
        @Override public boolean isCancelled() { return false; }
        @Override public boolean hasRequests() { return true; }
    }

    /** An engine that holds every request until the test finishes it. */
    static final class HeldEngine implements InferenceEngine {
        final Map<String, RequestSink> sinks = new ConcurrentHashMap<>();

        @Override public boolean submit(EngineRequest request, RequestSink sink) {
            sinks.put(request.requestId(), sink);
            return true;
        }

        @Override public boolean abort(String requestId) {
            RequestSink sink = sinks.remove(requestId);
            if (sink != null) sink.onFinished(RequestSink.FinishReason.CANCELLED);
            return sink != null;
        }

        @Override public EngineStats stats() { return new EngineStats(0, 0, 0, 0, 0, 0, 0, 0); }
        @Override public int maxModelLength() { return 64; }
        @Override public void close() {}
    }

    final ObjectMapper mapper = new ObjectMapper();
    final TestEmitter<String> responses = new TestEmitter<>();
    final TestEmitter<String> markers = new TestEmitter<>();
    final TestEmitter<byte[]> deadLetters = new TestEmitter<>();
    final HeldEngine engine = new HeldEngine();
    RequestConsumer consumer;
    Frontend frontend;

    @BeforeEach
    void wire() {
        StreamMetrics metrics = new StreamMetrics(new SimpleMeterRegistry());
        BrokerWrites writes = new BrokerWrites();
        RequestTracing tracing = new RequestTracing(OpenTelemetry.noop());
        ResponsePublisher publisher = new ResponsePublisher();
        publisher.emitter = responses;
        publisher.codec = new EventCodec(mapper);
        publisher.metrics = metrics;
        publisher.tracing = tracing;
        publisher.writes = writes;
        AttemptLedger ledger = AttemptLedgerTest.ledger(new AttemptLedgerTest.RecordingEmitter(), 3);
        ledger.emitter = markers;
        DeadLetters dlq = new DeadLetters();
        dlq.emitter = deadLetters;
        dlq.metrics = metrics;
        dlq.writes = writes;
        frontend = new Frontend(engine, publisher, new Frontend.Config(1, Duration.ofMillis(1), 1, Duration.ofMillis(2),
                Duration.ofMinutes(1)));
        consumer = new RequestConsumer();
        consumer.codec = new RequestCodec(mapper);
        consumer.validator = new RequestValidator(new ServingLimits(64, 32, 16, Set.of("demo"), 4), new CharCodec());
        consumer.frontend = frontend;
        consumer.ledger = ledger;
        consumer.publisher = publisher;
        consumer.tracing = tracing;
        consumer.metrics = metrics;
        consumer.replyTopics = new ReplyTopics();
        consumer.replyPolicy = new ReplyTopicPolicy(Pattern.compile("herd\\.responses(\\..+)?"), "herd.responses",
                Set.of("herd.requests", "herd.control", "herd.attempts", "herd.requests.dlq"));
        consumer.deadLetters = dlq;
        consumer.crashFault = new CrashFault();
        consumer.crashFault.marker = java.util.Optional.empty();
        consumer.work = new PartitionWork();
        consumer.fence = io.herd.serving.PublishGate.ALWAYS_OPEN;
        consumer.revokeTimeout = Duration.ofSeconds(5);
        consumer.work.assign(List.of(0, 1)); // as onPartitionsAssigned does, without reading an attempts topic
    }

    @AfterEach
    void close() {
        frontend.close();
        consumer.close();
    }

    /** A record on {@code partition}; the flag turns true when it is acknowledged. */
    record Sent(Message<byte[]> message, AtomicBoolean acked, CompletionStage<Void> consumed) {}

    Sent send(int partition, long offset, String key, String json) {
        ConsumerRecord<String, byte[]> record = new ConsumerRecord<>("herd.requests", partition, offset, key,
                json.getBytes(StandardCharsets.UTF_8));
        AtomicBoolean acked = new AtomicBoolean();
        Message<byte[]> message = Message.of(record.value(), Metadata.of(new IncomingKafkaRecordMetadata<>(record, "requests")),
                () -> {
                    acked.set(true);
                    return CompletableFuture.completedFuture(null);
                });
        return new Sent(message, acked, consumer.consume(message));
    }

    static String request(String id) { return "{\"id\":\"" + id + "\",\"prompt\":\"hi\",\"max_tokens\":4,\"temperature\":0}"; }

    List<JsonNode> events(String id) {
        return responses.sent.stream().map(m -> {
            try {
                return mapper.readTree(m.getPayload());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).filter(n -> n.path("id").asText().equals(id)).toList();
    }

    List<String> markerStates(String id) {
        return markers.sent.stream().map(m -> (String) m.getPayload()).filter(p -> p.contains("\"" + id + "\"")).toList();
    }

    void revoke(int partition) {
        consumer.onPartitionsRevoked(null, List.of(new TopicPartition("herd.requests", partition)));
    }

    @Test
    void aRecordRevokedWhileWaitingForAdmissionNeverStarts() {
        send(0, 0, "first", request("first")); // takes the only admission slot
        await().until(() -> engine.sinks.containsKey("first"));
        Sent waiting = send(1, 0, "waiting", request("waiting"));
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(waiting.consumed()).as("held back by admission").isNotCompleted();
        revoke(1);
        engine.sinks.get("first").onFinished(RequestSink.FinishReason.LENGTH); // frees the slot
        await().until(() -> waiting.consumed().toCompletableFuture().isDone());
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(engine.sinks).doesNotContainKey("waiting");
        assertThat(markerStates("waiting")).as("no running marker").isEmpty();
        assertThat(events("waiting")).isEmpty();
        assertThat(waiting.acked()).as("left to the new owner").isFalse();
        assertThat(frontend.inFlight()).isZero();
    }

    @Test
    void aRevokeWaitsForTheRunningMarkerInFlightAndNoEventOfTheAttemptLeaves() throws Exception {
        markers.hold = true;
        Sent sent = send(0, 0, "marking", request("marking"));
        await().until(() -> !markers.pending.isEmpty());
        // The stream computes while its marker is on its way, but its events wait for the marker's acknowledgement.
        await().until(() -> engine.sinks.containsKey("marking"));
        RequestSink sink = engine.sinks.get("marking");
        sink.onStarted(3, 0);
        sink.onToken(CharCodec.id('a'), null);
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(events("marking")).as("held until the marker is acknowledged").isEmpty();
        CompletableFuture<Void> revoked = CompletableFuture.runAsync(() -> revoke(0));
        await().pollDelay(Duration.ofMillis(200)).until(() -> true);
        assertThat(revoked).as("the revoke waits for the marker").isNotDone();
        markers.release();
        revoked.get();
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(engine.sinks).as("the engine let go of it").doesNotContainKey("marking");
        assertThat(events("marking")).isEmpty();
        assertThat(sent.acked()).isFalse();
        assertThat(frontend.inFlight()).isZero();
    }

    @Test
    void eventsHeldForTheRunningMarkerLeaveInOrderOnceItIsAcknowledged() throws Exception {
        markers.hold = true;
        Sent sent = send(0, 0, "overlap", request("overlap"));
        await().until(() -> engine.sinks.containsKey("overlap"));
        RequestSink sink = engine.sinks.get("overlap");
        sink.onStarted(3, 0);
        sink.onToken(CharCodec.id('a'), null);
        sink.onToken(CharCodec.id('b'), null);
        sink.onFinished(RequestSink.FinishReason.LENGTH);
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(events("overlap")).as("nothing before the marker").isEmpty();
        markers.release();
        await().until(() -> sent.acked().get());
        List<JsonNode> events = events("overlap");
        assertThat(events).extracting(e -> e.path("type").asText()).startsWith("started").endsWith("done");
        assertThat(events).extracting(e -> e.path("seq").asInt()).isSorted().doesNotHaveDuplicates();
        assertThat(events.getLast().path("seq").asInt()).isEqualTo(events.size() - 1);
    }

    @Test
    void partitionsLostWithoutNoticeStopTheirStreamsAtTheNextAssignment() throws Exception {
        Sent sent = send(0, 0, "unnoticed", request("unnoticed"));
        await().until(() -> engine.sinks.containsKey("unnoticed"));
        RequestSink sink = engine.sinks.get("unnoticed");
        sink.onStarted(3, 0);
        await().until(() -> events("unnoticed").size() == 1);
        // The member was dropped and rejoined: the consumer now holds partition 1 only, and the loss of partition 0
        // never reached this listener.
        try (MockConsumer<String, byte[]> kafka = new MockConsumer<>("earliest")) {
            kafka.assign(List.of(new TopicPartition("herd.requests", 1)));
            consumer.onPartitionsAssigned(kafka, List.of());
        }
        await().until(() -> !engine.sinks.containsKey("unnoticed"));
        sink.onToken(CharCodec.id('a'), null);
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(events("unnoticed")).as("nothing after the loss was seen").hasSize(1);
        assertThat(sent.acked()).isFalse();
        assertThat(consumer.assignedPartitions()).containsExactly(1);
        assertThat(frontend.inFlight()).isZero();
    }

    @Test
    void aRevokeStopsARunningStreamAndReturnsOnlyAfterItsEventsAreAcknowledged() throws Exception {
        Sent sent = send(0, 0, "running", request("running"));
        await().until(() -> engine.sinks.containsKey("running"));
        RequestSink sink = engine.sinks.get("running");
        sink.onStarted(3, 0);
        await().until(() -> events("running").size() == 1);
        responses.hold = true;
        sink.onToken(CharCodec.id('a'), null);
        await().until(() -> responses.pending.size() == 1);
        CompletableFuture<Void> revoked = CompletableFuture.runAsync(() -> revoke(0));
        await().pollDelay(Duration.ofMillis(200)).until(() -> true);
        assertThat(revoked).as("a sent delta awaits the broker").isNotDone();
        responses.release();
        revoked.get();
        int after = events("running").size();
        sink.onToken(CharCodec.id('b'), null);
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(events("running")).as("nothing after the revoke returned").hasSize(after);
        assertThat(events("running")).noneMatch(e -> e.path("type").asText().equals("done"));
        assertThat(sent.acked()).isFalse();
        assertThat(frontend.inFlight()).isZero();
    }

    @Test
    void aFinishedRequestIsAcknowledgedAfterItsFinishedMarker() {
        Sent sent = send(0, 0, "ok", request("ok"));
        await().until(() -> engine.sinks.containsKey("ok"));
        engine.sinks.get("ok").onFinished(RequestSink.FinishReason.LENGTH);
        await().until(() -> sent.acked().get());
        assertThat(markerStates("ok")).hasSize(2).last().asString().contains("finished");
        assertThat(events("ok")).last().satisfies(e -> assertThat(e.path("type").asText()).isEqualTo("done"));
    }

    @Test
    void badRecordsAreDeadLetteredAnsweredAndAcknowledged() {
        Sent keyless = send(0, 0, null, request("nokey"));
        Sent hostile = send(0, 1, "evil", "{\"id\":\"evil\",\"prompt\":\"x\",\"reply_to\":\"herd.attempts\"}");
        await().until(() -> keyless.acked().get() && hostile.acked().get());
        assertThat(deadLetters.sent).hasSizeGreaterThanOrEqualTo(2);
        JsonNode error = events("evil").getFirst();
        assertThat(error.path("code").asText()).isEqualTo("reply_to_not_allowed");
        assertThat(responses.sent).as("nothing went to the attempts topic as a reply").allSatisfy(m ->
                assertThat(m.getMetadata(io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata.class)
                        .map(o -> o.getTopic()).orElse(null)).isNull());
        assertThat(markerStates("evil")).isEmpty();
    }

    @Test
    void aRequestPastTheAttemptCapIsDeadLetteredWithItsAttemptNumber() {
        for (int attempt = 1; attempt <= 3; attempt++) {
            consumer.ledger.decide(0, "crashy");
            consumer.ledger.markRunning(0, "crashy", attempt);
            consumer.ledger.release("crashy");
        }
        Sent sent = send(0, 5, "crashy", request("crashy"));
        await().until(() -> sent.acked().get());
        JsonNode error = events("crashy").getFirst();
        assertThat(error.path("code").asText()).isEqualTo("max_attempts_exceeded");
        assertThat(error.path("attempt").asInt()).isEqualTo(4);
        assertThat(deadLetters.sent).singleElement().satisfies(m -> assertThat(new String(m.getPayload(), StandardCharsets.UTF_8))
                .isEqualTo(request("crashy")));
        assertThat(engine.sinks).doesNotContainKey("crashy");
    }

    @Test
    void recordsOfAPartitionNotOwnedAreLeftAlone() {
        revoke(1);
        Sent sent = send(1, 0, "moved", request("moved"));
        assertThat(sent.consumed()).isCompleted();
        assertThat(sent.acked()).isFalse();
        assertThat(engine.sinks).doesNotContainKey("moved");
    }
}

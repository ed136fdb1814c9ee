package io.herd.serving;

import io.herd.engine.EngineRequest;
import io.herd.engine.EngineStats;
import io.herd.engine.InferenceEngine;
import io.herd.engine.RequestSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class FrontendTest {

    /** Records submissions; the test plays the engine thread by calling the sinks. */
    static final class ScriptedEngine implements InferenceEngine {
        final Map<String, RequestSink> sinks = new ConcurrentHashMap<>();
        final List<String> aborted = new CopyOnWriteArrayList<>();
        final AtomicBoolean full = new AtomicBoolean();

        @Override public boolean submit(EngineRequest request, RequestSink sink) {
            if (full.get()) return false;
            sinks.put(request.requestId(), sink);
            return true;
        }

        @Override public boolean abort(String requestId) {
            aborted.add(requestId);
            RequestSink sink = sinks.remove(requestId);
            if (sink == null) return false;
            sink.onFinished(RequestSink.FinishReason.CANCELLED);
            return true;
        }

        @Override public EngineStats stats() { return new EngineStats(0, 0, 0, 0, 0, 0, 0, 0); }

        @Override public int maxModelLength() { return 64; }

        @Override public void close() { }
    }

    record Published(StreamTarget target, int seq, StreamEvent event, CompletableFuture<Void> ack) {}

    /** Publishes into a list; acknowledges at once unless told to hold acknowledgements back. */
    static final class RecordingOutput implements StreamOutput {
        final List<Published> events = new CopyOnWriteArrayList<>();
        volatile boolean holdAcks;

        @Override public CompletionStage<Void> publish(StreamTarget target, int seq, StreamEvent event) {
            CompletableFuture<Void> ack = new CompletableFuture<>();
            events.add(new Published(target, seq, event, ack));
            if (!holdAcks) ack.complete(null);
            return ack;
        }

        List<StreamEvent> of(String id) {
            return events.stream().filter(p -> p.target().requestId().equals(id)).map(Published::event).toList();
        }
    }

    final ScriptedEngine engine = new ScriptedEngine();
    final RecordingOutput output = new RecordingOutput();
    final RequestValidator validator = new RequestValidator(new ServingLimits(64, 32, 16, java.util.Set.of("demo"), 4), new CharCodec());
    Frontend frontend;

    Frontend frontend(int maxInFlight, Duration maxLatency) {
        frontend = new Frontend(engine, output, new Frontend.Config(maxInFlight, maxLatency, 1, Duration.ofMillis(2),
                Duration.ofMinutes(1)));
        return frontend;
    }

    @AfterEach
    void close() {
        if (frontend != null) frontend.close();
    }

    AtomicReference<Frontend.Outcome> start(String id, CompletionRequest request) {
        AtomicReference<Frontend.Outcome> outcome = new AtomicReference<>();
        frontend.awaitCapacity().toCompletableFuture().join();
        frontend.start(validator.prepare(request), new StreamTarget(id, 1, null, Map.of()), System.nanoTime(),
                0L, (o, failure) -> outcome.set(o));
        return outcome;
    }

    static CompletionRequest prompt(String id, List<String> stop, Long deadlineMs) {
        return new CompletionRequest(id, null, "hi", null, 10, 0f, null, null, null, null, stop, null, null, null,
                deadlineMs, null, null, null);
    }

    RequestSink sink(String id) {
        await().until(() -> engine.sinks.containsKey(id));
        return engine.sinks.get(id);
    }

    @Test
    void aClosedPublishGateHoldsEventsInOrderAndReleasesThemWhenItOpens() {
        java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);
        frontend = new Frontend(engine, output, new Frontend.Config(4, Duration.ofMillis(1), 1, Duration.ofMillis(2),
                Duration.ofMinutes(1)), now -> open.get());
        var outcome = start("g", prompt("g", null, null));
        RequestSink sink = sink("g");
        sink.onStarted(3, 0);
        await().until(() -> output.of("g").size() == 1);
        open.set(false);
        sink.onToken(CharCodec.id('o'), null);
        sink.onToken(CharCodec.id('k'), null);
        sink.onFinished(RequestSink.FinishReason.LENGTH);
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(output.of("g")).as("held while closed").hasSize(1);
        assertThat(outcome.get()).isNull();
        open.set(true);
        await().until(() -> outcome.get() == Frontend.Outcome.COMPLETED);
        // Held events leave in seq order, none lost: the deltas (one or two, as batching fell) say "ok", then done.
        List<Integer> seqs = output.events.stream().map(Published::seq).toList();
        assertThat(seqs).isEqualTo(java.util.stream.IntStream.range(0, seqs.size()).boxed().toList());
        List<StreamEvent> events = output.of("g");
        assertThat(events.getLast()).isInstanceOf(StreamEvent.Done.class);
        assertThat(events.subList(1, events.size() - 1).stream().map(e -> ((StreamEvent.Delta) e).text())
                .collect(java.util.stream.Collectors.joining())).isEqualTo("ok");
    }

    @Test
    void eventsHeldForAnAbandonedStreamNeverLeave() {
        java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);
        frontend = new Frontend(engine, output, new Frontend.Config(4, Duration.ofMillis(1), 1, Duration.ofMillis(2),
                Duration.ofMinutes(1)), now -> open.get());
        var outcome = start("h", prompt("h", null, null));
        RequestSink sink = sink("h");
        sink.onStarted(3, 0);
        await().until(() -> output.of("h").size() == 1);
        open.set(false);
        sink.onToken(CharCodec.id('x'), null);
        await().pollDelay(Duration.ofMillis(50)).until(() -> true);
        frontend.abandon("h");
        await().until(() -> outcome.get() == Frontend.Outcome.ABANDONED);
        open.set(true);
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(output.of("h")).as("only the event sent before the gate closed").hasSize(1);
        assertThat(frontend.inFlight()).isZero();
    }

    @Test
    void anAbandonedStreamEndsOnlyAfterItsSentEventsAreAcknowledged() {
        frontend(4, Duration.ofMillis(20));
        var outcome = start("u", prompt("u", null, null));
        RequestSink sink = sink("u");
        output.holdAcks = true;
        sink.onStarted(3, 0);
        await().until(() -> output.of("u").size() == 1);
        frontend.abandon("u");
        await().pollDelay(Duration.ofMillis(100)).until(() -> true);
        assertThat(outcome.get()).as("the started event still awaits the broker").isNull();
        output.events.getFirst().ack().complete(null);
        await().until(() -> outcome.get() == Frontend.Outcome.ABANDONED);
    }

    @Test
    void aLostEventStopsTheStreamAndReportsPublishFailed() {
        frontend(4, Duration.ofMillis(20));
        var outcome = start("l", prompt("l", null, null));
        RequestSink sink = sink("l");
        output.holdAcks = true;
        sink.onStarted(3, 0);
        await().until(() -> output.of("l").size() == 1);
        output.events.getFirst().ack().completeExceptionally(new IllegalStateException("broker gone"));
        await().until(() -> outcome.get() == Frontend.Outcome.PUBLISH_FAILED);
        assertThat(engine.aborted).contains("l");
        sink.onToken(CharCodec.id('z'), null);
        await().pollDelay(Duration.ofMillis(50)).until(() -> true);
        assertThat(output.of("l")).as("nothing after the lost event").hasSize(1);
    }

    @Test
    void imageTokensAreCountedInStartedAndUsage() throws Exception {
        frontend(4, Duration.ofMillis(20));
        // Prompt ids 0..9 with one image run at [2, 7): five image tokens.
        ImagePrompts images = messages -> new ImagePrompts.Encoded(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
                () -> new io.herd.model.ForwardPass.InputEmbeddings(new int[0], new float[0]),
                List.of(new io.herd.engine.kv.MultimodalSpan(2, 7, io.herd.engine.kv.BlockHash.ofContent(new byte[] {1}))), 5);
        RequestValidator withImages = new RequestValidator(new ServingLimits(64, 32, 16, java.util.Set.of("demo"), 4),
                new CharCodec(), images);
        var request = new CompletionRequest("img", null, null, List.of(new RequestMessage("user", "x",
                List.of(new MessagePart("x", null), new MessagePart(null, "data:image/png;base64,AA==")))), 10, 0f, null,
                null, null, null, null, null, null, null, null, null, null, null);
        AtomicReference<Frontend.Outcome> outcome = new AtomicReference<>();
        frontend.awaitCapacity().toCompletableFuture().join();
        frontend.start(withImages.prepare(request), new StreamTarget("img", 1, null, Map.of()), System.nanoTime(), 0L,
                (o, failure) -> outcome.set(o));
        RequestSink sink = sink("img");
        sink.onStarted(10, 0);
        await().until(() -> output.of("img").size() == 1);
        sink.onToken(CharCodec.id('k'), null);
        await().until(() -> output.of("img").size() == 2);
        sink.onToken(CharCodec.EOS, null);
        sink.onFinished(RequestSink.FinishReason.STOP);
        await().until(() -> outcome.get() != null);
        assertThat(outcome.get()).as("%s", output.of("img")).isEqualTo(Frontend.Outcome.COMPLETED);
        List<StreamEvent> events = output.of("img");
        assertThat(((StreamEvent.Started) events.getFirst()).imageTokens()).isEqualTo(5);
        StreamEvent.Usage usage = ((StreamEvent.Done) events.getLast()).usage();
        assertThat(usage).isEqualTo(new StreamEvent.Usage(10, 2, 0, 5));
        var codec = new io.herd.messaging.EventCodec(new com.fasterxml.jackson.databind.ObjectMapper());
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertThat(json.readTree(codec.encode("img", 0, 1, events.getFirst())).get("image_tokens").asInt()).isEqualTo(5);
        assertThat(json.readTree(codec.encode("img", 2, 1, events.getLast())).get("usage").get("image_tokens").asInt()).isEqualTo(5);
        assertThat(json.readTree(codec.encode("a", 0, 1, new StreamEvent.Started(1, 3, 0))).has("image_tokens")).isFalse();
    }

    /** A chat with tools (auto) on the char codec: the prompt is the plain one, the tools ride on the request. */
    AtomicReference<Frontend.Outcome> startWithTools(String id) throws Exception {
        PreparedRequest plain = validator.prepare(prompt(id, null, null));
        ChatTools tools = new ChatTools(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]"), ChatTools.AUTO, null, true);
        CompletionRequest r = plain.request();
        CompletionRequest withTools = new CompletionRequest(r.id(), null, null, List.of(new RequestMessage("user", "hi")),
                10, 0f, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, tools);
        AtomicReference<Frontend.Outcome> outcome = new AtomicReference<>();
        frontend.awaitCapacity().toCompletableFuture().join();
        frontend.start(new PreparedRequest(withTools, plain.engineRequest(), List.of(), plain.codec()),
                new StreamTarget(id, 1, null, Map.of()), System.nanoTime(), 0L, (o, failure) -> outcome.set(o));
        return outcome;
    }

    @Test
    void aFinishedOutputThatIsACallEndsWithToolCalls() throws Exception {
        frontend(4, Duration.ofMillis(20));
        var outcome = startWithTools("t");
        RequestSink sink = sink("t");
        sink.onStarted(3, 0);
        for (char c : "[f(a=1)]".toCharArray()) sink.onToken(CharCodec.id(c), null);
        sink.onToken(CharCodec.EOS, null);
        sink.onFinished(RequestSink.FinishReason.STOP);
        await().until(() -> outcome.get() == Frontend.Outcome.COMPLETED);
        StreamEvent.Done done = (StreamEvent.Done) output.of("t").getLast();
        assertThat(done.finishReason()).isEqualTo("tool_calls");
        assertThat(done.toolCalls()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("f");
            assertThat(c.arguments()).isEqualTo("{\"a\":1}");
        });

        var cut = startWithTools("u");
        RequestSink cutSink = sink("u");
        cutSink.onStarted(3, 0);
        for (char c : "[f(a=1)]".toCharArray()) cutSink.onToken(CharCodec.id(c), null);
        cutSink.onFinished(RequestSink.FinishReason.LENGTH); // cut short by max_tokens: text, not a call
        await().until(() -> cut.get() == Frontend.Outcome.COMPLETED);
        StreamEvent.Done cutDone = (StreamEvent.Done) output.of("u").getLast();
        assertThat(cutDone.finishReason()).isEqualTo("length");
        assertThat(cutDone.toolCalls()).isNull();
    }

    @Test
    void atLowLoadEachTokenGoesOutAtOnceAndDoneCarriesUsage() {
        frontend(4, Duration.ofMillis(20));
        var outcome = start("a", prompt("a", null, null));
        RequestSink sink = sink("a");
        sink.onStarted(3, 1);
        await().until(() -> output.of("a").size() == 1);
        for (char c : "ok".toCharArray()) {
            int expected = output.of("a").size() + 1;
            sink.onToken(CharCodec.id(c), null);
            await().until(() -> output.of("a").size() == expected);
        }
        sink.onToken(CharCodec.EOS, null);
        sink.onFinished(RequestSink.FinishReason.STOP);
        await().until(() -> outcome.get() == Frontend.Outcome.COMPLETED);
        List<StreamEvent> events = output.of("a");
        assertThat(events.get(0)).isInstanceOf(StreamEvent.Started.class);
        assertThat(((StreamEvent.Delta) events.get(1)).text()).isEqualTo("o");
        assertThat(((StreamEvent.Delta) events.get(2)).text()).isEqualTo("k");
        StreamEvent.Done done = (StreamEvent.Done) events.getLast();
        assertThat(done.finishReason()).isEqualTo("stop");
        assertThat(done.usage()).isEqualTo(new StreamEvent.Usage(3, 3, 1));
        assertThat(done.timings().itlNanos()).hasSize(2);
        assertThat(output.events.stream().map(Published::seq)).containsExactly(0, 1, 2, 3, 4);
        assertThat(frontend.inFlight()).isZero();
    }

    @Test
    void whileAnEventAwaitsTheBrokerTheNextTokensWaitAndLeaveAsOneDelta() {
        frontend(4, Duration.ofMillis(30));
        output.holdAcks = true;
        start("b", prompt("b", null, null));
        RequestSink sink = sink("b");
        sink.onToken(CharCodec.id('x'), null);
        await().until(() -> output.of("b").size() == 1);
        sink.onToken(CharCodec.id('y'), null);
        sink.onToken(CharCodec.id('z'), null);
        // One event per stream in flight: past the latency bound y and z still wait, so a refused x is never
        // followed by a later delta (no hole in seq).
        await().pollDelay(Duration.ofMillis(150)).until(() -> true);
        assertThat(output.of("b")).hasSize(1);
        output.events.getFirst().ack().complete(null);
        await().atMost(Duration.ofSeconds(2)).until(() -> output.of("b").size() == 2);
        StreamEvent.Delta batched = (StreamEvent.Delta) output.of("b").get(1);
        assertThat(batched.text()).isEqualTo("yz");
        assertThat(batched.tokenIds()).containsExactly(CharCodec.id('y'), CharCodec.id('z'));
    }

    @Test
    void anAcknowledgementReleasesTheWaitingTokens() {
        frontend(4, Duration.ofSeconds(30));
        output.holdAcks = true;
        start("c", prompt("c", null, null));
        RequestSink sink = sink("c");
        sink.onToken(CharCodec.id('1'), null);
        await().until(() -> output.of("c").size() == 1);
        sink.onToken(CharCodec.id('2'), null);
        sink.onToken(CharCodec.id('3'), null);
        output.events.getFirst().ack().complete(null);
        await().until(() -> output.of("c").size() == 2);
        assertThat(((StreamEvent.Delta) output.of("c").get(1)).text()).isEqualTo("23");
    }

    @Test
    void aStopStringEndsTheStreamAndAbortsTheEngineRequest() {
        frontend(4, Duration.ofMillis(20));
        var outcome = start("d", prompt("d", List.of("EN"), null));
        RequestSink sink = sink("d");
        for (char c : "ab ENxyz".toCharArray()) sink.onToken(CharCodec.id(c), null);
        await().until(() -> outcome.get() == Frontend.Outcome.COMPLETED);
        String text = output.of("d").stream().filter(e -> e instanceof StreamEvent.Delta)
                .map(e -> ((StreamEvent.Delta) e).text()).reduce("", String::concat);
        assertThat(text).isEqualTo("ab ");
        assertThat(((StreamEvent.Done) output.of("d").getLast()).finishReason()).isEqualTo("stop");
        assertThat(engine.aborted).contains("d");
        assertThat(output.of("d").stream().filter(e -> e instanceof StreamEvent.Done)).hasSize(1);
    }

    @Test
    void cancelEndsWithDoneCancelled() {
        frontend(4, Duration.ofMillis(20));
        var outcome = start("e", prompt("e", null, null));
        sink("e").onToken(CharCodec.id('q'), null);
        frontend.cancel("e");
        await().until(() -> outcome.get() == Frontend.Outcome.COMPLETED);
        assertThat(((StreamEvent.Done) output.of("e").getLast()).finishReason()).isEqualTo("cancelled");
    }

    @Test
    void aCancelThatArrivesFirstIsRemembered() {
        frontend(4, Duration.ofMillis(20));
        frontend.cancel("f");
        await().pollDelay(Duration.ofMillis(20)).until(() -> true);
        var outcome = start("f", prompt("f", null, null));
        await().until(() -> outcome.get() == Frontend.Outcome.COMPLETED);
        assertThat(engine.sinks).doesNotContainKey("f");
        assertThat(((StreamEvent.Done) output.of("f").getLast()).finishReason()).isEqualTo("cancelled");
    }

    @Test
    void aPassedDeadlineEndsWithAnError() {
        frontend(4, Duration.ofMillis(20));
        var outcome = start("g", prompt("g", null, System.currentTimeMillis() + 50));
        await().atMost(Duration.ofSeconds(2)).until(() -> outcome.get() == Frontend.Outcome.COMPLETED);
        StreamEvent.Error error = (StreamEvent.Error) output.of("g").getLast();
        assertThat(error.code()).isEqualTo("deadline_exceeded");
        assertThat(engine.aborted).contains("g");
    }

    @Test
    void abandonStopsWithoutATerminalEvent() {
        frontend(4, Duration.ofMillis(20));
        var outcome = start("h", prompt("h", null, null));
        sink("h").onToken(CharCodec.id('s'), null);
        frontend.abandon("h");
        await().until(() -> outcome.get() == Frontend.Outcome.ABANDONED);
        assertThat(output.of("h")).noneMatch(e -> e instanceof StreamEvent.Done || e instanceof StreamEvent.Error);
        assertThat(frontend.inFlight()).isZero();
    }

    @Test
    void aFullAdmissionQueueHoldsTheNextRequestUntilASlotFrees() {
        frontend(1, Duration.ofMillis(20));
        var first = start("i", prompt("i", null, null));
        CompletableFuture<Void> second = frontend.awaitCapacity().toCompletableFuture();
        assertThat(second).isNotDone();
        assertThat(frontend.waitingForAdmission()).isEqualTo(1);
        sink("i").onFinished(RequestSink.FinishReason.LENGTH);
        await().until(() -> first.get() == Frontend.Outcome.COMPLETED);
        await().until(second::isDone);
    }

    @Test
    void aFullEngineQueueIsRetried() {
        frontend(4, Duration.ofMillis(20));
        engine.full.set(true);
        start("j", prompt("j", null, null));
        await().pollDelay(Duration.ofMillis(20)).until(() -> true);
        assertThat(engine.sinks).doesNotContainKey("j");
        engine.full.set(false);
        sink("j");
    }
}

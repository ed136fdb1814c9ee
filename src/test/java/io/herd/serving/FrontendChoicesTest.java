package io.herd.serving;

import io.herd.engine.RequestSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** n choices of one request: one event stream, choice indices on deltas, one done naming every choice's end. */
class FrontendChoicesTest {

    final FrontendTest.ScriptedEngine engine = new FrontendTest.ScriptedEngine();
    final FrontendTest.RecordingOutput output = new FrontendTest.RecordingOutput();
    final RequestValidator validator = new RequestValidator(new ServingLimits(64, 32, 16, java.util.Set.of("demo"), 4), new CharCodec());
    final Frontend frontend = new Frontend(engine, output, new Frontend.Config(8, Duration.ofMillis(1), 1,
            Duration.ofMillis(2), Duration.ofMinutes(1)));

    @AfterEach
    void close() { frontend.close(); }

    static CompletionRequest request(String id, int n, List<String> stop, Long seed) {
        return new CompletionRequest(id, null, "hi", null, 10, 0.8f, null, null, null, seed, stop, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, n, "user-7", null, null);
    }

    AtomicReference<Frontend.Outcome> start(PreparedRequest prepared) {
        AtomicReference<Frontend.Outcome> outcome = new AtomicReference<>();
        frontend.awaitCapacity().toCompletableFuture().join();
        frontend.start(prepared, new StreamTarget(prepared.id(), 1, null, Map.of()), System.nanoTime(), 0L,
                (o, failure) -> outcome.set(o));
        return outcome;
    }

    RequestSink sink(String engineId) {
        await().until(() -> engine.sinks.containsKey(engineId));
        return engine.sinks.get(engineId);
    }

    static String engineId(String id, int i) { return PreparedRequest.choiceEngineId(id, i); }

    @Test
    void laterChoicesEnterTheEngineAfterTheFirstHasATokenAndAllShareOneGapFreeStream() {
        var outcome = start(validator.prepare(request("r", 3, null, 5L)));
        RequestSink first = sink("r");
        first.onStarted(3, 0);
        await().pollDelay(Duration.ofMillis(50)).until(() -> true);
        assertThat(engine.sinks).as("only the first choice before its prompt is cached").containsOnlyKeys("r");
        first.onToken(CharCodec.id('a'), null);
        RequestSink second = sink(engineId("r", 1));
        RequestSink third = sink(engineId("r", 2));
        second.onStarted(3, 2);
        third.onStarted(3, 2);
        second.onToken(CharCodec.id('b'), null);
        third.onToken(CharCodec.id('c'), null);
        third.onToken(CharCodec.id('d'), null);
        first.onFinished(RequestSink.FinishReason.LENGTH);
        third.onFinished(RequestSink.FinishReason.STOP);
        await().pollDelay(Duration.ofMillis(30)).until(() -> true);
        assertThat(output.of("r")).noneMatch(e -> e instanceof StreamEvent.Done);
        second.onFinished(RequestSink.FinishReason.LENGTH);
        await().until(() -> outcome.get() != null);
        assertThat(outcome.get()).isEqualTo(Frontend.Outcome.COMPLETED);

        var published = output.events.stream().filter(p -> p.target().requestId().equals("r")).toList();
        for (int i = 0; i < published.size(); i++) assertThat(published.get(i).seq()).isEqualTo(i);
        List<StreamEvent> events = output.of("r");
        assertThat(events.getFirst()).isInstanceOf(StreamEvent.Started.class);
        assertThat(events.stream().filter(e -> e instanceof StreamEvent.Started)).hasSize(1);
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
        for (StreamEvent e : events) {
            if (e instanceof StreamEvent.Delta d) texts[d.index()].append(d.text());
        }
        assertThat(texts).extracting(StringBuilder::toString).containsExactly("a", "b", "cd");
        var done = (StreamEvent.Done) events.getLast();
        assertThat(events.stream().filter(e -> e instanceof StreamEvent.Done)).hasSize(1);
        assertThat(done.finishReason()).isEqualTo("length");
        assertThat(done.usage().completionTokens()).isEqualTo(4);
        assertThat(done.usage().promptTokens()).isEqualTo(3);
        assertThat(done.choices()).containsExactly(new StreamEvent.ChoiceEnd(0, "length", 1, 0),
                new StreamEvent.ChoiceEnd(1, "length", 1, 2), new StreamEvent.ChoiceEnd(2, "stop", 2, 2));
    }

    @Test
    void aSingleChoiceRequestKeepsItsEventsWithoutIndices() {
        var outcome = start(validator.prepare(request("one", 1, null, 5L)));
        RequestSink s = sink("one");
        s.onStarted(3, 0);
        s.onToken(CharCodec.id('a'), null);
        s.onFinished(RequestSink.FinishReason.LENGTH);
        await().until(() -> outcome.get() != null);
        List<StreamEvent> events = output.of("one");
        assertThat(events).filteredOn(e -> e instanceof StreamEvent.Delta)
                .allSatisfy(e -> assertThat(((StreamEvent.Delta) e).index()).isNull());
        assertThat(((StreamEvent.Done) events.getLast()).choices()).isNull();
        assertThat(engine.sinks).doesNotContainKey(engineId("one", 1));
    }

    @Test
    void aCancelEndsEveryChoiceWithOneDone() {
        var outcome = start(validator.prepare(request("c", 3, null, null)));
        RequestSink first = sink("c");
        first.onStarted(3, 0);
        first.onToken(CharCodec.id('a'), null);
        sink(engineId("c", 1));
        sink(engineId("c", 2));
        frontend.cancel("c");
        await().until(() -> outcome.get() != null);
        assertThat(engine.aborted).containsExactlyInAnyOrder("c", engineId("c", 1), engineId("c", 2));
        List<StreamEvent> events = output.of("c");
        assertThat(events.stream().filter(e -> e instanceof StreamEvent.Done)).hasSize(1);
        var done = (StreamEvent.Done) events.getLast();
        assertThat(done.finishReason()).isEqualTo("cancelled");
        assertThat(done.choices()).extracting(StreamEvent.ChoiceEnd::finishReason).containsOnly("cancelled");
    }

    @Test
    void aCancelBeforeTheOtherChoicesStartedNeverSubmitsThem() {
        var outcome = start(validator.prepare(request("early", 2, null, null)));
        sink("early").onStarted(3, 0);
        frontend.cancel("early");
        await().until(() -> outcome.get() != null);
        assertThat(engine.sinks).doesNotContainKey(engineId("early", 1));
        var done = (StreamEvent.Done) output.of("early").getLast();
        assertThat(done.choices()).extracting(StreamEvent.ChoiceEnd::finishReason).containsExactly("cancelled", "cancelled");
    }

    @Test
    void aStopStringEndsOnlyItsChoice() {
        var outcome = start(validator.prepare(request("s", 2, List.of("x"), null)));
        RequestSink first = sink("s");
        first.onStarted(3, 0);
        first.onToken(CharCodec.id('a'), null);
        RequestSink second = sink(engineId("s", 1));
        second.onToken(CharCodec.id('x'), null);
        await().until(() -> engine.aborted.contains(engineId("s", 1)));
        assertThat(engine.aborted).doesNotContain("s");
        first.onToken(CharCodec.id('b'), null);
        first.onFinished(RequestSink.FinishReason.LENGTH);
        await().until(() -> outcome.get() != null);
        var done = (StreamEvent.Done) output.of("s").getLast();
        assertThat(done.choices()).extracting(StreamEvent.ChoiceEnd::finishReason).containsExactly("length", "stop");
    }

    @Test
    void anErrorInOneChoiceStopsTheOthersAndEndsTheStreamOnce() {
        var outcome = start(validator.prepare(request("e", 2, null, null)));
        RequestSink first = sink("e");
        first.onStarted(3, 0);
        first.onToken(CharCodec.id('a'), null);
        RequestSink second = sink(engineId("e", 1));
        second.onError("internal", "boom");
        await().until(() -> outcome.get() != null);
        assertThat(engine.aborted).contains("e");
        List<StreamEvent> events = output.of("e");
        assertThat(events.getLast()).isInstanceOf(StreamEvent.Error.class);
        assertThat(events.stream().filter(e -> e instanceof StreamEvent.Error || e instanceof StreamEvent.Done)).hasSize(1);
    }

    @Test
    void anAbandonedRequestEndsOnlyWhenEveryChoiceLeftTheEngine() {
        var outcome = start(validator.prepare(request("a", 2, null, null)));
        RequestSink first = sink("a");
        first.onStarted(3, 0);
        first.onToken(CharCodec.id('a'), null);
        sink(engineId("a", 1));
        frontend.abandon("a");
        await().until(() -> outcome.get() != null);
        assertThat(outcome.get()).isEqualTo(Frontend.Outcome.ABANDONED);
        assertThat(engine.aborted).containsExactlyInAnyOrder("a", engineId("a", 1));
        assertThat(output.of("a")).noneMatch(e -> e instanceof StreamEvent.Done || e instanceof StreamEvent.Error);
    }

    @Test
    void choicesHaveTheirOwnSeedsReproduciblyAndTheFirstKeepsTheRequestSeed() {
        PreparedRequest p = validator.prepare(request("seeded", 3, null, 42L));
        PreparedRequest again = validator.prepare(request("seeded", 3, null, 42L));
        assertThat(p.choice(0).sampling().seed()).isEqualTo(42L);
        assertThat(List.of(p.choice(0).sampling().seed(), p.choice(1).sampling().seed(), p.choice(2).sampling().seed()))
                .doesNotHaveDuplicates();
        for (int i = 0; i < 3; i++) {
            assertThat(again.choice(i).sampling().seed()).isEqualTo(p.choice(i).sampling().seed());
            assertThat(p.choice(i).promptTokens()).isEqualTo(p.engineRequest().promptTokens());
        }
        assertThat(p.choice(2).requestId()).isEqualTo("seeded\u00002");
    }

    @Test
    void nAndUserAreBoundedAndAnIdMayNotHoldTheChoiceSeparator() {
        for (int n : new int[] {0, -1, RequestValidator.MAX_CHOICES + 1}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> validator.prepare(request("b", n, null, null)))
                    .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_parameter"));
        }
        assertThat(validator.prepare(request("b", RequestValidator.MAX_CHOICES, null, null)).choices()).isEqualTo(16);
        var longUser = new CompletionRequest("u", null, "hi", null, 10, 0.8f, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, 1, "u".repeat(RequestValidator.MAX_USER_LENGTH + 1), null, null);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> validator.prepare(longUser))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_parameter"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> validator.prepare(request("x\u00001", 1, null, null)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_id"));
    }
}

package io.herd.engine;

import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.sampling.SamplingParams;
import io.herd.runner.FakeForwardPass;
import io.herd.runner.ModelRunner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.herd.engine.SchedulerHarness.prompt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class EngineCoreTest {
    private static final int VOCAB = SchedulerHarness.VOCAB;
    private EngineCore engine;

    private GatedForwardPass model;

    private EngineCore start(int queueCapacity) {
        model = new GatedForwardPass(new FakeForwardPass(VOCAB, 8, 4096, 4, 256, 256));
        EngineConfig config = new EngineConfig(new KvCacheConfig(1 << 20, 4, 0), 32, 8, queueCapacity, 200,
                "fake", true, 0);
        engine = new EngineCore(config, new ModelRunner(model));
        return engine;
    }

    @AfterEach
    void close() {
        if (engine != null) {
            model.permits.release(1_000_000 - Math.min(1_000_000, model.permits.availablePermits()));
            engine.close();
        }
    }

    private static EngineRequest request(String id, int[] prompt, int maxTokens) {
        return new EngineRequest(id, prompt, SamplingParams.greedy(maxTokens), 0, Long.MAX_VALUE, null);
    }

    private static void awaitDone(RecordingSink s) throws InterruptedException {
        assertThat(s.done.await(10, TimeUnit.SECONDS)).as("request finished").isTrue();
    }

    @Test
    void streamsTheReferenceTokensOnTheEngineThreadAndCountsThem() throws Exception {
        start(16);
        RecordingSink a = new RecordingSink();
        RecordingSink b = new RecordingSink();
        assertThat(engine.submit(request("a", prompt(1, 20), 12), a)).isTrue();
        assertThat(engine.submit(request("b", prompt(1, 20), 12), b)).isTrue();
        awaitDone(a);
        awaitDone(b);
        int[] expected = FakeForwardPass.referenceGreedy(prompt(1, 20), 12, VOCAB, 8);
        assertThat(a.tokenArray()).containsExactly(expected);
        assertThat(b.tokenArray()).containsExactly(expected);
        assertThat(a.eventThread.getName()).isEqualTo("herd-engine");
        assertThat(a.finishReason).isEqualTo(RequestSink.FinishReason.LENGTH);
        await().atMost(Duration.ofSeconds(5)).until(() -> engine.stats().running() == 0);
        EngineStats st = engine.stats();
        assertThat(st.generationTokens()).isEqualTo(24);
        assertThat(st.promptTokens()).isEqualTo(40);
        assertThat(st.prefixCacheQueries()).isEqualTo(40);
        assertThat(st.kvCacheUsage()).isZero();
        assertThat(engine.maxModelLength()).isEqualTo(200);
    }

    @Test
    void submitReturnsFalseWhenTheQueueIsFullAndAbortCancelsAcrossSteps() throws Exception {
        start(2);
        model.permits.drainPermits();
        RecordingSink running = new RecordingSink();
        assertThat(engine.submit(request("running", prompt(2, 5), 100), running)).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> model.entered.get() == 1); // started: left the queue
        RecordingSink q1 = new RecordingSink();
        RecordingSink q2 = new RecordingSink();
        assertThat(engine.submit(request("q1", prompt(3, 5), 3), q1)).isTrue();
        assertThat(engine.submit(request("q2", prompt(4, 5), 3), q2)).isTrue();
        assertThat(engine.submit(request("q3", prompt(5, 5), 3), new RecordingSink())).isFalse();
        assertThatThrownBy(() -> engine.submit(request("q1", prompt(3, 5), 3), new RecordingSink()))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(engine.abort("q2")).isTrue();      // aborted while queued, between two steps
        assertThat(engine.abort("running")).isTrue(); // aborted while its step runs
        assertThat(engine.abort("nobody")).isFalse();
        model.permits.release(1_000_000);
        awaitDone(running);
        awaitDone(q2);
        awaitDone(q1);
        assertThat(running.finishReason).isEqualTo(RequestSink.FinishReason.CANCELLED);
        assertThat(running.tokens.size()).isLessThanOrEqualTo(2);
        assertThat(q2.finishReason).isEqualTo(RequestSink.FinishReason.CANCELLED);
        assertThat(q1.tokenArray()).containsExactly(FakeForwardPass.referenceGreedy(prompt(3, 5), 3, VOCAB, 8));
        await().atMost(Duration.ofSeconds(5)).until(() -> engine.stats().running() == 0 && engine.stats().waiting() == 0);
        assertThat(engine.stats().kvCacheUsage()).isZero();
        assertThat(engine.abort("q1")).isFalse();
        // Capacity is free again.
        RecordingSink later = new RecordingSink();
        assertThat(engine.submit(request("later", prompt(6, 5), 2), later)).isTrue();
        awaitDone(later);
    }

    @Test
    void invalidAndExpiredRequestsGetErrors() throws Exception {
        start(16);
        RecordingSink tooLong = new RecordingSink();
        engine.submit(request("long", prompt(7, 200), 5), tooLong);
        RecordingSink sampled = new RecordingSink();
        engine.submit(new EngineRequest("t", prompt(8, 5),
                new SamplingParams(0.7f, 0f, 0, 0f, 1L, 1f, 0f, 0f, new int[0], 5, false, 0), 0, Long.MAX_VALUE, null), sampled);
        RecordingSink late = new RecordingSink();
        engine.submit(new EngineRequest("late", prompt(9, 5), SamplingParams.greedy(5), 0, System.nanoTime() - 1, null), late);
        awaitDone(tooLong);
        awaitDone(sampled);
        awaitDone(late);
        assertThat(tooLong.errorCode).isEqualTo("invalid_request");
        assertThat(tooLong.errorMessage).contains("maxModelLength 200");
        assertThat(sampled.errorCode).isEqualTo("invalid_request");
        assertThat(sampled.errorMessage).contains("top_p");
        assertThat(late.errorCode).isEqualTo("deadline_exceeded");
        assertThat(late.startedCalls).isZero();
    }

    @Test
    void closeFailsLiveRequestsAndRefusesNewOnes() throws Exception {
        start(16);
        model.permits.drainPermits();
        RecordingSink live = new RecordingSink();
        engine.submit(request("live", prompt(10, 5), 100), live);
        await().atMost(Duration.ofSeconds(5)).until(() -> model.entered.get() == 1);
        model.permits.release(3);
        Thread closer = Thread.ofPlatform().start(engine::close);
        model.permits.release(1_000_000);
        closer.join(10_000);
        awaitDone(live);
        assertThat(live.errorCode).isEqualTo("unavailable");
        assertThatThrownBy(() -> engine.submit(request("x", prompt(11, 5), 1), new RecordingSink()))
                .isInstanceOf(IllegalStateException.class);
        assertThat(engine.failure()).isEmpty();
    }
}

package io.herd.engine;

import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.sampling.SamplingParams;
import io.herd.runner.FakeForwardPass;
import io.herd.runner.ModelRunner;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class EngineWarmUpTest {
    private static final int VOCAB = SchedulerHarness.VOCAB;

    private static EngineCore engine(GatedForwardPass model, int maxModelLength) {
        EngineConfig config = new EngineConfig(new KvCacheConfig(1 << 20, 4, 0), 256, 8, 16, maxModelLength, "fake", true, 0);
        return new EngineCore(config, new ModelRunner(model));
    }

    @Test
    void runsALongPromptWithShortOnesThenDecodesItAloneAndSharesNoCacheWithUsers() throws Exception {
        GatedForwardPass model = new GatedForwardPass(new FakeForwardPass(VOCAB, 8, 4096, 4, 256, 256));
        try (EngineCore engine = engine(model, 200)) {
            EngineWarmUp.Result r = EngineWarmUp.run(engine, VOCAB, 10_000);
            assertThat(r.error()).isNull();
            assertThat(r.submitted()).isEqualTo(1 + EngineWarmUp.SHORT_REQUESTS);
            assertThat(r.completed()).isEqualTo(r.submitted());
            // Many-token steps (this fake model's 8-token attention chunk splits every prompt: 8 tokens of one request
            // in a step), batched steps, and one-token steps of the long request alone. How many requests share the
            // first steps depends on when the engine thread picks them up (32 tokens if all four, 24 seen too), so no
            // step total is asserted.
            assertThat(model.steps).anySatisfy(s -> assertThat(s).contains(8));
            assertThat(model.steps).anySatisfy(s -> assertThat(s.length).isGreaterThan(1));
            assertThat(model.steps).anySatisfy(s -> assertThat(s).containsExactly(1));

            // A user prompt equal to the long warm-up prompt finds nothing cached: the warm-up used its own salt.
            int[] prompt = new int[EngineWarmUp.LONG_PROMPT];
            for (int i = 0; i < prompt.length; i++) prompt[i] = (int) ((7919L * i + 1) % VOCAB);
            RecordingSink user = new RecordingSink();
            assertThat(engine.submit(new EngineRequest("user", prompt, SamplingParams.greedy(2), 0, Long.MAX_VALUE, null), user)).isTrue();
            assertThat(user.done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(user.cachedTokens).isZero();
        }
    }

    @Test
    void abortsWhatIsLeftAtTheTimeoutSoUsersAreServed() throws Exception {
        GatedForwardPass model = new GatedForwardPass(new FakeForwardPass(VOCAB, 8, 4096, 4, 256, 256));
        model.permits.drainPermits(); // the first step blocks until the warm-up has timed out
        try (EngineCore engine = engine(model, 200)) {
            EngineWarmUp.Result r = EngineWarmUp.run(engine, VOCAB, 100);
            assertThat(r.submitted()).isEqualTo(1 + EngineWarmUp.SHORT_REQUESTS);
            assertThat(r.completed()).isZero();
            model.permits.release(1_000_000);
            RecordingSink user = new RecordingSink();
            assertThat(engine.submit(new EngineRequest("user", new int[]{1, 2, 3}, SamplingParams.greedy(2), 0, Long.MAX_VALUE, null), user)).isTrue();
            assertThat(user.done.await(10, TimeUnit.SECONDS)).isTrue();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> engine.stats().running() + engine.stats().waiting() == 0);
            // Run to the end, the warm-up takes 10+ steps (its long request generates 12 tokens); aborted, a few.
            assertThat(model.steps).hasSizeLessThan(6);
        }
    }

    @Test
    void doesNothingWhenNoPromptFitsTheModelLength() throws Exception {
        GatedForwardPass model = new GatedForwardPass(new FakeForwardPass(VOCAB, 8, 4096, 4, 256, 256));
        try (EngineCore engine = engine(model, EngineWarmUp.GENERATED + 1)) {
            EngineWarmUp.Result r = EngineWarmUp.run(engine, VOCAB, 1_000);
            assertThat(r.submitted()).isZero();
            assertThat(model.steps).isEmpty();
        }
    }
}

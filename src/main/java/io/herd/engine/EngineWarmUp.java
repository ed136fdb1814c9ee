package io.herd.engine;

import io.herd.model.sampling.SamplingParams;
import io.herd.model.sampling.TokenLogprobs;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a few internal requests through a started engine before it takes traffic, so that the JIT has compiled the
 * prefill, few-token and one-token kernels before the first real request: on a cold JVM the demo model's first
 * request took about a second to its first token, almost all of it compilation. One long prompt and a few short ones
 * go in together (many-token GEMM, batched prefill and decode, routed experts with a handful of tokens each), then the
 * long one decodes alone. Their prompts carry their own cache salt, so they never share prefix-cache blocks with user
 * requests; their blocks are freed as any finished request's are.
 */
public final class EngineWarmUp {
    private EngineWarmUp() {}

    /** Tokens of the long warm-up prompt: past the many-token kernels' thresholds. */
    static final int LONG_PROMPT = 80;
    static final int SHORT_PROMPT = 12;
    static final int SHORT_REQUESTS = 3;
    static final int GENERATED = 6;

    /**
     * @param completed requests that finished (out of {@code submitted})
     * @param error     the first error a warm-up request reported, or null
     */
    public record Result(int submitted, int completed, long millis, String error) {}

    /**
     * Runs the warm-up and waits for it, at most {@code timeoutMillis}, then aborts what is left; never throws for a
     * failed request.
     */
    public static Result run(InferenceEngine engine, int vocabSize, long timeoutMillis) throws InterruptedException {
        int room = engine.maxModelLength() - GENERATED;
        if (room < 2 || vocabSize < 2) return new Result(0, 0, 0, null);
        String salt = "herd-warm-up-" + System.nanoTime();
        long t0 = System.nanoTime();
        // The long request generates twice as many tokens: once the short ones finish it decodes alone.
        int[] lengths = new int[1 + SHORT_REQUESTS];
        lengths[0] = Math.min(LONG_PROMPT, room);
        for (int r = 1; r < lengths.length; r++) lengths[r] = Math.min(SHORT_PROMPT + r, room);
        CountDownLatch done = new CountDownLatch(lengths.length);
        AtomicInteger completed = new AtomicInteger();
        AtomicReference<String> error = new AtomicReference<>();
        int submitted = 0;
        for (int r = 0; r < lengths.length; r++) {
            int[] prompt = new int[lengths[r]];
            for (int i = 0; i < prompt.length; i++) prompt[i] = (int) ((31L * r + 7919L * i + 1) % vocabSize);
            int generated = r == 0 ? 2 * GENERATED : GENERATED;
            EngineRequest request = new EngineRequest(salt + "#" + r, prompt,
                    SamplingParams.greedy(Math.min(generated, engine.maxModelLength() - prompt.length)), 0, Long.MAX_VALUE, salt);
            if (!engine.submit(request, new Sink(done, completed, error))) {
                done.countDown();
                error.compareAndSet(null, "the engine refused warm-up request " + r);
                continue;
            }
            submitted++;
        }
        if (!done.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
            // Past the timeout the service starts anyway; what is left of the warm-up must not hold the engine.
            for (int r = 0; r < lengths.length; r++) engine.abort(salt + "#" + r);
        }
        return new Result(submitted, completed.get(), (System.nanoTime() - t0) / 1_000_000, error.get());
    }

    private record Sink(CountDownLatch done, AtomicInteger completed, AtomicReference<String> error) implements RequestSink {
        @Override public void onStarted(int promptTokens, int cachedTokens) {}
        @Override public void onToken(int tokenId, TokenLogprobs logprobs) {}

        @Override
        public void onFinished(FinishReason reason) {
            completed.incrementAndGet();
            done.countDown();
        }

        @Override
        public void onError(String code, String message) {
            error.compareAndSet(null, code + ": " + message);
            done.countDown();
        }
    }
}

package io.herd.runner;

import io.herd.engine.RunnerOutput;

/** Picks one request's next token from its logits; one instance per request, so it may keep RNG and history. */
public interface TokenSampler {

    /** {@code logits[offset, offset + vocab)} are the last position's logits. */
    RunnerOutput.SampledToken sample(float[] logits, int offset, int vocab);

    /** Creates a request's sampler. */
    interface Factory {
        TokenSampler create(io.herd.model.sampling.SamplingParams params, int[] promptTokens);

        /** Why these parameters cannot be honoured, or empty when they can. */
        java.util.Optional<String> unsupported(io.herd.model.sampling.SamplingParams params);
    }
}

package io.herd.serving;

import io.herd.engine.EngineRequest;
import io.herd.model.sampling.SamplingParams;

import java.util.List;

/** A validated, tokenized request ready for the engine, with the stop strings the serving layer enforces. */
public record PreparedRequest(CompletionRequest request, EngineRequest engineRequest, List<String> stop,
                              PromptCodec codec) {

    public String id() { return request.id(); }

    /** Number of choices (n). */
    public int choices() { return request.choices(); }

    /**
     * The engine request of choice {@code index}: choice 0 is {@link #engineRequest()} itself; choice i &gt; 0 has
     * the engine id {@code id + U+0000 + i} (ids may not hold U+0000, so it never meets another request's) and its
     * own seed, derived from the request's seed and i, so choices differ and a re-run samples them again exactly.
     * Only choice 0 computes prompt logprobs (the prompt is the same), so the others take the prefix-cache hit.
     */
    public EngineRequest choice(int index) {
        if (index == 0) return engineRequest;
        EngineRequest e = engineRequest;
        SamplingParams p = e.sampling();
        SamplingParams own = new SamplingParams(p.temperature(), p.topP(), p.topK(), p.minP(), choiceSeed(p.seed(), index),
                p.repetitionPenalty(), p.presencePenalty(), p.frequencyPenalty(), p.stopTokenIds(), p.maxTokens(),
                p.logprobs(), p.topLogprobs(), p.minTokens(), p.logitBiasIds(), p.logitBiasValues());
        return new EngineRequest(choiceEngineId(id(), index), e.promptTokens(), own, e.priority(), e.deadlineNanos(),
                e.cacheSalt(), e.multimodalSpans(), e.promptEmbeddings(), e.constraint(), -1);
    }

    static String choiceEngineId(String requestId, int index) {
        return index == 0 ? requestId : requestId + '\0' + index;
    }

    /** SplitMix64's finalizer over (seed, index): well-spread seeds for neighbouring indices. */
    static long choiceSeed(long seed, int index) {
        long z = seed + index * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    PromptCodec.IncrementalDecoder decoder() { return codec.newDecoder(); }
}

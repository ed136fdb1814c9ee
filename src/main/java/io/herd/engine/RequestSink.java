package io.herd.engine;

import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.TokenLogprobs;

import java.util.List;

/** Receives one request's events, in order, on the engine thread. Implementations must not block. */
public interface RequestSink {

    /** Scheduled for the first time: prompt length and how many prompt tokens came from the prefix cache. */
    void onStarted(int promptTokens, int cachedTokens);

    /**
     * Logprobs of prompt tokens, in prompt order from the second token on, as prefill computes them (only for a
     * request with {@code promptLogprobs} ≥ 0; before its first {@link #onToken}).
     */
    default void onPromptLogprobs(List<PromptTokenLogprob> logprobs) {}

    /** One generated token; logprobs is null unless the request asked for them. */
    void onToken(int tokenId, TokenLogprobs logprobs);

    /** The last event of a successful or cancelled request. */
    void onFinished(FinishReason reason);

    /** The last event of a failed request (code e.g. deadline_exceeded, internal). */
    void onError(String code, String message);

    enum FinishReason { STOP, LENGTH, CANCELLED }
}

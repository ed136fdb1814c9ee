package io.herd.engine;

import io.herd.model.sampling.TokenLogprobs;

/** Receives one request's events, in order, on the engine thread. Implementations must not block. */
public interface RequestSink {

    /** Scheduled for the first time: prompt length and how many prompt tokens came from the prefix cache. */
    void onStarted(int promptTokens, int cachedTokens);

    /** One generated token; logprobs is null unless the request asked for them. */
    void onToken(int tokenId, TokenLogprobs logprobs);

    /** The last event of a successful or cancelled request. */
    void onFinished(FinishReason reason);

    /** The last event of a failed request (code e.g. deadline_exceeded, internal). */
    void onError(String code, String message);

    enum FinishReason { STOP, LENGTH, CANCELLED }
}

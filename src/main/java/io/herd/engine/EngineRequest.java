package io.herd.engine;

import io.herd.engine.kv.MultimodalSpan;
import io.herd.model.sampling.SamplingParams;

import java.util.List;

/**
 * A tokenized request handed to the engine.
 *
 * @param requestId      unique id (the Kafka record key)
 * @param promptTokens   prompt token ids, BOS/chat format already applied
 * @param sampling       sampling and stop parameters (stop strings are the serving layer's business)
 * @param priority       lower value is served first (vLLM's convention); 0 default
 * @param deadlineNanos  {@link System#nanoTime()} after which the request fails with deadline_exceeded;
 *                       {@link Long#MAX_VALUE} for none
 * @param cacheSalt      tenant key mixed into prefix-cache hashes; null for the shared namespace
 * @param multimodalSpans prompt spans whose KV depends on image content (their hashes join the block hashes)
 * @param promptEmbeddings rows that replace the embeddings of some prompt tokens (image features on the
 *                         {@code <|patch|>} positions, indices into the prompt), computed by the runner; or null
 */
public record EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int priority,
                            long deadlineNanos, String cacheSalt, List<MultimodalSpan> multimodalSpans,
                            PromptEmbeddings promptEmbeddings) {
    public EngineRequest {
        multimodalSpans = multimodalSpans == null ? List.of() : List.copyOf(multimodalSpans);
    }

    /** A text-only request. */
    public EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int priority,
                         long deadlineNanos, String cacheSalt) {
        this(requestId, promptTokens, sampling, priority, deadlineNanos, cacheSalt, List.of(), null);
    }
}

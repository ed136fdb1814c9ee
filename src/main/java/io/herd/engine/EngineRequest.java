package io.herd.engine;

import io.herd.engine.kv.MultimodalSpan;
import io.herd.model.sampling.SamplingParams;
import io.herd.structured.OutputGrammar;

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
 * @param constraint     what the output must be (JSON Schema, regex, choice), compiled for the model's vocabulary;
 *                       null for free text
 * @param promptLogprobs -1: none; k ≥ 0: report each prompt token's logprob (after the first) with the top k
 *                       (vLLM's prompt_logprobs). Such a request takes no prefix-cache hit, since every prompt
 *                       position's logits are needed
 */
public record EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int priority,
                            long deadlineNanos, String cacheSalt, List<MultimodalSpan> multimodalSpans,
                            PromptEmbeddings promptEmbeddings, OutputGrammar constraint, int promptLogprobs) {
    public EngineRequest {
        multimodalSpans = multimodalSpans == null ? List.of() : List.copyOf(multimodalSpans);
        if (promptLogprobs < -1) throw new IllegalArgumentException("promptLogprobs " + promptLogprobs);
    }

    /** Without prompt logprobs. */
    public EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int priority,
                         long deadlineNanos, String cacheSalt, List<MultimodalSpan> multimodalSpans,
                         PromptEmbeddings promptEmbeddings, OutputGrammar constraint) {
        this(requestId, promptTokens, sampling, priority, deadlineNanos, cacheSalt, multimodalSpans, promptEmbeddings,
                constraint, -1);
    }

    /** A text-only request for free text. */
    public EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int priority,
                         long deadlineNanos, String cacheSalt) {
        this(requestId, promptTokens, sampling, priority, deadlineNanos, cacheSalt, List.of(), null, null);
    }

    /** A request with images, for free text. */
    public EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int priority,
                         long deadlineNanos, String cacheSalt, List<MultimodalSpan> multimodalSpans,
                         PromptEmbeddings promptEmbeddings) {
        this(requestId, promptTokens, sampling, priority, deadlineNanos, cacheSalt, multimodalSpans, promptEmbeddings, null);
    }

    /** A text-only request whose output is constrained. */
    public EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int priority,
                         long deadlineNanos, String cacheSalt, OutputGrammar constraint) {
        this(requestId, promptTokens, sampling, priority, deadlineNanos, cacheSalt, List.of(), null, constraint);
    }
}

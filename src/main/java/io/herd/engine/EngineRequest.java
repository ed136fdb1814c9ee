package io.herd.engine;

import io.herd.model.sampling.SamplingParams;

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
 */
public record EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int priority,
                            long deadlineNanos, String cacheSalt) {}

package io.herd.engine;

import io.herd.engine.kv.KvCacheConfig;

/**
 * Engine settings (built by the app layer from {@code herd.engine.*} / {@code herd.kv-cache.*}).
 *
 * @param kvCache             KV memory budget and block size (the executor's KV memory is sized from it)
 * @param maxNumBatchedTokens token budget of one step: decode tokens plus prompt chunks (chunked prefill)
 * @param maxNumSeqs          most sequences running at once
 * @param queueCapacity       most requests accepted but not yet started; {@code submit} returns false beyond it
 * @param maxModelLength      longest prompt + generation; lowered to what the model and KV pool can hold
 * @param modelId             mixed into prefix-cache hashes so a cache is never reused across models
 * @param enablePrefixCaching automatic prefix caching on/off
 * @param priorityAgingSteps  a waiting request's priority improves by one every this many steps (no starvation
 *                            across priorities); 0 = strict priority, FCFS within a priority
 */
public record EngineConfig(KvCacheConfig kvCache, int maxNumBatchedTokens, int maxNumSeqs, int queueCapacity,
                           int maxModelLength, String modelId, boolean enablePrefixCaching, int priorityAgingSteps) {

    public EngineConfig {
        if (kvCache == null) throw new IllegalArgumentException("kvCache is required");
        if (maxNumBatchedTokens <= 0) throw new IllegalArgumentException("maxNumBatchedTokens must be > 0: " + maxNumBatchedTokens);
        if (maxNumSeqs <= 0) throw new IllegalArgumentException("maxNumSeqs must be > 0: " + maxNumSeqs);
        if (queueCapacity <= 0) throw new IllegalArgumentException("queueCapacity must be > 0: " + queueCapacity);
        if (maxModelLength <= 1) throw new IllegalArgumentException("maxModelLength must be > 1: " + maxModelLength);
        if (modelId == null || modelId.isEmpty()) throw new IllegalArgumentException("modelId is required");
        if (priorityAgingSteps < 0) throw new IllegalArgumentException("priorityAgingSteps must be >= 0: " + priorityAgingSteps);
    }

    /** Defaults close to vLLM's: 2048-token steps, 256 sequences, prefix caching on, aging every 100 steps. */
    public static EngineConfig defaults(KvCacheConfig kvCache, int maxModelLength, String modelId) {
        return new EngineConfig(kvCache, 2048, 256, 1024, maxModelLength, modelId, true, 100);
    }

    public EngineConfig withMaxNumBatchedTokens(int v) {
        return new EngineConfig(kvCache, v, maxNumSeqs, queueCapacity, maxModelLength, modelId, enablePrefixCaching, priorityAgingSteps);
    }

    public EngineConfig withMaxNumSeqs(int v) {
        return new EngineConfig(kvCache, maxNumBatchedTokens, v, queueCapacity, maxModelLength, modelId, enablePrefixCaching, priorityAgingSteps);
    }

    public EngineConfig withQueueCapacity(int v) {
        return new EngineConfig(kvCache, maxNumBatchedTokens, maxNumSeqs, v, maxModelLength, modelId, enablePrefixCaching, priorityAgingSteps);
    }

    public EngineConfig withPrefixCaching(boolean v) {
        return new EngineConfig(kvCache, maxNumBatchedTokens, maxNumSeqs, queueCapacity, maxModelLength, modelId, v, priorityAgingSteps);
    }

    public EngineConfig withPriorityAgingSteps(int v) {
        return new EngineConfig(kvCache, maxNumBatchedTokens, maxNumSeqs, queueCapacity, maxModelLength, modelId, enablePrefixCaching, v);
    }
}

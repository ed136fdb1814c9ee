package io.herd.engine;

/** Counters and gauges the engine exposes for metrics (vLLM's meanings). */
public record EngineStats(int running, int waiting, double kvCacheUsage, long prefixCacheQueries,
                          long prefixCacheHits, long promptTokens, long generationTokens, long preemptions) {}

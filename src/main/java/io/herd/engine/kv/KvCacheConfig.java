package io.herd.engine.kv;

/**
 * How much memory the paged KV cache may take and how it is cut into blocks.
 *
 * @param bytes           total bytes for K and V across all layers and both block groups
 * @param blockSize       positions per block (16 by default, as in vLLM)
 * @param chunkedFraction share of {@code bytes} given to the CHUNKED group (RoPE layers); 0 derives it from the
 *                        model so that one sequence of the maximum model length fits both groups equally well
 */
public record KvCacheConfig(long bytes, int blockSize, double chunkedFraction) {

    public static final int DEFAULT_BLOCK_SIZE = 16;

    public KvCacheConfig {
        if (bytes <= 0) throw new IllegalArgumentException("kv-cache bytes must be > 0: " + bytes);
        if (blockSize <= 0) throw new IllegalArgumentException("kv-cache block size must be > 0: " + blockSize);
        if (!(chunkedFraction >= 0 && chunkedFraction < 1)) {
            throw new IllegalArgumentException("kv-cache chunked fraction must be in [0, 1): " + chunkedFraction);
        }
    }

    public static KvCacheConfig ofBytes(long bytes) {
        return new KvCacheConfig(bytes, DEFAULT_BLOCK_SIZE, 0);
    }
}

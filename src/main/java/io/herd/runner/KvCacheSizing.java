package io.herd.runner;

import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;

/**
 * KV memory arithmetic for Llama 4's two block groups. Per position and layer the cache holds K and V of
 * {@code nKvHeads × headDim} elements. NoPE layers (GLOBAL group) keep every position; RoPE layers (CHUNKED group)
 * keep only the current attention chunk of C positions. So a context of L tokens costs
 * <pre>  bytesPerContextToken(L) = g + r · min(L, C) / L,   g = 2·nNope·nKvHeads·headDim·e,  r = 2·nRope·nKvHeads·headDim·e</pre>
 * per token (e bytes per element), against {@code g + r} for a uniform cache: for Scout (12 NoPE, 36 RoPE layers)
 * that tends to a quarter as L grows.
 */
public final class KvCacheSizing {
    private KvCacheSizing() {}

    /** K and V of one position in one layer. */
    public static long bytesPerPositionPerLayer(Llama4Config c, int bytesPerElement) {
        return 2L * c.nKvHeads() * c.headDim() * bytesPerElement;
    }

    /** GLOBAL group bytes per position (all NoPE layers). */
    public static long globalBytesPerToken(Llama4Config c, int bytesPerElement) {
        return c.nNopeLayers() * bytesPerPositionPerLayer(c, bytesPerElement);
    }

    /** CHUNKED group bytes per position held (all RoPE layers). */
    public static long chunkedBytesPerToken(Llama4Config c, int bytesPerElement) {
        return c.nRopeLayers() * bytesPerPositionPerLayer(c, bytesPerElement);
    }

    /** A cache that keeps every position in every layer. */
    public static long uniformBytesPerToken(Llama4Config c, int bytesPerElement) {
        return c.nLayers() * bytesPerPositionPerLayer(c, bytesPerElement);
    }

    /** Bytes per token of a context of {@code contextLength} tokens with the two-group cache (formula above). */
    public static double bytesPerContextToken(Llama4Config c, int bytesPerElement, long contextLength) {
        if (contextLength <= 0) throw new IllegalArgumentException("contextLength must be > 0: " + contextLength);
        long chunkHeld = Math.min(contextLength, attentionChunk(c));
        return globalBytesPerToken(c, bytesPerElement)
                + (double) chunkedBytesPerToken(c, bytesPerElement) * chunkHeld / contextLength;
    }

    /** Chunk length of the RoPE layers; a model without chunking behaves as one chunk as long as the positions. */
    public static int attentionChunk(Llama4Config c) {
        return c.attentionChunkSize() > 0 ? c.attentionChunkSize() : c.maxPositionEmbeddings();
    }

    /**
     * Splits {@code kv.bytes()} between the groups and returns the block counts to build the forward pass's KV
     * memory with ({@code bytesPerElement}: what the forward pass stores, 4 for the CPU pass's fp32 cache).
     *
     * <p>The two groups are separate memories, so the split is a bet on the workload. Unless
     * {@link KvCacheConfig#chunkedFraction()} fixes it, the CHUNKED share is what one sequence of
     * {@code maxModelLength} tokens (or of the longest length the pool can hold, if shorter) needs next to its
     * GLOBAL share, so both groups fill up together at that length; never less than one whole chunk. Short-context
     * workloads (everything under one chunk) are better served by {@code chunkedFraction = r / (g + r)} (0.75 for
     * Scout), which holds as many tokens as a uniform cache.
     */
    public static ForwardPass.KvCacheSpec plan(Llama4Config c, int bytesPerElement, KvCacheConfig kv, int maxModelLength) {
        int b = kv.blockSize();
        long g = globalBytesPerToken(c, bytesPerElement) * b;
        long r = chunkedBytesPerToken(c, bytesPerElement) * b;
        if (g == 0) throw new IllegalArgumentException("model has no NoPE (global attention) layer; GLOBAL group would be empty");
        if (r == 0) {
            return new ForwardPass.KvCacheSpec(b, checkedBlocks(kv.bytes() / g, "GLOBAL"), 0, g, 0);
        }
        double fraction = kv.chunkedFraction();
        long chunkedBytes;
        if (fraction > 0) {
            chunkedBytes = (long) (kv.bytes() * fraction);
        } else {
            int chunk = attentionChunk(c);
            double length = maxModelLength;
            if (length > chunk) {
                // A length the pool cannot hold even once is no basis for the split: use the longest that fits.
                double fits = (kv.bytes() - (double) chunk * r / b) / ((double) g / b);
                length = Math.max(chunk, Math.min(length, fits));
            }
            double chunkedTokens = Math.min(length, chunk);
            fraction = r * chunkedTokens / (r * chunkedTokens + g * length);
            // Whole blocks for one full chunk, so rounding never caps sequences just below a chunk.
            long oneChunk = (long) Math.ceilDiv(Math.min(chunk, maxModelLength), b) * r;
            chunkedBytes = Math.min(kv.bytes() - g, Math.max((long) (kv.bytes() * fraction), oneChunk));
        }
        int nChunked = checkedBlocks(chunkedBytes / r, "CHUNKED");
        int nGlobal = checkedBlocks((kv.bytes() - chunkedBytes) / g, "GLOBAL");
        return new ForwardPass.KvCacheSpec(b, nGlobal, nChunked, g, r);
    }

    /** The block counts of a plan, as the CPU forward pass takes them. */
    public static io.herd.model.KvBlockCounts blocks(ForwardPass.KvCacheSpec spec) {
        return new io.herd.model.KvBlockCounts(spec.blockSize(), spec.nGlobalBlocks(), spec.nChunkedBlocks());
    }

    private static int checkedBlocks(long n, String group) {
        if (n < 1) throw new IllegalArgumentException("herd.kv-cache.bytes too small: no " + group + " block fits");
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("too many " + group + " blocks: " + n);
        return (int) n;
    }
}

package io.herd.model;

/**
 * How much KV memory a forward pass allocates, in blocks of {@code blockSize} positions per group.
 *
 * @param blockSize      positions per block (a divisor of the attention chunk size lets chunked blocks be recycled
 *                       exactly at chunk boundaries)
 * @param nGlobalBlocks  blocks of the GLOBAL group (NoPE layers, every position kept)
 * @param nChunkedBlocks blocks of the CHUNKED group (RoPE layers, only the current attention chunk is read)
 */
public record KvBlockCounts(int blockSize, int nGlobalBlocks, int nChunkedBlocks) {
    public KvBlockCounts {
        if (blockSize < 1) throw new IllegalArgumentException("blockSize must be positive, got " + blockSize);
        if (nGlobalBlocks < 0 || nChunkedBlocks < 0)
            throw new IllegalArgumentException("block counts must be >= 0: " + nGlobalBlocks + ", " + nChunkedBlocks);
    }

    /**
     * Enough blocks for one sequence of up to {@code maxPositions} positions as {@link SingleSequence} lays them
     * out: consecutive global blocks; chunked blocks recycled every attention chunk when blockSize divides it.
     */
    public static KvBlockCounts forSingleSequence(Llama4Config config, int maxPositions, int blockSize) {
        int nBlocks = Math.ceilDiv(maxPositions, blockSize);
        int chunk = config.attentionChunkSize();
        int nChunked = chunk % blockSize == 0 ? Math.min(nBlocks, chunk / blockSize) : nBlocks;
        return new KvBlockCounts(blockSize, nBlocks, nChunked);
    }
}

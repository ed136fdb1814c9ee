package io.herd.engine.kv;

/**
 * The block geometry the engine schedules against, as the executor's KV memory was actually sized.
 *
 * @param blockSize            positions per block
 * @param nGlobalBlocks        blocks of the GLOBAL group (NoPE layers, every position kept)
 * @param nChunkedBlocks       blocks of the CHUNKED group (RoPE layers, only the current attention chunk is read);
 *                             0 when the model has no chunked-attention layers
 * @param attentionChunkSize   chunk length C of the RoPE layers' attention; position p reads only
 *                             {@code [p / C * C, p]} in the CHUNKED group
 * @param bytesPerGlobalBlock  bytes of one GLOBAL block (K and V, all NoPE layers), for usage reporting
 * @param bytesPerChunkedBlock bytes of one CHUNKED block (K and V, all RoPE layers)
 */
public record KvCacheLayout(int blockSize, int nGlobalBlocks, int nChunkedBlocks, int attentionChunkSize,
                            long bytesPerGlobalBlock, long bytesPerChunkedBlock) {

    public KvCacheLayout {
        if (blockSize <= 0) throw new IllegalArgumentException("blockSize " + blockSize);
        if (nGlobalBlocks <= 0) throw new IllegalArgumentException("nGlobalBlocks must be > 0: " + nGlobalBlocks);
        if (nChunkedBlocks < 0) throw new IllegalArgumentException("nChunkedBlocks " + nChunkedBlocks);
        if (nChunkedBlocks > 0 && attentionChunkSize <= 0) {
            throw new IllegalArgumentException("attentionChunkSize must be > 0 with a CHUNKED group: " + attentionChunkSize);
        }
    }

    public boolean hasChunkedGroup() { return nChunkedBlocks > 0; }

    /** First position of the attention chunk that position {@code pos} belongs to. */
    public int chunkStart(int pos) { return pos / attentionChunkSize * attentionChunkSize; }

    /**
     * Most CHUNKED blocks one sequence holds at once. The scheduler never lets one step cross a chunk boundary, so
     * a sequence needs the blocks overlapping one chunk: C/B when blocks align with chunks, one more otherwise.
     */
    public int maxChunkedBlocksPerSequence() {
        return (attentionChunkSize + blockSize - 1) / blockSize + (attentionChunkSize % blockSize == 0 ? 0 : 1);
    }

    /** First position after the attention chunk of {@code pos}. */
    public int nextChunkStart(int pos) { return chunkStart(pos) + attentionChunkSize; }

    /**
     * Longest sequence the pool can hold alone: all GLOBAL blocks, provided the CHUNKED group holds one chunk.
     */
    public int maxSequenceTokens() {
        long global = (long) nGlobalBlocks * blockSize;
        if (hasChunkedGroup() && nChunkedBlocks < maxChunkedBlocksPerSequence()) {
            // Without room for a whole chunk a sequence can only grow to the chunked blocks it can hold.
            global = Math.min(global, (long) nChunkedBlocks * blockSize);
        }
        return (int) Math.min(Integer.MAX_VALUE, global);
    }
}

package io.herd.model;

import java.util.List;

/**
 * The Llama 4 text forward pass over a batch of sequence chunks with a paged KV cache. The CPU engine and the CUDA
 * backend implement it; the serving core (scheduler, model runner) only talks to this interface.
 *
 * <p>KV contract: the cache is paged in blocks of {@link KvCacheSpec#blockSize()} positions. There are two block
 * groups: GLOBAL (NoPE layers, every position kept) and CHUNKED (RoPE layers, chunked attention: only positions of
 * the query's own attention chunk are ever read). A sequence's {@link BlockTable} maps logical block
 * {@code pos / blockSize} to a physical block id in each group. In the chunked group, entries for blocks that lie
 * wholly before the start of the current attention chunk may be {@code -1} (released). K/V of position p are written
 * to {@code table[p / blockSize]}, slot {@code p % blockSize}, in every layer of the group.
 */
public interface ForwardPass extends AutoCloseable {

    Llama4Config config();

    /** Sizes of the KV memory this forward pass owns. */
    KvCacheSpec kvSpec();

    /**
     * Runs each chunk's tokens (positions {@code startPos … startPos+n-1}) through the model, writes their K/V into
     * the chunk's blocks, and returns per chunk the logits of its last {@code nLogits} tokens as one flat array
     * {@code [nLogits * vocab]} (an empty array when nLogits is 0). K/V of positions before startPos must already be
     * in the blocks. Chunks of one call belong to distinct sequences.
     */
    List<float[]> forward(List<SequenceChunk> chunks);

    /** Copies K/V of one block to another in both groups' layers (copy-on-write for shared partial blocks). */
    default void copyBlock(KvGroup group, int fromBlock, int toBlock) {
        throw new UnsupportedOperationException("copyBlock");
    }

    @Override
    void close();

    enum KvGroup { GLOBAL, CHUNKED }

    /**
     * One sequence's share of a step.
     *
     * @param embeddings rows that replace the token embeddings of some of these tokens (image features on the
     *                   {@code <|patch|>} positions), or null for none
     */
    record SequenceChunk(int[] tokens, int startPos, BlockTable blocks, int nLogits, InputEmbeddings embeddings) {
        public SequenceChunk {
            if (nLogits < 0 || nLogits > tokens.length) throw new IllegalArgumentException("nLogits " + nLogits);
            if (embeddings != null && embeddings.indices().length > 0
                    && embeddings.indices()[embeddings.indices().length - 1] >= tokens.length)
                throw new IllegalArgumentException("embedding row for token " + embeddings.indices()[embeddings.indices().length - 1]
                        + " of a chunk of " + tokens.length);
        }

        /** A chunk whose tokens all take their embedding rows. */
        public SequenceChunk(int[] tokens, int startPos, BlockTable blocks, int nLogits) {
            this(tokens, startPos, blocks, nLogits, null);
        }
    }

    /**
     * Input rows given instead of embedding lookups: token {@code indices[i]} of the chunk (ascending, distinct) takes
     * row i of {@code rows} ({@code [indices.length, dModel]}).
     */
    record InputEmbeddings(int[] indices, float[] rows) {
        public InputEmbeddings {
            for (int i = 0; i < indices.length; i++)
                if (indices[i] < 0 || (i > 0 && indices[i] <= indices[i - 1]))
                    throw new IllegalArgumentException("embedding indices must be ascending and non-negative");
        }

        /** The rows for tokens {@code from … to-1}, re-indexed from {@code from}; null when none fall there. */
        public InputEmbeddings slice(int from, int to, int dModel) {
            int a = java.util.Arrays.binarySearch(indices, from), b = java.util.Arrays.binarySearch(indices, to);
            a = a < 0 ? -a - 1 : a;
            b = b < 0 ? -b - 1 : b;
            if (a == b) return null;
            int[] idx = new int[b - a];
            for (int i = a; i < b; i++) idx[i - a] = indices[i] - from;
            return new InputEmbeddings(idx, java.util.Arrays.copyOfRange(rows, a * dModel, b * dModel));
        }
    }

    /** Physical block ids per logical block (position / blockSize), per group. */
    record BlockTable(int[] global, int[] chunked) {}

    /**
     * @param blockSize          positions per block
     * @param nGlobalBlocks      blocks in the GLOBAL group (NoPE layers)
     * @param nChunkedBlocks     blocks in the CHUNKED group (RoPE layers)
     * @param bytesPerGlobalBlock  K and V of one block across all NoPE layers
     * @param bytesPerChunkedBlock K and V of one block across all RoPE layers
     */
    record KvCacheSpec(int blockSize, int nGlobalBlocks, int nChunkedBlocks,
                       long bytesPerGlobalBlock, long bytesPerChunkedBlock) {}
}

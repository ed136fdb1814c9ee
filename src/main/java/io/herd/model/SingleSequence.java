package io.herd.model;

import java.util.List;

/**
 * Drives a {@link ForwardPass} for one sequence without a scheduler (tests, the {@code generate} command). Global
 * blocks are consecutive ids 0, 1, 2, …; chunked blocks are recycled every attention chunk (logical block b uses
 * physical block b mod (chunkSize / blockSize)) when the block size divides the chunk size and the forward pass has
 * that many chunked blocks, and entries before the current attention chunk are passed as -1, as a paged scheduler
 * would. Size the cache with {@link KvBlockCounts#forSingleSequence}.
 */
public final class SingleSequence {
    private final ForwardPass forwardPass;
    private final int blockSize, chunkSize, nGlobalBlocks, nChunkedBlocks;
    private final boolean recycleChunked;
    private int position;

    public SingleSequence(ForwardPass forwardPass) {
        this.forwardPass = forwardPass;
        ForwardPass.KvCacheSpec spec = forwardPass.kvSpec();
        this.blockSize = spec.blockSize();
        this.chunkSize = forwardPass.config().attentionChunkSize();
        this.nGlobalBlocks = spec.nGlobalBlocks();
        this.nChunkedBlocks = spec.nChunkedBlocks();
        this.recycleChunked = chunkSize % blockSize == 0 && nChunkedBlocks >= chunkSize / blockSize;
    }

    /** Positions this sequence can hold with the forward pass's blocks. */
    public int capacity() {
        long global = (long) nGlobalBlocks * blockSize;
        long chunked = recycleChunked ? Long.MAX_VALUE : (long) nChunkedBlocks * blockSize;
        return (int) Math.min(Integer.MAX_VALUE, Math.min(global, chunked));
    }

    /** Number of tokens already in the cache (the position of the next token). */
    public int position() { return position; }

    /** Forgets the sequence; the blocks are overwritten by the next call. */
    public void reset() { position = 0; }

    /**
     * Appends {@code tokens} (all in one forward call) and returns the logits of the last {@code nLogits} of them,
     * {@code [nLogits * vocab]}.
     */
    public float[] append(int[] tokens, int nLogits) {
        return append(tokens, nLogits, null);
    }

    /** As {@link #append(int[], int)}, with rows that replace some tokens' embeddings (null: none). */
    public float[] append(int[] tokens, int nLogits, ForwardPass.InputEmbeddings embeddings) {
        int end = position + tokens.length;
        if (end > capacity())
            throw new IllegalArgumentException("sequence of " + end + " positions exceeds the KV capacity of " + capacity());
        int nLogical = Math.ceilDiv(end, blockSize);
        int[] global = new int[nLogical], chunked = new int[nLogical];
        int chunkStart = position / chunkSize * chunkSize;
        int blocksPerChunk = chunkSize / blockSize;
        for (int b = 0; b < nLogical; b++) {
            global[b] = b;
            boolean whollyBefore = (long) (b + 1) * blockSize <= chunkStart;
            chunked[b] = whollyBefore ? -1 : recycleChunked ? b % blocksPerChunk : b;
        }
        var chunk = new ForwardPass.SequenceChunk(tokens, position, new ForwardPass.BlockTable(global, chunked), nLogits,
                embeddings);
        float[] logits = forwardPass.forward(List.of(chunk)).getFirst();
        position = end;
        return logits;
    }

    /** Appends the tokens and returns the logits of the last one. */
    public float[] prefill(int[] tokens) {
        return append(tokens, 1);
    }

    /** Appends one token and returns its logits. */
    public float[] decode(int token) {
        return append(new int[] {token}, 1);
    }

    /** Index of the largest value (lowest index on ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Greedy continuation: prefill the prompt, then decode {@code nNew} tokens one at a time. */
    public int[] greedy(int[] prompt, int nNew) {
        int[] out = new int[nNew];
        float[] logits = prefill(prompt);
        for (int i = 0; i < nNew; i++) {
            out[i] = argmax(logits);
            if (i + 1 < nNew) logits = decode(out[i]);
        }
        return out;
    }
}

package io.herd.compute.cuda;

/** The decode attention kernels (one query token per sequence over the paged KV cache). */
public enum DecodeAttentionKernel {
    /** One warp per (token, head); any even headDim up to 256. The kernel verified first, the reference. */
    WARP_PER_HEAD,
    /** headDim 128: one block of 4 warps per (token, head), the warps splitting the keys, 16-byte key loads. */
    BLOCK_PER_HEAD_HD128,
    /**
     * headDim 128, flash-decoding: each (token, head) spread over several blocks (splits chosen so the launch
     * fills the GPU) writing partial softmax states, then a merge kernel.
     */
    SPLIT_KEYS_HD128,
    /**
     * headDim 128, flash-decoding that serves the query heads sharing one KV head in one block (GQA groups of up
     * to 8), so each key and value is read once per token rather than once per query head; same merge kernel.
     */
    GQA_SPLIT_HD128;

    /** Largest query heads per KV head {@link #GQA_SPLIT_HD128} serves. */
    public static final int MAX_GQA_GROUP = 8;

    /** Whether this kernel serves heads of {@code headDim} (for any grouping of query heads). */
    public boolean supports(int headDim) {
        return this == WARP_PER_HEAD ? headDim % 2 == 0 && headDim <= 256 : headDim == 128;
    }

    /** Whether this kernel serves {@code nHeads} query heads over {@code nKv} KV heads of {@code headDim}. */
    public boolean supports(int headDim, int nHeads, int nKv) {
        if (!supports(headDim)) return false;
        return this != GQA_SPLIT_HD128 || (nKv > 0 && nHeads % nKv == 0 && nHeads / nKv <= MAX_GQA_GROUP);
    }
}

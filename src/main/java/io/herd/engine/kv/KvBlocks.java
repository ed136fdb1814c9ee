package io.herd.engine.kv;

/**
 * One sequence's block tables: logical block {@code pos / blockSize} → physical block id, per group. CHUNKED entries
 * before the current attention chunk are -1 once released.
 */
public final class KvBlocks {
    final IntArrayList global = new IntArrayList(16);
    final IntArrayList chunked = new IntArrayList(16);
    /** Leading logical blocks already registered in the prefix cache. */
    int nCachedBlocks;
    /** CHUNKED entries below this logical index are released (-1). */
    int nReleasedChunked;

    public int[] globalIds() { return global.toArray(); }

    public int[] chunkedIds() { return chunked.toArray(); }

    public int nReleasedChunked() { return nReleasedChunked; }
}

package io.herd.tokenizer;

import java.util.Arrays;

/**
 * Rank-based byte-pair encoding of one pre-token (SPEC §10.3): start from single bytes, repeatedly merge the adjacent
 * pair with the lowest merge priority (leftmost on ties) until no adjacent pair merges. Short pieces use a linear scan
 * over a compact array (what tiktoken does); long ones a heap over a linked list, so a pathological 25,000-byte
 * whitespace run stays O(n log n).
 */
final class BytePairEncoder {
    /** Above this many bytes the heap variant wins over rescanning the pair priorities after each merge. */
    static final int LINEAR_LIMIT = 128;

    private final int[] byteIds;
    private final ByteStringMap vocabulary;
    private final PairMergeTable merges;
    private final boolean wholePieceFirst;

    /**
     * @param byteIds         token id of each single byte value (all 256 must exist)
     * @param vocabulary      every base token's bytes → id
     * @param merges          pair → (priority, merged id)
     * @param wholePieceFirst emit a piece that is itself a token directly (tiktoken; HF {@code ignore_merges})
     */
    BytePairEncoder(int[] byteIds, ByteStringMap vocabulary, PairMergeTable merges, boolean wholePieceFirst) {
        this.byteIds = byteIds;
        this.vocabulary = vocabulary;
        this.merges = merges;
        this.wholePieceFirst = wholePieceFirst;
    }

    /** Appends the ids of {@code bytes[0, n)} to {@code out}. */
    void encode(byte[] bytes, int n, IntList out) {
        if (n == 0) return;
        if (n == 1) {
            out.add(byteIds[bytes[0] & 0xFF]);
            return;
        }
        if (wholePieceFirst) {
            int whole = vocabulary.get(bytes, 0, n);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        if (n <= LINEAR_LIMIT) encodeLinear(bytes, n, out);
        else encodeHeap(bytes, n, out);
    }

    /** Compact arrays: ids[i] is part i, pair[i] the packed merge of parts i and i+1 (-1: none). */
    void encodeLinear(byte[] bytes, int n, IntList out) {
        int[] ids = new int[n];
        long[] pair = new long[n];
        for (int i = 0; i < n; i++) ids[i] = byteIds[bytes[i] & 0xFF];
        int parts = n;
        for (int i = 0; i < parts - 1; i++) pair[i] = merges.get(ids[i], ids[i + 1]);
        pair[parts - 1] = -1L;
        while (parts > 1) {
            int best = -1;
            long bestPriority = Long.MAX_VALUE;
            for (int i = 0; i < parts - 1; i++) {
                long p = pair[i];
                if (p >= 0 && (p >>> 32) < bestPriority) {
                    bestPriority = p >>> 32;
                    best = i;
                }
            }
            if (best < 0) break;
            ids[best] = PairMergeTable.merged(pair[best]);
            int tail = parts - best - 2;
            System.arraycopy(ids, best + 2, ids, best + 1, tail);
            System.arraycopy(pair, best + 2, pair, best + 1, tail);
            parts--;
            pair[best] = best + 1 < parts ? merges.get(ids[best], ids[best + 1]) : -1L;
            if (best > 0) pair[best - 1] = merges.get(ids[best - 1], ids[best]);
        }
        for (int i = 0; i < parts; i++) out.add(ids[i]);
    }

    /**
     * Linked list of parts keyed by their first byte's position; a min-heap of (priority, position) with lazy
     * deletion: a popped entry is used only if its pair still exists with that priority.
     */
    void encodeHeap(byte[] bytes, int n, IntList out) {
        int[] ids = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        boolean[] dead = new boolean[n];
        long[] heap = new long[n * 2 + 8];
        int heapSize = 0;
        for (int i = 0; i < n; i++) {
            ids[i] = byteIds[bytes[i] & 0xFF];
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        for (int i = 0; i + 1 < n; i++) {
            long p = merges.get(ids[i], ids[i + 1]);
            if (p >= 0) {
                if (heapSize == heap.length) heap = Arrays.copyOf(heap, heapSize * 2);
                heapSize = push(heap, heapSize, ((p >>> 32) << 32) | i);
            }
        }
        while (heapSize > 0) {
            long top = heap[0];
            heapSize = pop(heap, heapSize);
            int pos = (int) top;
            int priority = (int) (top >>> 32);
            if (dead[pos] || next[pos] < 0) continue;
            long p = merges.get(ids[pos], ids[next[pos]]);
            if (p < 0 || PairMergeTable.priority(p) != priority) continue;
            int right = next[pos];
            ids[pos] = PairMergeTable.merged(p);
            dead[right] = true;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (heapSize + 2 > heap.length) heap = Arrays.copyOf(heap, heap.length * 2);
            if (next[pos] >= 0) {
                long q = merges.get(ids[pos], ids[next[pos]]);
                if (q >= 0) heapSize = push(heap, heapSize, ((q >>> 32) << 32) | pos);
            }
            if (prev[pos] >= 0) {
                long q = merges.get(ids[prev[pos]], ids[pos]);
                if (q >= 0) heapSize = push(heap, heapSize, ((q >>> 32) << 32) | prev[pos]);
            }
        }
        for (int i = 0; i >= 0; i = next[i]) out.add(ids[i]);
    }

    private static int push(long[] heap, int size, long value) {
        int i = size;
        heap[i] = value;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= heap[i]) break;
            long t = heap[parent];
            heap[parent] = heap[i];
            heap[i] = t;
            i = parent;
        }
        return size + 1;
    }

    private static int pop(long[] heap, int size) {
        int last = size - 1;
        heap[0] = heap[last];
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= last) break;
            int r = l + 1;
            int c = r < last && heap[r] < heap[l] ? r : l;
            if (heap[i] <= heap[c]) break;
            long t = heap[c];
            heap[c] = heap[i];
            heap[i] = t;
            i = c;
        }
        return last;
    }
}

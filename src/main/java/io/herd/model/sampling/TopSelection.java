package io.herd.model.sampling;

import java.util.Arrays;

/**
 * The k largest of many floats without sorting them all: a bounded min-heap of packed keys, O(n log k). A key packs
 * the value's order-preserving int bits with the index, so larger values come first and equal values in index
 * order, which makes every selection deterministic.
 */
final class TopSelection {
    private TopSelection() {}

    /** Indices of the {@code k} largest of {@code values[offset, offset+n)} (relative to offset), largest first. */
    static int[] top(float[] values, int offset, int n, int k) {
        k = Math.min(k, n);
        if (k <= 0) return new int[0];
        long[] keys;
        if (k * 8L >= n) {
            // Most of the array is wanted anyway: one primitive sort beats the heap.
            keys = new long[n];
            for (int i = 0; i < n; i++) keys[i] = key(values[offset + i], i);
            Arrays.sort(keys);
            keys = Arrays.copyOfRange(keys, n - k, n);
        } else {
            keys = new long[k];
            int size = 0;
            for (int i = 0; i < n; i++) {
                long key = key(values[offset + i], i);
                if (size < k) {
                    siftUp(keys, size++, key);
                } else if (key > keys[0]) {
                    siftDown(keys, k, key);
                }
            }
            Arrays.sort(keys);
        }
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = index(keys[k - 1 - i]);
        return out;
    }

    /** Larger value → larger key; on equal values the lower index has the larger key. */
    static long key(float value, int index) {
        int bits = Float.floatToRawIntBits(value);
        int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) sortable << 32) | (Integer.MAX_VALUE - index);
    }

    private static int index(long key) { return Integer.MAX_VALUE - (int) (key & 0xFFFFFFFFL); }

    private static void siftUp(long[] heap, int i, long key) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= key) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    /** Replaces the root (the smallest) with key and restores the heap. */
    private static void siftDown(long[] heap, int size, long key) {
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && heap[child + 1] < heap[child]) child++;
            if (heap[child] >= key) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = key;
    }
}

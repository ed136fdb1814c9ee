package io.herd.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge table: (left id, right id) → (priority, merged id), an open-addressing map over primitive longs so
 * that a lookup during encoding allocates nothing. Lower priority merges first.
 */
final class PairMergeTable {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final long[] values;
    private final int mask;
    private int size;

    PairMergeTable(int expectedPairs) {
        int capacity = Integer.highestOneBit(Math.max(16, expectedPairs * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
    }

    /** Adds a merge; an existing pair keeps its first (better or equal) entry unless the new priority is lower. */
    void put(int left, int right, int priority, int merged) {
        if (size * 2 >= keys.length) throw new IllegalStateException("merge table full: " + size + " pairs");
        long key = key(left, right);
        int slot = slot(key);
        while (keys[slot] != EMPTY) {
            if (keys[slot] == key) {
                if (priority < priority(values[slot])) values[slot] = pack(priority, merged);
                return;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        values[slot] = pack(priority, merged);
        size++;
    }

    /** The packed (priority, merged id) of a pair, or -1 when the pair does not merge. */
    long get(int left, int right) {
        long key = key(left, right);
        int slot = slot(key);
        long k;
        while ((k = keys[slot]) != EMPTY) {
            if (k == key) return values[slot];
            slot = (slot + 1) & mask;
        }
        return -1L;
    }

    int size() { return size; }

    static int priority(long packed) { return (int) (packed >>> 32); }

    static int merged(long packed) { return (int) packed; }

    private static long pack(int priority, int merged) { return ((long) priority << 32) | (merged & 0xFFFFFFFFL); }

    private static long key(int left, int right) { return ((long) left << 32) | (right & 0xFFFFFFFFL); }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }
}

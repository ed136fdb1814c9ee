package io.herd.tokenizer;

import java.util.Arrays;

/** Byte string → token id, open addressing over one backing array, so lookups of a byte range allocate nothing. */
final class ByteStringMap {
    private final byte[][] strings;
    private final int[] slots;
    private final int mask;

    /** @param strings strings[id] is the byte string of token id; null entries are skipped */
    ByteStringMap(byte[][] strings) {
        this.strings = strings;
        int capacity = Integer.highestOneBit(Math.max(16, strings.length * 2 - 1)) << 1;
        slots = new int[capacity];
        Arrays.fill(slots, -1);
        mask = capacity - 1;
        for (int id = 0; id < strings.length; id++) {
            byte[] s = strings[id];
            if (s == null) continue;
            int slot = hash(s, 0, s.length) & mask;
            while (slots[slot] != -1) {
                if (Arrays.equals(strings[slots[slot]], s)) {
                    throw new IllegalArgumentException("token bytes of id " + id + " repeat those of id " + slots[slot]);
                }
                slot = (slot + 1) & mask;
            }
            slots[slot] = id;
        }
    }

    /**
     * The id of each single byte 0..255 (byte-level BPE starts every piece from these); {@code missing} makes the
     * exception for the first byte that is not a token.
     */
    int[] singleByteIds(java.util.function.IntFunction<RuntimeException> missing) {
        int[] ids = new int[256];
        byte[] one = new byte[1];
        for (int b = 0; b < 256; b++) {
            one[0] = (byte) b;
            ids[b] = get(one, 0, 1);
            if (ids[b] < 0) throw missing.apply(b);
        }
        return ids;
    }

    /** The id whose bytes equal {@code buf[from, to)}, or -1. */
    int get(byte[] buf, int from, int to) {
        int slot = hash(buf, from, to) & mask;
        int id;
        while ((id = slots[slot]) != -1) {
            if (Arrays.equals(strings[id], 0, strings[id].length, buf, from, to)) return id;
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    private static int hash(byte[] buf, int from, int to) {
        int h = 0x811C9DC5;
        for (int i = from; i < to; i++) h = (h ^ buf[i]) * 0x01000193;
        return h ^ (h >>> 15);
    }
}

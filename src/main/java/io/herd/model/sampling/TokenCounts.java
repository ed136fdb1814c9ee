package io.herd.model.sampling;

import java.util.Arrays;

/** Token id → occurrence count, open addressing over ints: sparse, because a sequence uses few of 202,048 ids. */
final class TokenCounts {
    private int[] keys = new int[64];
    private int[] counts = new int[64];
    private int size;

    TokenCounts() { Arrays.fill(keys, -1); }

    void add(int id) {
        if (size * 2 >= keys.length) grow();
        int slot = find(keys, id);
        if (keys[slot] == -1) {
            keys[slot] = id;
            size++;
        }
        counts[slot]++;
    }

    int size() { return size; }

    /** Calls the action for each distinct id with its count. */
    void forEach(IdCountConsumer action) {
        for (int i = 0; i < keys.length; i++) if (keys[i] != -1) action.accept(keys[i], counts[i]);
    }

    @FunctionalInterface
    interface IdCountConsumer {
        void accept(int id, int count);
    }

    private static int find(int[] keys, int id) {
        int mask = keys.length - 1;
        int slot = (id * 0x9E3779B9) >>> 7 & mask;
        while (keys[slot] != -1 && keys[slot] != id) slot = (slot + 1) & mask;
        return slot;
    }

    private void grow() {
        int[] oldKeys = keys;
        int[] oldCounts = counts;
        keys = new int[oldKeys.length * 2];
        counts = new int[oldKeys.length * 2];
        Arrays.fill(keys, -1);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] == -1) continue;
            int slot = find(keys, oldKeys[i]);
            keys[slot] = oldKeys[i];
            counts[slot] = oldCounts[i];
        }
    }
}

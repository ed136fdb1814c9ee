package io.herd.messaging;

import java.nio.charset.StandardCharsets;
import java.util.function.LongPredicate;

/**
 * The attempt ledger's memory: request id → (partition, attempt, finished, time), in flat primitive arrays.
 *
 * <p>Why not a map of strings: an attempts partition may hold a million markers; as {@code String} keys with boxed
 * entries that is well over 100 MB of heap and as many objects for the collector to trace. Here an id is kept as a
 * 128-bit hash of its UTF-8 bytes (two independent 64-bit hashes: the chance that two of a million ids collide is
 * about 10^-27) and its marker packed into one long, 24 bytes per slot at a load factor of at most 1/2, so a million
 * markers take under 64 MB and no objects. Open addressing with linear probing; removal is by rebuilding (pruning
 * sweeps the whole table anyway). Synchronized: calls are short and come from a few threads.
 */
final class MarkerTable {

    /** A marker packed into a long: epoch seconds (32 bits) | partition (16) | attempt (15) | finished (1). */
    static long pack(int partition, int attempt, boolean finished, long epochMs) {
        if (partition < 0 || partition > 0xFFFF) throw new IllegalArgumentException("partition out of range: " + partition);
        if (attempt < 0 || attempt > 0x7FFF) throw new IllegalArgumentException("attempt out of range: " + attempt);
        long seconds = Math.max(0, Math.min(0xFFFF_FFFFL, epochMs / 1000));
        return seconds << 32 | (long) partition << 16 | (long) attempt << 1 | (finished ? 1 : 0);
    }

    static int partition(long marker) { return (int) (marker >>> 16) & 0xFFFF; }

    static int attempt(long marker) { return (int) (marker >>> 1) & 0x7FFF; }

    static boolean finished(long marker) { return (marker & 1) != 0; }

    static long epochMs(long marker) { return (marker >>> 32) * 1000; }

    /** Returned by {@link #get} when the id has no marker (no packed marker is all ones). */
    static final long ABSENT = -1L;

    private long[] hi;
    private long[] lo;
    private long[] markers;
    private int size;

    MarkerTable() { allocate(1024); }

    private void allocate(int capacity) {
        hi = new long[capacity];
        lo = new long[capacity];
        markers = new long[capacity];
        java.util.Arrays.fill(markers, ABSENT);
        size = 0;
    }

    synchronized long get(String id) {
        byte[] b = id.getBytes(StandardCharsets.UTF_8);
        long h = hashHi(b), l = hashLo(b);
        int i = slot(h);
        while (markers[i] != ABSENT) {
            if (hi[i] == h && lo[i] == l) return markers[i];
            i = (i + 1) & (markers.length - 1);
        }
        return ABSENT;
    }

    synchronized void put(String id, long marker) {
        byte[] b = id.getBytes(StandardCharsets.UTF_8);
        insert(hashHi(b), hashLo(b), marker);
    }

    private void insert(long h, long l, long marker) {
        if ((size + 1) * 2 > markers.length) grow();
        int i = slot(h);
        while (markers[i] != ABSENT) {
            if (hi[i] == h && lo[i] == l) {
                markers[i] = marker;
                return;
            }
            i = (i + 1) & (markers.length - 1);
        }
        hi[i] = h;
        lo[i] = l;
        markers[i] = marker;
        size++;
    }

    /** Forgets an id (backward-shift deletion keeps every probe chain unbroken). */
    synchronized void remove(String id) {
        byte[] b = id.getBytes(StandardCharsets.UTF_8);
        long h = hashHi(b), l = hashLo(b);
        int mask = markers.length - 1;
        int i = slot(h);
        while (markers[i] != ABSENT) {
            if (hi[i] == h && lo[i] == l) break;
            i = (i + 1) & mask;
        }
        if (markers[i] == ABSENT) return;
        int hole = i;
        for (int j = (i + 1) & mask; markers[j] != ABSENT; j = (j + 1) & mask) {
            int home = slot(hi[j]);
            // Move j into the hole unless its home lies cyclically in (hole, j].
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                hi[hole] = hi[j];
                lo[hole] = lo[j];
                markers[hole] = markers[j];
                hole = j;
            }
        }
        markers[hole] = ABSENT;
        size--;
    }

    /** Keeps only the markers {@code keep} accepts; returns how many were dropped. */
    synchronized int retain(LongPredicate keep) {
        long[] oh = hi, ol = lo, om = markers;
        int before = size;
        allocate(markers.length);
        for (int i = 0; i < om.length; i++) {
            if (om[i] != ABSENT && keep.test(om[i])) insert(oh[i], ol[i], om[i]);
        }
        return before - size;
    }

    synchronized int size() { return size; }

    /** Bytes held by the arrays (the whole cost of the table). */
    synchronized long bytes() { return 24L * markers.length; }

    private void grow() {
        long[] oh = hi, ol = lo, om = markers;
        allocate(markers.length * 2);
        for (int i = 0; i < om.length; i++) if (om[i] != ABSENT) insert(oh[i], ol[i], om[i]);
    }

    private int slot(long h) { return (int) (h ^ h >>> 32) & (markers.length - 1); }

    /** FNV-1a 64 with a final avalanche (the low bits pick the slot). */
    static long hashHi(byte[] b) {
        long h = 0xcbf29ce484222325L;
        for (byte x : b) {
            h ^= x & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** An independent 64-bit hash: multiply-xorshift over 8-byte words, seeded with the length. */
    static long hashLo(byte[] b) {
        long h = 0x9E3779B97F4A7C15L ^ b.length;
        int i = 0;
        for (; i + 8 <= b.length; i += 8) {
            long w = 0;
            for (int k = 7; k >= 0; k--) w = w << 8 | (b[i + k] & 0xff);
            h = (h ^ mix(w)) * 0xD6E8FEB86659FD93L;
        }
        long w = 0;
        for (int k = b.length - 1; k >= i; k--) w = w << 8 | (b[k] & 0xff);
        return mix(h ^ mix(w + 0x632BE59BD9B4E019L));
    }

    private static long mix(long z) {
        z = (z ^ z >>> 30) * 0xBF58476D1CE4E5B9L;
        z = (z ^ z >>> 27) * 0x94D049BB133111EBL;
        return z ^ z >>> 31;
    }
}

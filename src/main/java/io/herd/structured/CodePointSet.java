package io.herd.structured;

import java.util.Arrays;

/** An immutable set of Unicode code points as sorted, disjoint, non-adjacent closed ranges {@code [lo, hi]}. */
final class CodePointSet {
    static final int MAX = 0x10FFFF;
    static final CodePointSet EMPTY = new CodePointSet(new int[0]);
    static final CodePointSet ALL = range(0, MAX);

    /** lo0, hi0, lo1, hi1, … */
    private final int[] bounds;

    private CodePointSet(int[] bounds) { this.bounds = bounds; }

    static CodePointSet of(int codePoint) { return range(codePoint, codePoint); }

    static CodePointSet range(int lo, int hi) { return lo > hi ? EMPTY : new CodePointSet(new int[]{lo, hi}); }

    int nRanges() { return bounds.length / 2; }

    int lo(int i) { return bounds[2 * i]; }

    int hi(int i) { return bounds[2 * i + 1]; }

    boolean isEmpty() { return bounds.length == 0; }

    boolean contains(int cp) {
        int lo = 0, hi = nRanges() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cp < lo(mid)) hi = mid - 1;
            else if (cp > hi(mid)) lo = mid + 1;
            else return true;
        }
        return false;
    }

    CodePointSet union(CodePointSet other) {
        int[] all = new int[bounds.length + other.bounds.length];
        System.arraycopy(bounds, 0, all, 0, bounds.length);
        System.arraycopy(other.bounds, 0, all, bounds.length, other.bounds.length);
        return normalized(all);
    }

    CodePointSet complement() {
        int[] out = new int[bounds.length + 2];
        int n = 0;
        int next = 0;
        for (int i = 0; i < nRanges(); i++) {
            if (lo(i) > next) {
                out[n++] = next;
                out[n++] = lo(i) - 1;
            }
            next = hi(i) + 1;
        }
        if (next <= MAX) {
            out[n++] = next;
            out[n++] = MAX;
        }
        return new CodePointSet(Arrays.copyOf(out, n));
    }

    CodePointSet minus(CodePointSet other) { return intersect(other.complement()); }

    CodePointSet intersect(CodePointSet other) { return complement().union(other.complement()).complement(); }

    /** Sorts and merges arbitrary ranges. */
    private static CodePointSet normalized(int[] raw) {
        int n = raw.length / 2;
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) packed[i] = ((long) raw[2 * i] << 32) | raw[2 * i + 1];
        Arrays.sort(packed);
        int[] out = new int[raw.length];
        int m = 0;
        for (long p : packed) {
            int lo = (int) (p >>> 32), hi = (int) p;
            if (m > 0 && lo <= out[m - 1] + 1) {
                out[m - 1] = Math.max(out[m - 1], hi);
            } else {
                out[m++] = lo;
                out[m++] = hi;
            }
        }
        return new CodePointSet(Arrays.copyOf(out, m));
    }

    @Override
    public boolean equals(Object o) { return o instanceof CodePointSet c && Arrays.equals(bounds, c.bounds); }

    @Override
    public int hashCode() { return Arrays.hashCode(bounds); }
}

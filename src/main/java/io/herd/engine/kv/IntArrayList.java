package io.herd.engine.kv;

import java.util.Arrays;

/** A growable int array (token ids, block tables) without boxing. */
public final class IntArrayList {
    private int[] values;
    private int size;

    public IntArrayList(int capacity) { values = new int[Math.max(4, capacity)]; }

    public static IntArrayList of(int[] initial) {
        IntArrayList l = new IntArrayList(initial.length + 16);
        l.addAll(initial, 0, initial.length);
        return l;
    }

    public int size() { return size; }

    public int get(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException(i + " of " + size);
        return values[i];
    }

    public void set(int i, int v) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException(i + " of " + size);
        values[i] = v;
    }

    public void add(int v) {
        if (size == values.length) values = Arrays.copyOf(values, size * 2);
        values[size++] = v;
    }

    public void addAll(int[] src, int from, int to) {
        for (int i = from; i < to; i++) add(src[i]);
    }

    public void clear() { size = 0; }

    public int[] toArray() { return Arrays.copyOf(values, size); }

    public int[] toArray(int from, int to) {
        if (from < 0 || to > size || from > to) throw new IndexOutOfBoundsException(from + ".." + to + " of " + size);
        return Arrays.copyOfRange(values, from, to);
    }

    /** The backing array (valid up to size()); callers must not keep it across mutations. */
    int[] raw() { return values; }
}

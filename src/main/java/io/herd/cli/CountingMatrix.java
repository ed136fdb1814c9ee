package io.herd.cli;

import io.herd.compute.DType;
import io.herd.compute.Matrix;

import java.util.concurrent.atomic.LongAdder;

/**
 * Passes every call through to a matrix and adds the weight bytes each call reads to a shared counter: a matmul
 * streams the whole matrix once whatever the token count, a {@link #get} (embedding lookup) reads one element. So the
 * benchmark measures the bytes a decode step reads, routed experts included, instead of estimating them.
 */
final class CountingMatrix implements Matrix {
    private final Matrix inner;
    private final LongAdder bytes;
    private final LongAdder nanos;

    /** @param nanos receives the wall time spent inside matmul calls (to tell kernel time from the rest of a step) */
    CountingMatrix(Matrix inner, LongAdder bytes, LongAdder nanos) {
        this.inner = inner;
        this.bytes = bytes;
        this.nanos = nanos;
    }

    @Override public int nOut() { return inner.nOut(); }
    @Override public int nIn() { return inner.nIn(); }
    @Override public DType dtype() { return inner.dtype(); }
    @Override public long bytesRead() { return inner.bytesRead(); }

    @Override
    public void matmul(float[] x, float[] y, int nTokens) {
        if (nTokens > 0) bytes.add(inner.bytesRead());
        long t0 = System.nanoTime();
        inner.matmul(x, y, nTokens);
        nanos.add(System.nanoTime() - t0);
    }

    @Override
    public float get(int out, int in) {
        bytes.add(inner.dtype().bytes);
        return inner.get(out, in);
    }
}

package io.herd.cli;

import io.herd.compute.DType;
import io.herd.compute.Matrix;

import java.util.concurrent.atomic.LongAdder;

/**
 * Passes every call through to a matrix and adds what each call costs to shared {@link Counters}: a matmul streams
 * the whole matrix once whatever the token count, a {@link #get} (embedding lookup) reads one element. So the
 * benchmark measures the bytes a decode step reads, routed experts included, and the floating-point work of a
 * prefill, instead of estimating them.
 */
final class CountingMatrix implements Matrix {
    /**
     * @param bytes weight bytes read
     * @param nanos wall time spent inside matmul calls (tells kernel time from the rest of a step)
     * @param flops multiply-adds × 2 done by matmul calls
     */
    record Counters(LongAdder bytes, LongAdder nanos, LongAdder flops) {
        Counters() {
            this(new LongAdder(), new LongAdder(), new LongAdder());
        }

        void reset() {
            bytes.reset();
            nanos.reset();
            flops.reset();
        }
    }

    private final Matrix inner;
    private final Counters counters;

    CountingMatrix(Matrix inner, Counters counters) {
        this.inner = inner;
        this.counters = counters;
    }

    @Override public int nOut() { return inner.nOut(); }
    @Override public int nIn() { return inner.nIn(); }
    @Override public DType dtype() { return inner.dtype(); }
    @Override public long bytesRead() { return inner.bytesRead(); }

    @Override
    public void matmul(float[] x, float[] y, int nTokens) {
        if (nTokens > 0) counters.bytes.add(inner.bytesRead());
        long t0 = System.nanoTime();
        inner.matmul(x, y, nTokens);
        counters.nanos.add(System.nanoTime() - t0);
        counters.flops.add(2L * inner.nOut() * inner.nIn() * nTokens);
    }

    @Override
    public float get(int out, int in) {
        counters.bytes.add(inner.dtype().bytes);
        return inner.get(out, in);
    }
}

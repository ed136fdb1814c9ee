package io.herd.cli;

import io.herd.compute.DType;
import io.herd.compute.Matrix;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
     * @param byShape the same per matrix shape and token count, filled only when a profile is asked for
     */
    record Counters(LongAdder bytes, LongAdder nanos, LongAdder flops, Map<Shape, ShapeTotals> byShape) {
        Counters() {
            this(false);
        }

        Counters(boolean profile) {
            this(new LongAdder(), new LongAdder(), new LongAdder(), profile ? new ConcurrentHashMap<>() : null);
        }

        void reset() {
            bytes.reset();
            nanos.reset();
            flops.reset();
            if (byShape != null) byShape.clear();
        }

        /** One entry per matrix shape and token count, the most time first (empty without a profile). */
        List<Map<String, Object>> profile() {
            if (byShape == null) return List.of();
            return byShape.entrySet().stream()
                    .sorted((a, b) -> Long.compare(b.getValue().nanos.sum(), a.getValue().nanos.sum()))
                    .map(e -> {
                        ShapeTotals t = e.getValue();
                        double seconds = t.nanos.sum() / 1e9;
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("matrix", e.getKey().nOut() + "x" + e.getKey().nIn());
                        m.put("tokens", e.getKey().tokens());
                        m.put("calls", t.calls.sum());
                        m.put("ms", Math.round(seconds * 1e4) / 10.0);
                        m.put("gflops", Math.round(t.flops.sum() / seconds / 1e8) / 10.0);
                        m.put("weightGBps", Math.round(t.bytes.sum() / seconds / 1e8) / 10.0);
                        return m;
                    })
                    .toList();
        }

        private void add(Matrix m, int nTokens, long bytes, long nanos, long flops) {
            if (byShape == null) return;
            ShapeTotals t = byShape.computeIfAbsent(new Shape(m.nOut(), m.nIn(), nTokens), k -> new ShapeTotals());
            t.calls.increment();
            t.bytes.add(bytes);
            t.nanos.add(nanos);
            t.flops.add(flops);
        }
    }

    /** A profile row's key: the matrix shape and the tokens of the call. */
    record Shape(int nOut, int nIn, int tokens) {}

    /** What the calls of one shape and token count cost in all. */
    static final class ShapeTotals {
        final LongAdder calls = new LongAdder(), bytes = new LongAdder(), nanos = new LongAdder(), flops = new LongAdder();
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
        long bytes = nTokens > 0 ? inner.bytesRead() : 0;
        counters.bytes.add(bytes);
        long t0 = System.nanoTime();
        inner.matmul(x, y, nTokens);
        long nanos = System.nanoTime() - t0;
        long flops = 2L * inner.nOut() * inner.nIn() * nTokens;
        counters.nanos.add(nanos);
        counters.flops.add(flops);
        counters.add(inner, nTokens, bytes, nanos, flops);
    }

    @Override
    public float get(int out, int in) {
        counters.bytes.add(inner.dtype().bytes);
        return inner.get(out, in);
    }
}

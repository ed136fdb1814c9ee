package io.herd.cli;

import io.herd.compute.DType;
import io.herd.compute.Matrices;
import io.herd.compute.Matrix;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.compute.cpu.MemoryBandwidth;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code herd bench --kernels}: each matmul kernel on Llama 4-sized matrices (the shared expert's [8192, 5120]
 * row-major, an expert's gate_up [5120, 16384] input-major) at 1, 4, 8, 16, 64 and 128 tokens, with the read
 * bandwidth measured before and after in the same process. One token is reported as GB/s of weights (decode is
 * bandwidth-bound), more tokens as GFLOP/s; 1, 4 and 8 tokens stream copies of the matrix from memory (a single
 * copy would sit in the last-level cache), the larger counts reuse one. Where a native decode kernel runs, its
 * Vector API twin's one-token rate is reported beside it. Quick numbers for a comparison on one machine; the JMH
 * benchmarks are the careful ones.
 */
final class KernelBench {
    private KernelBench() {}

    private static final long WINDOW_NANOS = 400_000_000L;

    static Map<String, Object> run(CpuThreadPool pool) {
        Map<String, Object> r = new LinkedHashMap<>(SystemInfo.describe(pool));
        double bandwidthBefore = MemoryBandwidth.measureReadGBps(STREAM_BYTES, 5, pool);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16)) {
            rows.add(measure(dtype, "rowMajor", (w, a) -> Matrices.rowMajor(w, dtype, 8192, 5120)));
            rows.add(measure(dtype, "inputMajor", (w, a) -> Matrices.inputMajor(w, dtype, 5120, 16384)));
        }
        rows.add(measure(DType.BF16, "Q8 group 32",
                (w, a) -> Matrices.quantizeQ8(Matrices.rowMajor(w, DType.BF16, 8192, 5120), 32, a)));
        rows.add(measure(DType.BF16, "Q8 group 64",
                (w, a) -> Matrices.quantizeQ8(Matrices.rowMajor(w, DType.BF16, 8192, 5120), 64, a)));
        rows.add(measure(DType.BF16, "Q8 per row",
                (w, a) -> Matrices.quantizeQ8(Matrices.rowMajor(w, DType.BF16, 8192, 5120), 0, a)));
        double bandwidthAfter = MemoryBandwidth.measureReadGBps(STREAM_BYTES, 5, pool);
        r.put("readBandwidthGBpsBefore", BenchCommand.round(bandwidthBefore));
        r.put("readBandwidthGBpsAfter", BenchCommand.round(bandwidthAfter));
        double bandwidth = Math.max(bandwidthBefore, bandwidthAfter);
        for (Map<String, Object> row : rows)
            row.put("gemvFractionOfBandwidth", BenchCommand.round((Double) row.get("gemvGBps") / bandwidth));
        r.put("kernels", rows);
        r.put("loadAverageAfter", SystemInfo.loadAverage());
        return r;
    }

    /** Bytes the one-token runs cycle through: well past any last-level cache, so they stream from memory. */
    private static final long STREAM_BYTES = 1L << 30;

    /**
     * Builds enough copies of one matrix to fill {@link #STREAM_BYTES} (distinct memory, same values) and times the
     * one-token matmul cycling through them; a single 84 MB matrix would be served from a large L3 after the first
     * call. The 16- and 64-token runs are compute-bound and use the first copy.
     */
    private static Map<String, Object> measure(DType stored, String layout,
                                               java.util.function.BiFunction<MemorySegment, Arena, Matrix> make) {
        // Owner: this measurement; all copies are freed before the next one.
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(1);
            long elements = 8192L * 5120 * (layout.equals("inputMajor") ? 2 : 1);
            MemorySegment first = random(arena, stored, elements, rnd);
            Matrix m0 = make.apply(first, arena);
            List<Matrix> copies = new ArrayList<>(List.of(m0));
            long total = m0.bytesRead();
            while (total < STREAM_BYTES) {
                MemorySegment copy = arena.allocate(first.byteSize(), 64).copyFrom(first);
                Matrix m = make.apply(copy, arena);
                copies.add(m);
                total += m.bytesRead();
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("dtype", m0.dtype().name());
            row.put("layout", layout);
            row.put("shape", m0.nOut() + "x" + m0.nIn());
            row.put("gemvGBps", BenchCommand.round(m0.bytesRead() / bestSeconds(copies, 1, rnd) / 1e9));
            row.put("gemvKernel", Matrices.nativeDecode(m0) ? "native" : "Vector API");
            if (Matrices.nativeDecode(m0)) // the Vector API twin, which CPUs without the native kernels run
                row.put("gemvGBpsVectorApi", BenchCommand.round(m0.bytesRead()
                        / bestSeconds(copies.stream().map(Matrices::vectorApiOnly).toList(), 1, rnd) / 1e9));
            // Batched decode and routed experts: few tokens over weights streamed from memory, as decode reads them.
            for (int nTokens : new int[]{4, 8})
                row.put("gflops" + nTokens, BenchCommand.round(
                        2.0 * m0.nOut() * m0.nIn() * nTokens / bestSeconds(copies, nTokens, rnd) / 1e9));
            for (int nTokens : new int[]{16, 64, 128})
                row.put("gflops" + nTokens, BenchCommand.round(
                        2.0 * m0.nOut() * m0.nIn() * nTokens / bestSeconds(List.of(m0), nTokens, rnd) / 1e9));
            return row;
        }
    }

    /**
     * Per call, the best of three windows' averages after a warm-up window: other load on the machine only ever
     * slows a window down, and averaging over a window spans all the copies.
     */
    private static double bestSeconds(List<Matrix> matrices, int nTokens, SplittableRandom rnd) {
        Matrix m0 = matrices.getFirst();
        float[] x = new float[nTokens * m0.nIn()], y = new float[nTokens * m0.nOut()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        double best = Double.MAX_VALUE;
        for (int window = 0; window < 4; window++) {
            long start = System.nanoTime();
            int calls = 0;
            while (System.nanoTime() - start < WINDOW_NANOS || calls < matrices.size()) {
                matrices.get(calls % matrices.size()).matmul(x, y, nTokens);
                calls++;
            }
            if (window > 0) best = Math.min(best, (System.nanoTime() - start) / 1e9 / calls);
        }
        return best;
    }

    private static MemorySegment random(Arena arena, DType dtype, long n, SplittableRandom rnd) {
        MemorySegment seg = arena.allocate(n * dtype.bytes, 64);
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextDouble(-0.05, 0.05);
            switch (dtype) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
                case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(v));
                case Q8, GGML_BLOCKS -> throw new IllegalArgumentException("Q8 is made by quantizeQ8");
            }
        }
        return seg;
    }
}

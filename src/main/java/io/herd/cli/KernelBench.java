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
 * row-major, an expert's gate_up [5120, 16384] input-major) at 1, 16 and 64 tokens, with the read bandwidth measured
 * before and after in the same process. One token is reported as GB/s of weights (decode is bandwidth-bound), more
 * tokens as GFLOP/s. Quick numbers for a comparison on one machine; the JMH benchmarks are the careful ones.
 */
final class KernelBench {
    private KernelBench() {}

    private static final int[] TOKENS = {1, 16, 64};
    private static final long WINDOW_NANOS = 400_000_000L;

    static Map<String, Object> run(CpuThreadPool pool) {
        Map<String, Object> r = new LinkedHashMap<>(SystemInfo.describe(pool));
        double bandwidthBefore = MemoryBandwidth.measureReadGBps(1L << 30, 5, pool);
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rnd = new SplittableRandom(1);
            for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16)) {
                rows.add(measure(Matrices.rowMajor(random(arena, dtype, 8192L * 5120, rnd), dtype, 8192, 5120), "rowMajor", rnd));
                rows.add(measure(Matrices.inputMajor(random(arena, dtype, 5120L * 16384, rnd), dtype, 5120, 16384), "inputMajor", rnd));
            }
            Matrix bf16 = Matrices.rowMajor(random(arena, DType.BF16, 8192L * 5120, rnd), DType.BF16, 8192, 5120);
            rows.add(measure(Matrices.quantizeQ8(bf16, 64, arena), "rowMajor group 64", rnd));
            rows.add(measure(Matrices.quantizeQ8(bf16, 0, arena), "rowMajor per row", rnd));
        }
        double bandwidthAfter = MemoryBandwidth.measureReadGBps(1L << 30, 5, pool);
        r.put("readBandwidthGBpsBefore", BenchCommand.round(bandwidthBefore));
        r.put("readBandwidthGBpsAfter", BenchCommand.round(bandwidthAfter));
        double bandwidth = Math.max(bandwidthBefore, bandwidthAfter);
        for (Map<String, Object> row : rows)
            row.put("gemvFractionOfBandwidth", BenchCommand.round((Double) row.get("gemvGBps") / bandwidth));
        r.put("kernels", rows);
        r.put("loadAverageAfter", SystemInfo.loadAverage());
        return r;
    }

    private static Map<String, Object> measure(Matrix m, String layout, SplittableRandom rnd) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("dtype", m.dtype().name());
        row.put("layout", layout);
        row.put("shape", m.nOut() + "x" + m.nIn());
        for (int nTokens : TOKENS) {
            float[] x = new float[nTokens * m.nIn()], y = new float[nTokens * m.nOut()];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(-1, 1);
            double seconds = bestSeconds(m, x, y, nTokens);
            if (nTokens == 1) row.put("gemvGBps", BenchCommand.round(m.bytesRead() / seconds / 1e9));
            else row.put("gflops" + nTokens, BenchCommand.round(2.0 * m.nOut() * m.nIn() * nTokens / seconds / 1e9));
        }
        return row;
    }

    /** Fastest call over three windows after a warm-up window: other load on the machine only ever slows a call. */
    private static double bestSeconds(Matrix m, float[] x, float[] y, int nTokens) {
        double best = Double.MAX_VALUE;
        for (int window = 0; window < 4; window++) {
            long start = System.nanoTime();
            while (System.nanoTime() - start < WINDOW_NANOS) {
                long t0 = System.nanoTime();
                m.matmul(x, y, nTokens);
                if (window > 0) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
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
                case Q8 -> throw new IllegalArgumentException("Q8 is made by quantizeQ8");
            }
        }
        return seg;
    }
}

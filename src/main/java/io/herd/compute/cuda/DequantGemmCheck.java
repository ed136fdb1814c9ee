package io.herd.compute.cuda;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides on the device at hand from how many token rows dense INT8/INT4 linears take the dequantize + cuBLAS path
 * ({@link CudaOps#useDequantGemmFrom}) instead of the verified int8-activation GEMV kernels. Both run on the same
 * random weights with random per-group scales (3500 × 5120, so three dequantization blocks, the last one partial)
 * for 16, 37 and 64 rows; the new path must agree within {@value #TOLERANCE} of max |reference| (the two round the
 * activations differently, bf16 against int8 per 32 inputs, so they are not bit-equal: a layout or scale-index
 * fault is off by order one), with every candidate block size. Each block size is then timed on a 16384 × 5120
 * matrix at 8, 16, 32 and 64 rows against the GEMV kernel currently selected; the block size fastest at 64 rows is
 * kept, and the path is used from the smallest row count from which it is faster at every larger one.
 */
public final class DequantGemmCheck {
    public static final double TOLERANCE = 2e-2;
    private static final int N_IN = 5120;
    private static final int CHECK_OUT = 3500;
    private static final int GROUP = 128;
    private static final int[] CHECK_ROWS = {16, 37, 64};
    private static final int[] TIMED_ROWS = {8, 16, 32, 64};
    private static final int MAX_ROWS = 64;

    /** Largest relative difference, µs per call of each path by timed row count, and the chosen threshold. */
    public record Result(WeightFormat format, double maxError, Map<Integer, Double> microsGemv,
                         Map<Integer, Double> microsDequantGemm, int minRows, long blockElements,
                         Map<Long, Double> micros64RowsByBlock) {
        public boolean used() {
            return minRows != Integer.MAX_VALUE;
        }

        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", format.name());
            m.put("max_rel_error_vs_gemv", maxError);
            m.put("tolerance", TOLERANCE);
            microsGemv.forEach((r, us) -> m.put("gemv_us_16384x5120_rows" + r, us));
            microsDequantGemm.forEach((r, us) -> m.put("dequant_gemm_us_16384x5120_rows" + r, us));
            m.put("dequant_gemm_from_rows", used() ? minRows : null);
            m.put("block_weights", blockElements);
            micros64RowsByBlock.forEach((b, us) -> m.put("dequant_gemm_us_rows64_block" + b, us));
            return m;
        }

        public String summary() {
            return String.format("%s dequant+cuBLAS linear: %s, blocks of %d weights (err %.1e vs GEMV; us GEMV %s, "
                            + "dequant+GEMM %s; 64 rows by block %s)", format,
                    used() ? "from " + minRows + " rows" : "not used", blockElements, maxError, microsGemv,
                    microsDequantGemm, micros64RowsByBlock);
        }
    }

    private DequantGemmCheck() {}

    /**
     * Runs the check for {@code format} (INT8 or INT4) with {@code ops} (whose threshold it leaves as it was) and
     * returns the decision without applying it. Frees everything it allocates except the scratch it reserves.
     */
    public static Result select(CudaOps ops, WeightFormat format) {
        if (!format.quantized()) throw new IllegalArgumentException("dequant GEMM serves INT8/INT4, not " + format);
        CudaDevice device = ops.device();
        int was = ops.dequantGemmMinRows();
        long wasBlock = ops.dequantBlockElements();
        ops.reserveActivationScratch(MAX_ROWS, N_IN);
        ops.reserveBf16Scratch((long) MAX_ROWS * N_IN);
        ops.reserveDequantScratch(N_IN);  // every candidate block size
        long mark = device.allocationMark();
        try {
            DeviceWeights up = new DeviceWeights(ops);
            DeviceMatrix m = up.random(1, CHECK_OUT, N_IN, format, GROUP, 51);
            // random scales of both signs, so a wrong scale index shows
            ops.fillRandomBf16(m.scales(), (long) CHECK_OUT * (N_IN / GROUP), 52, 0.02f);
            long x = device.alloc((long) MAX_ROWS * N_IN * 4), y = device.alloc((long) MAX_ROWS * CHECK_OUT * 4);
            ops.fillRandomF32(x, (long) MAX_ROWS * N_IN, 53, 1f);
            double err = 0;
            for (long block : CudaOps.DEQUANT_BLOCK_CANDIDATES) {
                ops.useDequantBlockElements(block);
                for (int rows : CHECK_ROWS) {
                    for (boolean accumulate : new boolean[] {false, true}) {
                        float[] ref = run(ops, m, x, y, rows, Integer.MAX_VALUE, accumulate);
                        float[] got = run(ops, m, x, y, rows, 1, accumulate);
                        err = Math.max(err, relError(ref, got));
                    }
                }
            }
            Map<Integer, Double> gemv = new LinkedHashMap<>(), dq = new LinkedHashMap<>();
            Map<Long, Double> byBlock = new LinkedHashMap<>();
            int minRows = Integer.MAX_VALUE;
            long bestBlock = CudaOps.DEQUANT_BLOCK_ELEMENTS;
            if (err <= TOLERANCE) {
                DeviceMatrix big = up.random(1, 16384, N_IN, format, GROUP, 54);
                long yBig = device.alloc((long) MAX_ROWS * 16384 * 4);
                double bestUs = Double.POSITIVE_INFINITY;
                for (long block : CudaOps.DEQUANT_BLOCK_CANDIDATES) {
                    ops.useDequantBlockElements(block);
                    double us = Double.POSITIVE_INFINITY;
                    for (int round = 0; round < 3; round++) us = Math.min(us, time(ops, big, x, yBig, MAX_ROWS, 1));
                    byBlock.put(block, us);
                    if (us < bestUs) {
                        bestUs = us;
                        bestBlock = block;
                    }
                }
                ops.useDequantBlockElements(bestBlock);
                for (int rows : TIMED_ROWS) {
                    gemv.put(rows, Double.POSITIVE_INFINITY);
                    dq.put(rows, Double.POSITIVE_INFINITY);
                }
                for (int round = 0; round < 3; round++) {
                    for (int rows : TIMED_ROWS) {
                        gemv.merge(rows, time(ops, big, x, yBig, rows, Integer.MAX_VALUE), Math::min);
                        dq.merge(rows, time(ops, big, x, yBig, rows, 1), Math::min);
                    }
                }
                for (int i = TIMED_ROWS.length - 1; i >= 0; i--) {
                    int rows = TIMED_ROWS[i];
                    if (dq.get(rows) < gemv.get(rows)) minRows = rows;
                    else break;
                }
            }
            return new Result(format, err, gemv, dq, minRows, bestBlock, byBlock);
        } finally {
            device.synchronize();
            ops.useDequantGemmFrom(was);
            ops.useDequantBlockElements(wasBlock);
            device.freeSince(mark);
        }
    }

    private static float[] run(CudaOps ops, DeviceMatrix m, long x, long y, int rows, int minRows, boolean accumulate) {
        ops.useDequantGemmFrom(minRows);
        int n = rows * m.nOut();
        // accumulate onto a known non-zero y, so the beta = 1 path is checked too
        if (accumulate) ops.fillRandomF32(y, n, 55, 1f);
        else ops.device().zero(y, n * 4L);
        ops.linear(m, x, y, rows, accumulate);
        float[] out = new float[n];
        ops.device().downloadFloats(y, out, 0, n);
        return out;
    }

    private static double relError(float[] ref, float[] got) {
        double maxRef = 0, err = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            double e = Math.abs((double) got[i] - ref[i]);
            err = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(err, e);
        }
        return err / Math.max(1, maxRef);
    }

    private static double time(CudaOps ops, DeviceMatrix m, long x, long y, int rows, int minRows) {
        ops.useDequantGemmFrom(minRows);
        ops.linear(m, x, y, rows, false);  // warm-up
        float ms = ops.device().time(() -> {
            for (int i = 0; i < 20; i++) ops.linear(m, x, y, rows, false);
        });
        return ms * 1000.0 / 20;
    }
}

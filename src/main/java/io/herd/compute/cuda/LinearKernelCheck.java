package io.herd.compute.cuda;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides on the device at hand whether the register-tiled int4 linear kernels replace the one-row-per-warp ones:
 * both run on the same random int4 weights (dense, and grouped with an empty group; 1000 output rows, so the last
 * tile is partial) and activations for 1, 3, 5, 20 and 37 rows; a tiled kernel is used only if it matches within
 * tolerance and is faster on a 16384 × 5120 matrix (1 row for the narrow kernel, 16 for the wide one). A faulty
 * tiled kernel costs speed, never results. Where a tiled kernel is chosen, its software-pipelined variant (one-row
 * for the narrow kernel, used only for a single row) is checked the same way and used if it is faster on both
 * 16384 × 5120 and 5120 × 8192 (1 row narrow, 16 rows wide); so is the split-K one-row kernel (4 rows per block, the
 * inputs spread over its warps), which wins the single-row slot over the pipelined one where both qualify and it is
 * faster in sum. These
 * timings rotate over copies of each matrix (168 MB in all, beyond any L2): back to back on one 21-42 MB matrix they
 * measured L2, and a variant that won there lost in decode (H100 run 10).
 */
public final class LinearKernelCheck {
    /** Largest |tiled − reference|, relative to max(1, max |reference|) (same integer sums, same fp32 order). */
    public static final double TOLERANCE = 1e-5;
    private static final int N_IN = 5120;
    private static final int GROUP = 128;
    private static final int MAX_ROWS = 37;

    /** What the check found: errors, timings (µs per call; NaN when not timed) and the decisions. */
    public record Result(double narrowMaxError, double wideMaxError, double narrowMicrosReference,
                         double narrowMicrosTiled, double wideMicrosReference, double wideMicrosTiled,
                         boolean useNarrow, boolean useWide, double pipelinedMaxError,
                         double pipelinedWideMaxError, Map<String, Double> pipelinedMicros, boolean usePipelined,
                         boolean usePipelinedWide, double singleRowMaxError, boolean useSingleRow) {
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("narrow_max_rel_error", narrowMaxError);
            m.put("wide_max_rel_error", wideMaxError);
            m.put("narrow_us_per_call_row_per_warp_16384x5120_rows1", narrowMicrosReference);
            m.put("narrow_us_per_call_tiled_16384x5120_rows1", narrowMicrosTiled);
            m.put("wide_us_per_call_row_per_warp_16384x5120_rows16", wideMicrosReference);
            m.put("wide_us_per_call_tiled_16384x5120_rows16", wideMicrosTiled);
            m.put("use_tiled_narrow", useNarrow);
            m.put("use_tiled_wide", useWide);
            m.put("pipelined_max_rel_error", pipelinedMaxError);
            pipelinedMicros.forEach((k, us) -> m.put(k, us));
            m.put("pipelined_wide_max_rel_error", pipelinedWideMaxError);
            m.put("use_pipelined_narrow", usePipelined);
            m.put("use_pipelined_wide", usePipelinedWide);
            m.put("splitk_single_max_rel_error", singleRowMaxError);
            m.put("use_splitk_single", useSingleRow);
            m.put("tolerance", TOLERANCE);
            return m;
        }

        public String summary() {
            return String.format("int4 linear: tiled narrow %s (err %.1e, %.1f vs %.1f us), tiled wide %s (err %.1e, "
                            + "%.1f vs %.1f us)", useNarrow, narrowMaxError, narrowMicrosTiled, narrowMicrosReference,
                    useWide, wideMaxError, wideMicrosTiled, wideMicrosReference)
                    + String.format(", pipelined narrow %s (err %.1e), wide %s (err %.1e), split-K single %s "
                            + "(err %.1e), us %s", usePipelined, pipelinedMaxError, usePipelinedWide,
                    pipelinedWideMaxError, useSingleRow, singleRowMaxError, pipelinedMicros);
        }
    }

    private LinearKernelCheck() {}

    /**
     * Runs the check with {@code ops} (whose tiled settings it leaves as they were) and returns the decision without
     * applying it. Frees everything it allocates; the activation scratch it needs is reserved before its mark.
     */
    public static Result select(CudaOps ops) {
        CudaDevice device = ops.device();
        boolean wasNarrow = ops.tiledInt4(), wasWide = ops.tiledInt4Wide(), wasPipelined = ops.pipelinedInt4(),
                wasPipelinedWide = ops.pipelinedInt4Wide(), wasSingleRow = ops.singleRowInt4();
        ops.usePipelinedInt4(false);  // the tiled kernels are checked and timed as themselves
        ops.usePipelinedInt4Wide(false);
        ops.useSingleRowInt4(false);
        ops.reserveActivationScratch(MAX_ROWS, 8192);  // the 8192-input timings too; before the mark (kept)
        long mark = device.allocationMark();
        try {
            DeviceWeights up = new DeviceWeights(ops);
            DeviceMatrix grouped = up.random(3, 1000, N_IN, WeightFormat.INT4, GROUP, 41);
            DeviceMatrix dense = new DeviceMatrix(WeightFormat.INT4, 1, 1000, N_IN, GROUP, grouped.data(),
                    grouped.scales());
            long x = device.alloc((long) MAX_ROWS * N_IN * 4), y = device.alloc((long) MAX_ROWS * 1000 * 4);
            ops.fillRandomF32(x, (long) MAX_ROWS * N_IN, 42, 1f);
            long offsets = device.alloc(4 * 4);
            double narrowErr = 0, wideErr = 0;
            for (int rows : new int[] {1, 3, 5, 20, MAX_ROWS}) {
                boolean wide = rows > 4;
                // dense, then grouped: group 0 takes the first rows / 3, group 1 none, group 2 the rest
                int[] offs = {0, rows / 3, rows / 3, rows};
                device.uploadInts(offs, offsets);
                for (boolean isGrouped : new boolean[] {false, true}) {
                    float[] ref = run(ops, isGrouped ? grouped : dense, x, y, offsets, rows, wide, isGrouped, false);
                    float[] got = run(ops, isGrouped ? grouped : dense, x, y, offsets, rows, wide, isGrouped, true);
                    double err = relError(ref, got);
                    if (wide) wideErr = Math.max(wideErr, err);
                    else narrowErr = Math.max(narrowErr, err);
                }
            }
            boolean narrowOk = narrowErr <= TOLERANCE, wideOk = wideErr <= TOLERANCE;
            double nRef = Double.NaN, nTiled = Double.NaN, wRef = Double.NaN, wTiled = Double.NaN;
            if (narrowOk || wideOk) {
                DeviceMatrix big = up.random(1, 16384, N_IN, WeightFormat.INT4, GROUP, 43);
                long yBig = device.alloc(16L * 16384 * 4);
                // best of three alternating rounds: single rounds of ~1 ms were seen to flip the order on an H200
                nRef = nTiled = wRef = wTiled = Double.POSITIVE_INFINITY;
                for (int round = 0; round < 3; round++) {
                    if (narrowOk) {
                        nRef = Math.min(nRef, time(ops, big, x, yBig, 1, false));
                        nTiled = Math.min(nTiled, time(ops, big, x, yBig, 1, true));
                    }
                    if (wideOk) {
                        wRef = Math.min(wRef, time(ops, big, x, yBig, 16, false));
                        wTiled = Math.min(wTiled, time(ops, big, x, yBig, 16, true));
                    }
                }
                if (!narrowOk) nRef = nTiled = Double.NaN;
                if (!wideOk) wRef = wTiled = Double.NaN;
            }
            boolean useNarrow = narrowOk && nTiled < nRef, useWide = wideOk && wTiled < wRef;
            // the pipelined variants: 1 row (narrow) or 5, 20, 37 rows (wide) against the row-per-warp kernel, timed
            // against the plain tiled kernel on the 16384 x 5120 matrix and on a 5120 x 8192 one (the shape of
            // Scout's down projections, which has the fewest warps per SM); 1 row narrow, 16 rows wide
            Map<String, Double> pipeUs = new LinkedHashMap<>();
            double[] pipeErr = {Double.NaN, Double.NaN};
            boolean[] usePipe = new boolean[2];
            double singleRowErr = Double.NaN;
            boolean useSingleRow = false;
            DeviceMatrix[] bigP = null, down = null;
            long xd = 0, yd = 0;
            for (int wi = 0; wi < 2; wi++) {
                boolean wide = wi == 1;
                if (!(wide ? useWide : useNarrow)) continue;
                double err = 0;
                for (int rows : wide ? new int[] {5, 20, MAX_ROWS} : new int[] {1}) {
                    int[] offs = {0, rows / 3, rows / 3, rows};
                    device.uploadInts(offs, offsets);
                    for (boolean isGrouped : new boolean[] {false, true}) {
                        DeviceMatrix m = isGrouped ? grouped : dense;
                        float[] ref = run(ops, m, x, y, offsets, rows, wide, isGrouped, false);
                        setPipelined(ops, wide, true);
                        float[] got = run(ops, m, x, y, offsets, rows, wide, isGrouped, true);
                        setPipelined(ops, wide, false);
                        err = Math.max(err, relError(ref, got));
                    }
                }
                pipeErr[wi] = err;
                if (err > TOLERANCE) continue;
                if (bigP == null) {
                    // copies to rotate over (4 x 43 MB and 8 x 22 MB), so each call reads from DRAM, not L2
                    bigP = new DeviceMatrix[4];
                    down = new DeviceMatrix[8];
                    for (int c = 0; c < bigP.length; c++) bigP[c] = up.random(1, 16384, N_IN, WeightFormat.INT4, GROUP, 44 + c);
                    for (int c = 0; c < down.length; c++) down[c] = up.random(1, N_IN, 8192, WeightFormat.INT4, GROUP, 50 + c);
                    xd = device.alloc(16L * 8192 * 4);
                    yd = device.alloc(16L * 16384 * 4);
                    ops.fillRandomF32(xd, 16L * 8192, 46, 1f);
                }
                int rows = wide ? 16 : 1;
                double tBig = Double.POSITIVE_INFINITY, pBig = tBig, tDown = tBig, pDown = tBig;
                for (int round = 0; round < 3; round++) {
                    tBig = Math.min(tBig, time(ops, bigP, xd, yd, rows, true));
                    tDown = Math.min(tDown, time(ops, down, xd, yd, rows, true));
                    setPipelined(ops, wide, true);
                    pBig = Math.min(pBig, time(ops, bigP, xd, yd, rows, true));
                    pDown = Math.min(pDown, time(ops, down, xd, yd, rows, true));
                    setPipelined(ops, wide, false);
                }
                String kind = wide ? "wide" : "narrow";
                pipeUs.put(kind + "_us_per_call_tiled_16384x5120_rows" + rows + "_b", tBig);
                pipeUs.put(kind + "_us_per_call_pipelined_16384x5120_rows" + rows, pBig);
                pipeUs.put(kind + "_us_per_call_tiled_5120x8192_rows" + rows, tDown);
                pipeUs.put(kind + "_us_per_call_pipelined_5120x8192_rows" + rows, pDown);
                // faster on each shape, not on their sum: on an H200 (run 5) the one-row variant won on 5120 x 8192
                // (22.0 vs 24.5 us) but lost on 16384 x 5120 (22.0 vs 21.5 us), was chosen by the sum, and made
                // Scout batch-1 decode slower end to end (6.56 vs 6.27 ms per step)
                usePipe[wi] = pBig < tBig && pDown < tDown;
                if (!wide) {
                    // the split-K one-row kernel: same check against the row-per-warp kernel, same two shapes
                    int[] offs = {0, 0, 0, 1};
                    device.uploadInts(offs, offsets);
                    double uErr = 0;
                    for (boolean isGrouped : new boolean[] {false, true}) {
                        DeviceMatrix m = isGrouped ? grouped : dense;
                        float[] ref = run(ops, m, x, y, offsets, 1, false, isGrouped, false);
                        ops.useSingleRowInt4(true);
                        float[] got = run(ops, m, x, y, offsets, 1, false, isGrouped, true);
                        ops.useSingleRowInt4(false);
                        uErr = Math.max(uErr, relError(ref, got));
                    }
                    singleRowErr = uErr;
                    if (uErr <= TOLERANCE) {
                        double uBig = Double.POSITIVE_INFINITY, uDown = uBig;
                        ops.useSingleRowInt4(true);
                        for (int round = 0; round < 3; round++) {
                            uBig = Math.min(uBig, time(ops, bigP, xd, yd, 1, true));
                            uDown = Math.min(uDown, time(ops, down, xd, yd, 1, true));
                        }
                        ops.useSingleRowInt4(false);
                        pipeUs.put("narrow_us_per_call_splitk_single_16384x5120_rows1", uBig);
                        pipeUs.put("narrow_us_per_call_splitk_single_5120x8192_rows1", uDown);
                        useSingleRow = uBig < tBig && uDown < tDown && (!usePipe[0] || uBig + uDown < pBig + pDown);
                        if (useSingleRow) usePipe[0] = false;
                    }
                }
            }
            return new Result(narrowErr, wideErr, nRef, nTiled, wRef, wTiled, useNarrow, useWide, pipeErr[0],
                    pipeErr[1], pipeUs, usePipe[0], usePipe[1], singleRowErr, useSingleRow);
        } finally {
            device.synchronize();
            ops.usePipelinedInt4(wasPipelined);
            ops.usePipelinedInt4Wide(wasPipelinedWide);
            ops.useSingleRowInt4(wasSingleRow);
            ops.useTiledInt4(wasNarrow, wasWide);
            device.freeSince(mark);
        }
    }

    private static float[] run(CudaOps ops, DeviceMatrix m, long x, long y, long offsets, int rows, boolean wide,
                               boolean grouped, boolean tiled) {
        ops.useTiledInt4(tiled, tiled);
        int n = rows * m.nOut();
        ops.device().zero(y, n * 4L);
        if (grouped) ops.linearGrouped(m, m.nGroups(), x, y, offsets, rows, rows, wide, false, false);
        else ops.linear(m, x, y, rows, false);
        float[] out = new float[n];
        ops.device().downloadFloats(y, out, 0, n);
        return out;
    }

    private static void setPipelined(CudaOps ops, boolean wide, boolean pipelined) {
        if (wide) ops.usePipelinedInt4Wide(pipelined);
        else ops.usePipelinedInt4(pipelined);
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

    private static double time(CudaOps ops, DeviceMatrix m, long x, long y, int rows, boolean tiled) {
        return time(ops, new DeviceMatrix[] {m}, x, y, rows, tiled);
    }

    /** µs per call over 24 calls that take the matrices in turn (copies: so that no call finds its weights in L2). */
    private static double time(CudaOps ops, DeviceMatrix[] ms, long x, long y, int rows, boolean tiled) {
        ops.useTiledInt4(tiled, tiled);
        for (DeviceMatrix m : ms) ops.linear(m, x, y, rows, false);  // warm-up
        float millis = ops.device().time(() -> {
            for (int i = 0; i < 24; i++) ops.linear(ms[i % ms.length], x, y, rows, false);
        });
        return millis * 1000.0 / 24;
    }
}

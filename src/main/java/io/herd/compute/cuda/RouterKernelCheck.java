package io.herd.compute.cuda;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides on the device at hand whether {@link CudaOps#router} uses the fused router kernel (logits, top-k and
 * sigmoid in one launch, a warp per expert) instead of the verified F32 linear + top-k kernels: both run on the
 * same random fp32 router of the model's shape for 1, 5 and 64 tokens; the expert ids must be identical and the
 * logits and scores within {@value #TOLERANCE} relative, and the fused kernel is used only if it is also faster at
 * one token (a decode step).
 */
public final class RouterKernelCheck {
    public static final double TOLERANCE = 1e-5;
    private static final int[] ROWS = {1, 5, 64};
    private static final int MAX_ROWS = 64;

    public record Result(boolean idsEqual, double maxError, double microsVerified, double microsFused,
                         boolean useFused) {
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ids_equal", idsEqual);
            m.put("max_rel_error", maxError);
            m.put("tolerance", TOLERANCE);
            m.put("verified_us_rows1", microsVerified);
            m.put("fused_us_rows1", microsFused);
            m.put("use_fused", useFused);
            return m;
        }

        public String summary() {
            return String.format("router: fused %s (ids equal %s, err %.1e, %.1f vs %.1f us)", useFused, idsEqual,
                    maxError, microsFused, microsVerified);
        }
    }

    private RouterKernelCheck() {}

    /** Runs the check for a router of {@code nExperts} × {@code nIn} and top-{@code k}; returns the decision only. */
    public static Result select(CudaOps ops, int nExperts, int nIn, int k) {
        CudaDevice device = ops.device();
        boolean was = ops.fusedRouter();
        ops.reserveActivationScratch(MAX_ROWS, nIn);
        long mark = device.allocationMark();
        try {
            DeviceMatrix w = new DeviceWeights(ops).random(1, nExperts, nIn, WeightFormat.F32, 1, 61);
            long x = device.alloc((long) MAX_ROWS * nIn * 4);
            ops.fillRandomF32(x, (long) MAX_ROWS * nIn, 62, 1f);
            long logits = device.alloc((long) MAX_ROWS * nExperts * 4);
            long ids = device.alloc((long) MAX_ROWS * k * 4), scores = device.alloc((long) MAX_ROWS * k * 4);
            boolean idsEqual = true;
            double err = 0;
            for (int rows : ROWS) {
                Outputs ref = run(ops, false, w, x, logits, k, ids, scores, rows);
                Outputs got = run(ops, true, w, x, logits, k, ids, scores, rows);
                idsEqual &= Arrays.equals(ref.ids, got.ids);
                err = Math.max(err, Math.max(relError(ref.logits, got.logits), relError(ref.scores, got.scores)));
            }
            boolean ok = idsEqual && err <= TOLERANCE;
            double tRef = Double.NaN, tFused = Double.NaN;
            if (ok) {
                tRef = tFused = Double.POSITIVE_INFINITY;
                for (int round = 0; round < 3; round++) {
                    tRef = Math.min(tRef, time(ops, false, w, x, logits, k, ids, scores));
                    tFused = Math.min(tFused, time(ops, true, w, x, logits, k, ids, scores));
                }
            }
            return new Result(idsEqual, err, tRef, tFused, ok && tFused < tRef);
        } finally {
            device.synchronize();
            ops.useFusedRouter(was);
            device.freeSince(mark);
        }
    }

    private record Outputs(float[] logits, int[] ids, float[] scores) {}

    private static Outputs run(CudaOps ops, boolean fused, DeviceMatrix w, long x, long logits, int k, long ids,
                               long scores, int rows) {
        ops.useFusedRouter(fused);
        CudaDevice device = ops.device();
        device.zero(logits, (long) rows * w.nOut() * 4);
        device.zero(ids, (long) rows * k * 4);
        device.zero(scores, (long) rows * k * 4);
        ops.router(w, x, logits, k, ids, scores, rows);
        float[] l = new float[rows * w.nOut()], s = new float[rows * k];
        device.downloadFloats(logits, l, 0, l.length);
        device.downloadFloats(scores, s, 0, s.length);
        return new Outputs(l, device.downloadInts(ids, rows * k), s);
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

    private static double time(CudaOps ops, boolean fused, DeviceMatrix w, long x, long logits, int k, long ids,
                               long scores) {
        ops.useFusedRouter(fused);
        ops.router(w, x, logits, k, ids, scores, 1);  // warm-up
        float ms = ops.device().time(() -> {
            for (int i = 0; i < 20; i++) ops.router(w, x, logits, k, ids, scores, 1);
        });
        return ms * 1000.0 / 20;
    }
}

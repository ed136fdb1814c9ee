package io.herd.compute.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides on the device at hand whether {@link CudaOps#rmsnormQuantized}, {@link CudaOps#siluMulQuantized} and
 * {@link CudaOps#moePermuteQuantized} replace rmsnorm / silu-mul / MoE permutation followed by the GEMV's own
 * activation quantization: for INT8 and INT4 order, 1, 5 and 37 rows of random inputs (the permutation: one routed
 * and one shared assignment per token, shuffled), the fused kernels must produce the same bytes (normalised f32 row,
 * int8 values, scales, sums) as the verified pairs, and the norm and silu ones together be faster at one row.
 */
public final class FusedQuantizeCheck {
    private static final int[] ROWS = {1, 5, 37};
    private static final int MAX_ROWS = 37;

    public record Result(boolean identical, double microsVerified, double microsFused, boolean useFused) {
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bit_identical", identical);
            m.put("verified_us_rows1_norm_quantize_plus_silu_quantize", microsVerified);
            m.put("fused_us_rows1", microsFused);
            m.put("use_fused", useFused);
            return m;
        }

        public String summary() {
            return String.format("rmsnorm/silu + quantize: fused %s (identical %s, %.1f vs %.1f us)", useFused,
                    identical, microsFused, microsVerified);
        }
    }

    private FusedQuantizeCheck() {}

    /** Runs the check for rows of {@code dim} (norm) and {@code f} (silu) inputs; returns the decision only. */
    public static Result select(CudaOps ops, int dim, int f, float eps) {
        CudaDevice device = ops.device();
        int maxIn = Math.max(dim, f);
        ops.reserveActivationScratch(2 * MAX_ROWS, maxIn);
        long mark = device.allocationMark();
        try (Arena arena = Arena.ofConfined()) {
            long x = device.alloc((long) MAX_ROWS * dim * 4), gain = device.alloc(dim * 4L);
            long y = device.alloc((long) MAX_ROWS * dim * 4), h = device.alloc((long) MAX_ROWS * 2 * f * 4);
            long act = device.alloc((long) MAX_ROWS * f * 4);
            long permuted = device.alloc(2L * MAX_ROWS * dim * 4), scores = device.alloc(MAX_ROWS * 4L);
            long assignOfPos = device.alloc(2L * MAX_ROWS * 4);
            ops.fillRandomF32(scores, MAX_ROWS, 94, 1f);
            ops.fillRandomF32(x, (long) MAX_ROWS * dim, 91, 3f);
            ops.fillRandomF32(gain, dim, 92, 1f);
            ops.fillRandomF32(h, (long) MAX_ROWS * 2 * f, 93, 4f);
            boolean identical = true;
            for (WeightFormat format : new WeightFormat[] {WeightFormat.INT8, WeightFormat.INT4}) {
                boolean int4 = format == WeightFormat.INT4;
                for (int rows : ROWS) {
                    // norm: verified rmsnorm then the GEMV's quantization, against the fused kernel
                    device.zero(y, (long) rows * dim * 4);
                    ops.rmsnorm(x, gain, y, rows, dim, eps, 0);
                    ops.quantizeForCheck(y, rows, dim, int4);
                    MemorySegment refY = download(device, arena, y, (long) rows * dim * 4);
                    MemorySegment[] ref = scratch(ops, arena, rows, dim);
                    device.zero(y, (long) rows * dim * 4);
                    clearScratch(ops, rows, dim);
                    ops.rmsnormQuantized(x, gain, y, rows, dim, eps, 0, format);
                    identical &= refY.mismatch(download(device, arena, y, (long) rows * dim * 4)) < 0;
                    identical &= same(ref, scratch(ops, arena, rows, dim));
                    // silu: verified silu-mul then quantization, against the fused kernel
                    ops.siluMul(h, act, rows, f);
                    ops.quantizeForCheck(act, rows, f, int4);
                    ref = scratch(ops, arena, rows, f);
                    clearScratch(ops, rows, f);
                    ops.siluMulQuantized(h, rows, f, format);
                    identical &= same(ref, scratch(ops, arena, rows, f));
                    // MoE permutation (k = 1 plus the shared expert): verified permute then quantization, fused
                    int[] order = new int[2 * rows];
                    for (int i = 0; i < order.length; i++) order[i] = (3 * rows - 1 - i) % order.length;  // reversed, rotated
                    device.uploadInts(order, assignOfPos);
                    ops.moePermute(x, assignOfPos, scores, permuted, 2 * rows, 1, 1, dim);
                    ops.quantizeForCheck(permuted, 2 * rows, dim, int4);
                    ref = scratch(ops, arena, 2 * rows, dim);
                    clearScratch(ops, 2 * rows, dim);
                    ops.moePermuteQuantized(x, assignOfPos, scores, 2 * rows, 1, 1, dim, format);
                    identical &= same(ref, scratch(ops, arena, 2 * rows, dim));
                }
            }
            double tRef = Double.NaN, tFused = Double.NaN;
            if (identical) {
                tRef = tFused = Double.POSITIVE_INFINITY;
                for (int round = 0; round < 3; round++) {
                    float msRef = device.time(() -> {
                        for (int i = 0; i < 20; i++) {
                            ops.rmsnorm(x, gain, y, 1, dim, eps, 0);
                            ops.quantizeForCheck(y, 1, dim, true);
                            ops.siluMul(h, act, 1, f);
                            ops.quantizeForCheck(act, 1, f, true);
                        }
                    });
                    float msFused = device.time(() -> {
                        for (int i = 0; i < 20; i++) {
                            ops.rmsnormQuantized(x, gain, y, 1, dim, eps, 0, WeightFormat.INT4);
                            ops.siluMulQuantized(h, 1, f, WeightFormat.INT4);
                        }
                    });
                    tRef = Math.min(tRef, msRef * 1000.0 / 20);
                    tFused = Math.min(tFused, msFused * 1000.0 / 20);
                }
            }
            return new Result(identical, tRef, tFused, identical && tFused < tRef);
        } finally {
            device.synchronize();
            device.freeSince(mark);
        }
    }

    private static MemorySegment download(CudaDevice device, Arena arena, long src, long bytes) {
        MemorySegment host = arena.allocate(bytes);
        device.download(src, host, bytes);
        device.synchronize();
        return host;
    }

    /** int8 values, scales and sums of rows × n inputs in the activation scratch. */
    private static MemorySegment[] scratch(CudaOps ops, Arena arena, int rows, int n) {
        long[] p = ops.activationScratch();
        long groups = (long) rows * n / 32;
        return new MemorySegment[] {download(ops.device(), arena, p[0], (long) rows * n),
                download(ops.device(), arena, p[1], groups * 4), download(ops.device(), arena, p[2], groups * 4)};
    }

    private static void clearScratch(CudaOps ops, int rows, int n) {
        long[] p = ops.activationScratch();
        long groups = (long) rows * n / 32;
        ops.device().zero(p[0], (long) rows * n);
        ops.device().zero(p[1], groups * 4);
        ops.device().zero(p[2], groups * 4);
    }

    private static boolean same(MemorySegment[] a, MemorySegment[] b) {
        for (int i = 0; i < a.length; i++) if (a[i].mismatch(b[i]) >= 0) return false;
        return true;
    }
}

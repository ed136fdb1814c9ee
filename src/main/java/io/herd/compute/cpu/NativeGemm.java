package io.herd.compute.cpu;

import io.herd.ffi.CpuKernels;

import java.lang.foreign.MemorySegment;

/**
 * Many tokens (prefill) on the native kernels: x transposed once by the caller, then ranges of output rows over the
 * pool in whole 12-row tiles.
 */
final class NativeGemm {
    private NativeGemm() {}

    /** From this many tokens on, above the few-token kernels' range. */
    static boolean suits(int nOut, int nIn, int nTokens) {
        return nTokens >= FewTokenRows.NATIVE_MAX_TOKENS && (long) nOut * nIn >= TokenLaneGemm.MIN_WEIGHTS;
    }

    /** The transposed x, one per calling thread (read by the pool only while that call runs). */
    private static final ThreadLocal<float[]> TRANSPOSED = ThreadLocal.withInitial(() -> new float[0]);

    static void matmul(CpuKernels kernels, CpuKernels.GemmFormat format, MemorySegment w, MemorySegment scales,
                       int groupSize, int nOut, int nIn, float[] x, float[] y, int nTokens, long weightBytes,
                       CpuThreadPool pool) {
        PanelGemm.checkArgs(nOut, nIn, x, y, nTokens);
        int tPad = CpuKernels.paddedTokens(nTokens);
        float[] xt = TRANSPOSED.get();
        if (xt.length < tPad * nIn) TRANSPOSED.set(xt = new float[tPad * nIn]);
        kernels.transposeTokens(x, nTokens, nIn, xt, tPad);
        float[] transposed = xt;
        Gemv.byOutputRows(pool, nOut, weightBytes, 12, (o0, o1) -> kernels.gemmTokens(format, w, scales, nOut, nIn,
                groupSize, transposed, tPad, nTokens, y, o0, o1));
    }
}

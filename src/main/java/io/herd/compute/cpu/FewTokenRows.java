package io.herd.compute.cpu;

import io.herd.compute.Q8Weights;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.herd.compute.cpu.Simd.B;
import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.I;
import static io.herd.compute.cpu.Simd.LANES;
import static io.herd.compute.cpu.Simd.LE;
import static io.herd.compute.cpu.Simd.S;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.B2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.S2I;

/**
 * Row-major {@code y = x · Wᵀ} for a few tokens (2 to {@link #MAX_TOKENS} - 1): batched decode, short prompts and
 * the Q8 routed experts of a prefill. Straight from the stored weights, like decode: a tile of four
 * rows × four tokens keeps sixteen accumulators, so each widened weight vector serves four tokens and each token
 * vector four rows, and the four rows are read once per four tokens (again from cache for the next four).
 *
 * <p>Whole vectors only (nIn a multiple of LANES); the widening is written out in each loop, as in
 * {@link GemvKernels}, because vectors passed to a helper that is not inlined are boxed.
 */
final class FewTokenRows {
    private FewTokenRows() {}

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /**
     * Tokens below which this path beats the fp32 panels (`./herd bench --kernels`, alternating builds, AVX-512):
     * 1.3-1.5× at 4 and 8 tokens, but 0.8-0.9× at 16, where every four rows re-read all tokens' inputs from L2.
     */
    static final int MAX_TOKENS = 16;

    /**
     * Tokens below which the native few-token kernels take a matrix (in-JVM alternating runs against the Vector API
     * paths, [8192, 5120] and [5120, 16384] input-major): 1.3-1.7× the panels at 16-24 tokens, 1.1-1.4× the
     * token-lane GEMM at 32-48, 0.94-0.96× of it at 64.
     */
    static final int NATIVE_MAX_TOKENS = 64;

    /** Whether the native few-token kernels take this matrix at this token count. */
    static boolean suitsNative(int nOut, int nIn, int nTokens) {
        return nTokens > 1 && nTokens < NATIVE_MAX_TOKENS && (long) nOut * nIn >= TokenLaneGemm.MIN_WEIGHTS;
    }

    /** Whether the BF16 path takes this matrix at this token count. */
    static boolean suitsBf16(int nOut, int nIn, int nTokens) {
        return nTokens > 1 && nTokens < MAX_TOKENS && nIn % LANES == 0 && (long) nOut * nIn >= TokenLaneGemm.MIN_WEIGHTS;
    }

    /** Whether the Q8 path takes this matrix: as for BF16, and a group size {@link GemvKernels#q8Supported} handles. */
    static boolean suitsQ8(int nOut, int nIn, int groupSize, int nTokens) {
        return suitsBf16(nOut, nIn, nTokens) && GemvKernels.q8Supported(nIn, groupSize);
    }

    /** BF16 weights [nOut, nIn]; x is [nTokens, nIn], y [nTokens, nOut]. */
    static void bf16(MemorySegment w, int nOut, int nIn, float[] x, float[] y, int nTokens, CpuThreadPool pool) {
        PanelGemm.checkArgs(nOut, nIn, x, y, nTokens);
        Gemv.byOutputRows(pool, nOut, (long) nOut * nIn * 2, 4, (o0, o1) -> {
            int o = o0;
            for (; o + 4 <= o1; o += 4) {
                int t = 0;
                for (; t + 4 <= nTokens; t += 4) bf16Rows4Tokens4(w, nIn, nOut, x, y, o, t);
                for (; t < nTokens; t++) bf16Rows4Token1(w, nIn, nOut, x, y, o, t);
            }
            for (; o < o1; o++) {
                for (int t = 0; t < nTokens; t++) {
                    float sum = 0f;
                    for (int i = 0; i < nIn; i++)
                        sum += x[t * nIn + i] * Float.intBitsToFloat((w.getAtIndex(I16, (long) o * nIn + i) & 0xffff) << 16);
                    y[t * nOut + o] = sum;
                }
            }
        });
    }

    /** Q8 weights: values [nOut, nIn] int8, one scale per row or per group of {@code groupSize} inputs. */
    static void q8(Q8Weights q, float[] x, float[] y, int nTokens, CpuThreadPool pool) {
        int nOut = q.nOut(), nIn = q.nIn(), groupSize = q.groupSize();
        PanelGemm.checkArgs(nOut, nIn, x, y, nTokens);
        MemorySegment values = q.values(), scales = q.scales();
        boolean perRow = groupSize >= nIn;
        int shift = perRow ? 31 : Integer.numberOfTrailingZeros(groupSize);
        int nGroups = q.nGroups();
        Gemv.byOutputRows(pool, nOut, q.byteSize(), 4, (o0, o1) -> {
            // the tile's four rows of fp16 scales, decoded once for all its token passes
            float[] rowScales = perRow ? null : GemvKernels.tileScales(4 * nGroups);
            int o = o0;
            for (; o + 4 <= o1; o += 4) {
                if (!perRow) GemvKernels.decodeScales(scales, (long) o * nGroups, 4 * nGroups, rowScales);
                int t = 0;
                for (; t + 4 <= nTokens; t += 4) q8Rows4Tokens4(values, rowScales, nIn, nGroups, shift, perRow, nOut, x, y, o, t);
                for (; t < nTokens; t++) q8Rows4Token1(values, rowScales, nIn, nGroups, shift, perRow, nOut, x, y, o, t);
                if (perRow) { // the tiles leave per-row sums unscaled: one multiply per output instead of per weight
                    for (int r = o; r < o + 4; r++) {
                        float scale = Q8Weights.scaleAt(scales, (long) r * nGroups);
                        for (int tt = 0; tt < nTokens; tt++) y[tt * nOut + r] *= scale;
                    }
                }
            }
            for (; o < o1; o++) {
                for (int t = 0; t < nTokens; t++) {
                    float sum = 0f;
                    for (int i = 0; i < nIn; i++)
                        sum += x[t * nIn + i] * values.get(ValueLayout.JAVA_BYTE, (long) o * nIn + i)
                                * Q8Weights.scaleAt(scales, (long) o * nGroups + (i >>> shift));
                    y[t * nOut + o] = sum;
                }
            }
        });
    }

    private static void bf16Rows4Tokens4(MemorySegment w, int nIn, int nOut, float[] x, float[] y, int o, int t) {
        long s = nIn * 2L, r0 = (long) o * s;
        int x0 = t * nIn, x1 = x0 + nIn, x2 = x1 + nIn, x3 = x2 + nIn;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int i = 0; i < nIn; i += LANES) {
            long b = r0 + 2L * i;
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + s, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2 * s, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 3 * s, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
            a00 = w0.fma(v, a00); a10 = w1.fma(v, a10); a20 = w2.fma(v, a20); a30 = w3.fma(v, a30);
            v = FloatVector.fromArray(F, x, x1 + i);
            a01 = w0.fma(v, a01); a11 = w1.fma(v, a11); a21 = w2.fma(v, a21); a31 = w3.fma(v, a31);
            v = FloatVector.fromArray(F, x, x2 + i);
            a02 = w0.fma(v, a02); a12 = w1.fma(v, a12); a22 = w2.fma(v, a22); a32 = w3.fma(v, a32);
            v = FloatVector.fromArray(F, x, x3 + i);
            a03 = w0.fma(v, a03); a13 = w1.fma(v, a13); a23 = w2.fma(v, a23); a33 = w3.fma(v, a33);
        }
        int y0 = t * nOut + o, y1 = y0 + nOut, y2 = y1 + nOut, y3 = y2 + nOut;
        y[y0] = a00.reduceLanes(ADD); y[y0 + 1] = a10.reduceLanes(ADD); y[y0 + 2] = a20.reduceLanes(ADD); y[y0 + 3] = a30.reduceLanes(ADD);
        y[y1] = a01.reduceLanes(ADD); y[y1 + 1] = a11.reduceLanes(ADD); y[y1 + 2] = a21.reduceLanes(ADD); y[y1 + 3] = a31.reduceLanes(ADD);
        y[y2] = a02.reduceLanes(ADD); y[y2 + 1] = a12.reduceLanes(ADD); y[y2 + 2] = a22.reduceLanes(ADD); y[y2 + 3] = a32.reduceLanes(ADD);
        y[y3] = a03.reduceLanes(ADD); y[y3 + 1] = a13.reduceLanes(ADD); y[y3 + 2] = a23.reduceLanes(ADD); y[y3 + 3] = a33.reduceLanes(ADD);
    }

    private static void bf16Rows4Token1(MemorySegment w, int nIn, int nOut, float[] x, float[] y, int o, int t) {
        long s = nIn * 2L, r0 = (long) o * s;
        int x0 = t * nIn;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < nIn; i += LANES) {
            long b = r0 + 2L * i;
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(v, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + s, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(v, a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2 * s, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(v, a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 3 * s, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(v, a3);
        }
        int y0 = t * nOut + o;
        y[y0] = a0.reduceLanes(ADD); y[y0 + 1] = a1.reduceLanes(ADD); y[y0 + 2] = a2.reduceLanes(ADD); y[y0 + 3] = a3.reduceLanes(ADD);
    }

    /**
     * Each widened vector is scaled once (grouped scales) and then serves four tokens; per-row sums are left unscaled
     * for the caller. The group is found with a shift: 31 for per-row scales, so it stays 0.
     */
    private static void q8Rows4Tokens4(MemorySegment values, float[] rowScales, int nIn, int nGroups, int shift,
                                       boolean perRow, int nOut, float[] x, float[] y, int o, int t) {
        long r0 = (long) o * nIn, r1 = r0 + nIn, r2 = r1 + nIn, r3 = r2 + nIn;
        int s0 = 0, s1 = nGroups, s2 = 2 * nGroups, s3 = 3 * nGroups;
        int x0 = t * nIn, x1 = x0 + nIn, x2 = x1 + nIn, x3 = x2 + nIn;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int i = 0; i < nIn; i += LANES) {
            FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, values, r0 + i, LE).convertShape(B2F, F, 0);
            FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B, values, r1 + i, LE).convertShape(B2F, F, 0);
            FloatVector w2 = (FloatVector) ByteVector.fromMemorySegment(B, values, r2 + i, LE).convertShape(B2F, F, 0);
            FloatVector w3 = (FloatVector) ByteVector.fromMemorySegment(B, values, r3 + i, LE).convertShape(B2F, F, 0);
            if (!perRow) {
                int g = i >>> shift;
                w0 = w0.mul(rowScales[s0 + g]);
                w1 = w1.mul(rowScales[s1 + g]);
                w2 = w2.mul(rowScales[s2 + g]);
                w3 = w3.mul(rowScales[s3 + g]);
            }
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
            a00 = w0.fma(v, a00); a10 = w1.fma(v, a10); a20 = w2.fma(v, a20); a30 = w3.fma(v, a30);
            v = FloatVector.fromArray(F, x, x1 + i);
            a01 = w0.fma(v, a01); a11 = w1.fma(v, a11); a21 = w2.fma(v, a21); a31 = w3.fma(v, a31);
            v = FloatVector.fromArray(F, x, x2 + i);
            a02 = w0.fma(v, a02); a12 = w1.fma(v, a12); a22 = w2.fma(v, a22); a32 = w3.fma(v, a32);
            v = FloatVector.fromArray(F, x, x3 + i);
            a03 = w0.fma(v, a03); a13 = w1.fma(v, a13); a23 = w2.fma(v, a23); a33 = w3.fma(v, a33);
        }
        int y0 = t * nOut + o, y1 = y0 + nOut, y2 = y1 + nOut, y3 = y2 + nOut;
        y[y0] = a00.reduceLanes(ADD); y[y0 + 1] = a10.reduceLanes(ADD); y[y0 + 2] = a20.reduceLanes(ADD); y[y0 + 3] = a30.reduceLanes(ADD);
        y[y1] = a01.reduceLanes(ADD); y[y1 + 1] = a11.reduceLanes(ADD); y[y1 + 2] = a21.reduceLanes(ADD); y[y1 + 3] = a31.reduceLanes(ADD);
        y[y2] = a02.reduceLanes(ADD); y[y2 + 1] = a12.reduceLanes(ADD); y[y2 + 2] = a22.reduceLanes(ADD); y[y2 + 3] = a32.reduceLanes(ADD);
        y[y3] = a03.reduceLanes(ADD); y[y3 + 1] = a13.reduceLanes(ADD); y[y3 + 2] = a23.reduceLanes(ADD); y[y3 + 3] = a33.reduceLanes(ADD);
    }

    private static void q8Rows4Token1(MemorySegment values, float[] rowScales, int nIn, int nGroups, int shift,
                                      boolean perRow, int nOut, float[] x, float[] y, int o, int t) {
        long r0 = (long) o * nIn, r1 = r0 + nIn, r2 = r1 + nIn, r3 = r2 + nIn;
        int s0 = 0, s1 = nGroups, s2 = 2 * nGroups, s3 = 3 * nGroups;
        int x0 = t * nIn;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < nIn; i += LANES) {
            FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, values, r0 + i, LE).convertShape(B2F, F, 0);
            FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B, values, r1 + i, LE).convertShape(B2F, F, 0);
            FloatVector w2 = (FloatVector) ByteVector.fromMemorySegment(B, values, r2 + i, LE).convertShape(B2F, F, 0);
            FloatVector w3 = (FloatVector) ByteVector.fromMemorySegment(B, values, r3 + i, LE).convertShape(B2F, F, 0);
            if (!perRow) {
                int g = i >>> shift;
                w0 = w0.mul(rowScales[s0 + g]);
                w1 = w1.mul(rowScales[s1 + g]);
                w2 = w2.mul(rowScales[s2 + g]);
                w3 = w3.mul(rowScales[s3 + g]);
            }
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
            a0 = w0.fma(v, a0); a1 = w1.fma(v, a1); a2 = w2.fma(v, a2); a3 = w3.fma(v, a3);
        }
        int y0 = t * nOut + o;
        y[y0] = a0.reduceLanes(ADD); y[y0 + 1] = a1.reduceLanes(ADD); y[y0 + 2] = a2.reduceLanes(ADD); y[y0 + 3] = a3.reduceLanes(ADD);
    }
}

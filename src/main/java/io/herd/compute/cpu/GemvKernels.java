package io.herd.compute.cpu;

import io.herd.compute.DType;
import io.herd.compute.Q8Weights;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.herd.compute.cpu.Simd.B;
import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.I;
import static io.herd.compute.cpu.Simd.LANES;
import static io.herd.compute.cpu.Simd.LE;
import static io.herd.compute.cpu.Simd.S;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.B2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.S2I;

/**
 * One-token matmul (decode) straight from the stored weights: each weight is loaded, widened in registers and used
 * once, with no panel in between, so a core keeps up with its share of memory bandwidth. Four rows are read side by
 * side: four streams in flight read faster than one row after another. F16 is not here: its long widening made
 * the direct loop no faster than the panel path, which it takes instead. One method per format and
 * layout keeps every call site monomorphic, which the Vector API needs to stay in registers.
 */
final class GemvKernels {
    private GemvKernels() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    // Widening is written out inside each loop on purpose: a helper method that returns a vector is compiled on its
    // own once it gets hot, is then too big to inline, and every call boxes the vector (100× slower).

    private static float scalar(DType dtype, MemorySegment w, long index) {
        return switch (dtype) {
            case F32 -> w.getAtIndex(F32, index);
            case BF16 -> Float.intBitsToFloat((w.getAtIndex(I16, index) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(w.getAtIndex(I16, index));
            case Q8, GGML_BLOCKS -> throw new AssertionError();
        };
    }

    // ------------------------------------------------------------------ row-major [nOut, nIn]: dot products

    /** y[o] = dot(W[o, :], x) for o in [o0, o1). */
    static void rowMajor(DType dtype, MemorySegment w, int nIn, float[] x, float[] y, int o0, int o1) {
        rowMajor(dtype, w, nIn, x, null, y, o0, o1);
    }

    /**
     * As above; {@code xPairs} (BF16 with nIn a multiple of 2 · LANES, else null) is x split by {@link #bf16Pairs},
     * for the eight-row kernel that widens a whole vector of stored bf16 pairs in two instructions.
     */
    static void rowMajor(DType dtype, MemorySegment w, int nIn, float[] x, float[] xPairs, float[] y, int o0, int o1) {
        int o = o0;
        // BF16 rows read eight side by side: eight streams decoded 2-16% faster than four (alternating runs, Scout
        // dims). The reductions stay inline: a version that passed its accumulators to finish4 boxed them and ran
        // 40% slower.
        if (xPairs != null) for (; o + 8 <= o1; o += 8) dot8Bf16Pairs(w, nIn, xPairs, y, o);
        for (; o + 4 <= o1; o += 4) {
            switch (dtype) {
                case F32 -> dot4F32(w, nIn, x, y, o);
                case BF16 -> dot4Bf16(w, nIn, x, y, o);
                case F16, Q8 -> throw new IllegalArgumentException(dtype + " rows take the panel path");
            }
        }
        for (; o < o1; o++) {
            float acc = 0f;
            long base = (long) o * nIn;
            for (int i = 0; i < nIn; i++) acc += x[i] * scalar(dtype, w, base + i);
            y[o] = acc;
        }
    }

    private static void dot4F32(MemorySegment w, int nIn, float[] x, float[] y, int o) {
        long r0 = (long) o * nIn * 4, r1 = r0 + nIn * 4L, r2 = r1 + nIn * 4L, r3 = r2 + nIn * 4L;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int bound = F.loopBound(nIn); i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            long b = 4L * i;
            a0 = FloatVector.fromMemorySegment(F, w, r0 + b, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, w, r1 + b, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, w, r2 + b, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, w, r3 + b, LE).fma(xv, a3);
        }
        finish4(DType.F32, w, nIn, x, y, o, i, a0, a1, a2, a3);
    }

    private static void dot4Bf16(MemorySegment w, int nIn, float[] x, float[] y, int o) {
        long r0 = (long) o * nIn * 2, r1 = r0 + nIn * 2L, r2 = r1 + nIn * 2L, r3 = r2 + nIn * 2L;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int bound = F.loopBound(nIn); i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            long b = 2L * i;
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, r0 + b, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(xv, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, w, r1 + b, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(xv, a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(S, w, r2 + b, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(xv, a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(S, w, r3 + b, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(xv, a3);
        }
        finish4(DType.BF16, w, nIn, x, y, o, i, a0, a1, a2, a3);
    }

    /**
     * x split for {@link #dot8Bf16Pairs}: its even inputs, then its odd ones, each half cut in runs of LANES, into
     * {@code out} (nIn floats; nIn a multiple of 2 · LANES). Returns out.
     */
    static float[] bf16Pairs(float[] x, int nIn, float[] out) {
        if (nIn % (2 * LANES) != 0) throw new IllegalArgumentException("nIn " + nIn + " is not a multiple of " + 2 * LANES);
        splitPairs(x, 0, nIn, out, 0);
        return out;
    }

    /** x[xOff, xOff + nIn) split as {@link #bf16Pairs} does into out[outOff, outOff + nIn) (nIn even). */
    static void splitPairs(float[] x, int xOff, int nIn, float[] out, int outOff) {
        int half = nIn / 2;
        for (int j = 0; j < half; j++) {
            out[outOff + j] = x[xOff + 2 * j];
            out[outOff + half + j] = x[xOff + 2 * j + 1];
        }
    }

    /**
     * Eight BF16 rows side by side. One int vector load holds 2 · LANES stored bf16 values as pairs: the even one in
     * the low half of each int (widened by a shift), the odd one in the high half (widened by a mask), so a
     * 64-byte line costs one load and two ops to widen instead of two loads and four. The products pair with x's
     * even and odd inputs ({@link #bf16Pairs}); each row's sum runs in a different order than the plain loop, by
     * float rounding only.
     */
    private static void dot8Bf16Pairs(MemorySegment w, int nIn, float[] xPairs, float[] y, int o) {
        long r0 = (long) o * nIn * 2, s = nIn * 2L;
        int half = nIn / 2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int j = 0; j < half; j += LANES) {
            FloatVector ev = FloatVector.fromArray(F, xPairs, j), od = FloatVector.fromArray(F, xPairs, half + j);
            long b = r0 + 4L * j;
            IntVector v0 = IntVector.fromMemorySegment(I, w, b, LE), v1 = IntVector.fromMemorySegment(I, w, b + s, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, w, b + 2 * s, LE), v3 = IntVector.fromMemorySegment(I, w, b + 3 * s, LE);
            IntVector v4 = IntVector.fromMemorySegment(I, w, b + 4 * s, LE), v5 = IntVector.fromMemorySegment(I, w, b + 5 * s, LE);
            IntVector v6 = IntVector.fromMemorySegment(I, w, b + 6 * s, LE), v7 = IntVector.fromMemorySegment(I, w, b + 7 * s, LE);
            a0 = v0.lanewise(LSHL, 16).reinterpretAsFloats().fma(ev, v0.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(od, a0));
            a1 = v1.lanewise(LSHL, 16).reinterpretAsFloats().fma(ev, v1.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(od, a1));
            a2 = v2.lanewise(LSHL, 16).reinterpretAsFloats().fma(ev, v2.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(od, a2));
            a3 = v3.lanewise(LSHL, 16).reinterpretAsFloats().fma(ev, v3.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(od, a3));
            a4 = v4.lanewise(LSHL, 16).reinterpretAsFloats().fma(ev, v4.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(od, a4));
            a5 = v5.lanewise(LSHL, 16).reinterpretAsFloats().fma(ev, v5.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(od, a5));
            a6 = v6.lanewise(LSHL, 16).reinterpretAsFloats().fma(ev, v6.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(od, a6));
            a7 = v7.lanewise(LSHL, 16).reinterpretAsFloats().fma(ev, v7.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(od, a7));
        }
        y[o] = a0.reduceLanes(VectorOperators.ADD);
        y[o + 1] = a1.reduceLanes(VectorOperators.ADD);
        y[o + 2] = a2.reduceLanes(VectorOperators.ADD);
        y[o + 3] = a3.reduceLanes(VectorOperators.ADD);
        y[o + 4] = a4.reduceLanes(VectorOperators.ADD);
        y[o + 5] = a5.reduceLanes(VectorOperators.ADD);
        y[o + 6] = a6.reduceLanes(VectorOperators.ADD);
        y[o + 7] = a7.reduceLanes(VectorOperators.ADD);
    }

    /** The high 16 bits of an int: the odd bf16 of a stored pair, already in float position. */
    private static final int HIGH_HALF = 0xffff0000;

    private static void finish4(DType dtype, MemorySegment w, int nIn, float[] x, float[] y, int o, int tail,
                                FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
        long base = (long) o * nIn;
        for (int i = tail; i < nIn; i++) {
            float xi = x[i];
            s0 += xi * scalar(dtype, w, base + i);
            s1 += xi * scalar(dtype, w, base + nIn + i);
            s2 += xi * scalar(dtype, w, base + 2L * nIn + i);
            s3 += xi * scalar(dtype, w, base + 3L * nIn + i);
        }
        y[o] = s0;
        y[o + 1] = s1;
        y[o + 2] = s2;
        y[o + 3] = s3;
    }

    /** Whether {@link #q8RowMajor} handles this group size: one scale per row, or a power of two of whole vectors. */
    static boolean q8Supported(int nIn, int groupSize) {
        return B != null && (groupSize >= nIn || (Integer.bitCount(groupSize) == 1 && groupSize % LANES == 0));
    }

    /**
     * Q8 rows: y[o] = Σ_i values[o, i] · scale[o, i / groupSize] · x[i]. One flat loop over the row: each vector lies
     * in one group, whose scale is found with a shift, so there is no short inner loop per group.
     */
    static void q8RowMajor(MemorySegment values, MemorySegment scales, int nIn, int groupSize, float[] x, float[] y,
                           int o0, int o1) {
        int o = o0;
        // Grouped scales, whole groups: eight rows side by side streamed 20-30% faster than four (two threads,
        // [8192, 5120], group 32), as BF16 did; each x vector then serves eight rows.
        // Groups of exactly two vectors (group 32 at 512 bits, llama.cpp's Q8_0 size) have their own kernel: the
        // general one's per-group inner loop of one pass ran at 60-75% of its speed (probe, one core, L2-resident).
        // The eight rows' fp16 scales are widened into a float scratch first, in one vector loop: decoded one by one
        // inside the kernels they took scalar ops from the vector work.
        if (groupSize < nIn && groupSize > LANES && nIn % groupSize == 0 && o + 8 <= o1) {
            int nGroups = nIn / groupSize;
            float[] tileScales = tileScales(8 * nGroups);
            boolean two = groupSize == 2 * LANES;
            for (; o + 8 <= o1; o += 8) {
                decodeScales(scales, (long) o * nGroups, 8 * nGroups, tileScales);
                if (two) q8Rows8Group2(values, tileScales, nIn, x, y, o);
                else q8Rows8Grouped(values, tileScales, nIn, groupSize, x, y, o);
            }
        }
        // Four rows side by side: four independent streams keep more reads in flight than one row at a time.
        for (; o + 4 <= o1; o += 4) q8Rows4(values, scales, nIn, groupSize, x, y, o);
        for (; o < o1; o++) y[o] = q8RowScalar(values, scales, nIn, groupSize, x, o);
    }

    private static void q8Rows4(MemorySegment values, MemorySegment scales, int nIn, int groupSize, float[] x,
                                float[] y, int o) {
        boolean perRow = groupSize >= nIn;
        if (!perRow && groupSize > LANES) {
            q8Rows4Grouped(values, scales, nIn, groupSize, x, y, o);
            return;
        }
        int shift = perRow ? 31 : Integer.numberOfTrailingZeros(groupSize);
        int nGroups = perRow ? 1 : (nIn + groupSize - 1) / groupSize;
        long r0 = (long) o * nIn, r1 = r0 + nIn, r2 = r1 + nIn, r3 = r2 + nIn;
        long s0 = (long) o * nGroups, s1 = s0 + nGroups, s2 = s1 + nGroups, s3 = s2 + nGroups;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int bound = F.loopBound(nIn); i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            long g = i >>> shift; // 0 for per-row scales, which then scale the finished dot product instead
            FloatVector w0 = (FloatVector) ByteVector.fromMemorySegment(B, values, r0 + i, LE).convertShape(B2F, F, 0);
            FloatVector w1 = (FloatVector) ByteVector.fromMemorySegment(B, values, r1 + i, LE).convertShape(B2F, F, 0);
            FloatVector w2 = (FloatVector) ByteVector.fromMemorySegment(B, values, r2 + i, LE).convertShape(B2F, F, 0);
            FloatVector w3 = (FloatVector) ByteVector.fromMemorySegment(B, values, r3 + i, LE).convertShape(B2F, F, 0);
            if (!perRow) {
                w0 = w0.mul(Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s0 + g) & 0x7fff) << 13) * 0x1p112f);
                w1 = w1.mul(Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s1 + g) & 0x7fff) << 13) * 0x1p112f);
                w2 = w2.mul(Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s2 + g) & 0x7fff) << 13) * 0x1p112f);
                w3 = w3.mul(Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s3 + g) & 0x7fff) << 13) * 0x1p112f);
            }
            a0 = w0.fma(xv, a0);
            a1 = w1.fma(xv, a1);
            a2 = w2.fma(xv, a2);
            a3 = w3.fma(xv, a3);
        }
        float d0 = a0.reduceLanes(VectorOperators.ADD), d1 = a1.reduceLanes(VectorOperators.ADD);
        float d2 = a2.reduceLanes(VectorOperators.ADD), d3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < nIn; i++) {
            float xi = x[i];
            long g = i >>> shift;
            float f0 = xi * values.get(ValueLayout.JAVA_BYTE, r0 + i), f1 = xi * values.get(ValueLayout.JAVA_BYTE, r1 + i);
            float f2 = xi * values.get(ValueLayout.JAVA_BYTE, r2 + i), f3 = xi * values.get(ValueLayout.JAVA_BYTE, r3 + i);
            if (perRow) {
                d0 += f0; d1 += f1; d2 += f2; d3 += f3;
            } else {
                d0 += f0 * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s0 + g) & 0x7fff) << 13) * 0x1p112f;
                d1 += f1 * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s1 + g) & 0x7fff) << 13) * 0x1p112f;
                d2 += f2 * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s2 + g) & 0x7fff) << 13) * 0x1p112f;
                d3 += f3 * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s3 + g) & 0x7fff) << 13) * 0x1p112f;
            }
        }
        if (perRow) {
            d0 *= Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s0) & 0x7fff) << 13) * 0x1p112f;
            d1 *= Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s1) & 0x7fff) << 13) * 0x1p112f;
            d2 *= Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s2) & 0x7fff) << 13) * 0x1p112f;
            d3 *= Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s3) & 0x7fff) << 13) * 0x1p112f;
        }
        y[o] = d0;
        y[o + 1] = d1;
        y[o + 2] = d2;
        y[o + 3] = d3;
    }

    /**
     * Groups of several vectors: each group's unscaled dot product is summed first and scaled once, a multiply-add
     * per group instead of a multiply per vector (the group size is a power of two and a multiple of LANES, so
     * groups hold whole vectors and a ragged tail lies in the last group).
     */
    private static void q8Rows4Grouped(MemorySegment values, MemorySegment scales, int nIn, int groupSize, float[] x,
                                       float[] y, int o) {
        int nGroups = (nIn + groupSize - 1) / groupSize;
        long r0 = (long) o * nIn, r1 = r0 + nIn, r2 = r1 + nIn, r3 = r2 + nIn;
        long s0 = (long) o * nGroups, s1 = s0 + nGroups, s2 = s1 + nGroups, s3 = s2 + nGroups;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0, g = 0;
        for (int fullGroups = nIn / groupSize; g < fullGroups; g++) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            FloatVector t0 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t1 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r1 + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t2 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r2 + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t3 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r3 + i, LE).convertShape(B2F, F, 0)).mul(xv);
            for (int groupEnd = i + groupSize, j = i + LANES; j < groupEnd; j += LANES) {
                xv = FloatVector.fromArray(F, x, j);
                t0 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + j, LE).convertShape(B2F, F, 0)).fma(xv, t0);
                t1 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r1 + j, LE).convertShape(B2F, F, 0)).fma(xv, t1);
                t2 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r2 + j, LE).convertShape(B2F, F, 0)).fma(xv, t2);
                t3 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r3 + j, LE).convertShape(B2F, F, 0)).fma(xv, t3);
            }
            a0 = t0.fma(FloatVector.broadcast(F, Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s0 + g) & 0x7fff) << 13) * 0x1p112f), a0);
            a1 = t1.fma(FloatVector.broadcast(F, Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s1 + g) & 0x7fff) << 13) * 0x1p112f), a1);
            a2 = t2.fma(FloatVector.broadcast(F, Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s2 + g) & 0x7fff) << 13) * 0x1p112f), a2);
            a3 = t3.fma(FloatVector.broadcast(F, Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s3 + g) & 0x7fff) << 13) * 0x1p112f), a3);
            i += groupSize;
        }
        float d0 = a0.reduceLanes(VectorOperators.ADD), d1 = a1.reduceLanes(VectorOperators.ADD);
        float d2 = a2.reduceLanes(VectorOperators.ADD), d3 = a3.reduceLanes(VectorOperators.ADD);
        if (i < nIn) { // a last, partial group
            float p0 = 0, p1 = 0, p2 = 0, p3 = 0;
            for (; i < nIn; i++) {
                float xi = x[i];
                p0 += xi * values.get(ValueLayout.JAVA_BYTE, r0 + i);
                p1 += xi * values.get(ValueLayout.JAVA_BYTE, r1 + i);
                p2 += xi * values.get(ValueLayout.JAVA_BYTE, r2 + i);
                p3 += xi * values.get(ValueLayout.JAVA_BYTE, r3 + i);
            }
            d0 += p0 * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s0 + g) & 0x7fff) << 13) * 0x1p112f;
            d1 += p1 * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s1 + g) & 0x7fff) << 13) * 0x1p112f;
            d2 += p2 * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s2 + g) & 0x7fff) << 13) * 0x1p112f;
            d3 += p3 * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, s3 + g) & 0x7fff) << 13) * 0x1p112f;
        }
        y[o] = d0;
        y[o + 1] = d1;
        y[o + 2] = d2;
        y[o + 3] = d3;
    }

    /** {@link #q8Rows8Grouped} for groups of two vectors, written out: same products, same order of sums. */
    private static void q8Rows8Group2(MemorySegment values, float[] tileScales, int nIn, float[] x, float[] y, int o) {
        int nGroups = nIn / (2 * LANES);
        long r0 = (long) o * nIn, s = nIn;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int g = 0, i = 0; g < nGroups; g++, i += 2 * LANES) {
            FloatVector xa = FloatVector.fromArray(F, x, i), xb = FloatVector.fromArray(F, x, i + LANES);
            long b = r0 + i;
            FloatVector t0 = ((FloatVector) ByteVector.fromMemorySegment(B, values, b + LANES, LE).convertShape(B2F, F, 0)).fma(xb, ((FloatVector) ByteVector.fromMemorySegment(B, values, b, LE).convertShape(B2F, F, 0)).mul(xa));
            FloatVector t1 = ((FloatVector) ByteVector.fromMemorySegment(B, values, b + s + LANES, LE).convertShape(B2F, F, 0)).fma(xb, ((FloatVector) ByteVector.fromMemorySegment(B, values, b + s, LE).convertShape(B2F, F, 0)).mul(xa));
            FloatVector t2 = ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 2 * s + LANES, LE).convertShape(B2F, F, 0)).fma(xb, ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 2 * s, LE).convertShape(B2F, F, 0)).mul(xa));
            FloatVector t3 = ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 3 * s + LANES, LE).convertShape(B2F, F, 0)).fma(xb, ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 3 * s, LE).convertShape(B2F, F, 0)).mul(xa));
            FloatVector t4 = ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 4 * s + LANES, LE).convertShape(B2F, F, 0)).fma(xb, ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 4 * s, LE).convertShape(B2F, F, 0)).mul(xa));
            FloatVector t5 = ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 5 * s + LANES, LE).convertShape(B2F, F, 0)).fma(xb, ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 5 * s, LE).convertShape(B2F, F, 0)).mul(xa));
            FloatVector t6 = ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 6 * s + LANES, LE).convertShape(B2F, F, 0)).fma(xb, ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 6 * s, LE).convertShape(B2F, F, 0)).mul(xa));
            FloatVector t7 = ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 7 * s + LANES, LE).convertShape(B2F, F, 0)).fma(xb, ((FloatVector) ByteVector.fromMemorySegment(B, values, b + 7 * s, LE).convertShape(B2F, F, 0)).mul(xa));
            a0 = t0.fma(FloatVector.broadcast(F, tileScales[g]), a0);
            a1 = t1.fma(FloatVector.broadcast(F, tileScales[g + nGroups]), a1);
            a2 = t2.fma(FloatVector.broadcast(F, tileScales[g + 2 * nGroups]), a2);
            a3 = t3.fma(FloatVector.broadcast(F, tileScales[g + 3 * nGroups]), a3);
            a4 = t4.fma(FloatVector.broadcast(F, tileScales[g + 4 * nGroups]), a4);
            a5 = t5.fma(FloatVector.broadcast(F, tileScales[g + 5 * nGroups]), a5);
            a6 = t6.fma(FloatVector.broadcast(F, tileScales[g + 6 * nGroups]), a6);
            a7 = t7.fma(FloatVector.broadcast(F, tileScales[g + 7 * nGroups]), a7);
        }
        y[o] = a0.reduceLanes(VectorOperators.ADD);
        y[o + 1] = a1.reduceLanes(VectorOperators.ADD);
        y[o + 2] = a2.reduceLanes(VectorOperators.ADD);
        y[o + 3] = a3.reduceLanes(VectorOperators.ADD);
        y[o + 4] = a4.reduceLanes(VectorOperators.ADD);
        y[o + 5] = a5.reduceLanes(VectorOperators.ADD);
        y[o + 6] = a6.reduceLanes(VectorOperators.ADD);
        y[o + 7] = a7.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #q8Rows4Grouped} over eight rows, whole groups only, reductions inline; scales widened per tile. */
    private static void q8Rows8Grouped(MemorySegment values, float[] tileScales, int nIn, int groupSize, float[] x,
                                       float[] y, int o) {
        int nGroups = nIn / groupSize;
        long r0 = (long) o * nIn, s = nIn;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int g = 0, i = 0; g < nGroups; g++, i += groupSize) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            FloatVector t0 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t1 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + s + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t2 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 2 * s + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t3 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 3 * s + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t4 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 4 * s + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t5 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 5 * s + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t6 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 6 * s + i, LE).convertShape(B2F, F, 0)).mul(xv);
            FloatVector t7 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 7 * s + i, LE).convertShape(B2F, F, 0)).mul(xv);
            for (int end = i + groupSize, j = i + LANES; j < end; j += LANES) {
                xv = FloatVector.fromArray(F, x, j);
                t0 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + j, LE).convertShape(B2F, F, 0)).fma(xv, t0);
                t1 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + s + j, LE).convertShape(B2F, F, 0)).fma(xv, t1);
                t2 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 2 * s + j, LE).convertShape(B2F, F, 0)).fma(xv, t2);
                t3 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 3 * s + j, LE).convertShape(B2F, F, 0)).fma(xv, t3);
                t4 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 4 * s + j, LE).convertShape(B2F, F, 0)).fma(xv, t4);
                t5 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 5 * s + j, LE).convertShape(B2F, F, 0)).fma(xv, t5);
                t6 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 6 * s + j, LE).convertShape(B2F, F, 0)).fma(xv, t6);
                t7 = ((FloatVector) ByteVector.fromMemorySegment(B, values, r0 + 7 * s + j, LE).convertShape(B2F, F, 0)).fma(xv, t7);
            }
            a0 = t0.fma(FloatVector.broadcast(F, tileScales[g]), a0);
            a1 = t1.fma(FloatVector.broadcast(F, tileScales[nGroups + g]), a1);
            a2 = t2.fma(FloatVector.broadcast(F, tileScales[2 * nGroups + g]), a2);
            a3 = t3.fma(FloatVector.broadcast(F, tileScales[3 * nGroups + g]), a3);
            a4 = t4.fma(FloatVector.broadcast(F, tileScales[4 * nGroups + g]), a4);
            a5 = t5.fma(FloatVector.broadcast(F, tileScales[5 * nGroups + g]), a5);
            a6 = t6.fma(FloatVector.broadcast(F, tileScales[6 * nGroups + g]), a6);
            a7 = t7.fma(FloatVector.broadcast(F, tileScales[7 * nGroups + g]), a7);
        }
        y[o] = a0.reduceLanes(VectorOperators.ADD);
        y[o + 1] = a1.reduceLanes(VectorOperators.ADD);
        y[o + 2] = a2.reduceLanes(VectorOperators.ADD);
        y[o + 3] = a3.reduceLanes(VectorOperators.ADD);
        y[o + 4] = a4.reduceLanes(VectorOperators.ADD);
        y[o + 5] = a5.reduceLanes(VectorOperators.ADD);
        y[o + 6] = a6.reduceLanes(VectorOperators.ADD);
        y[o + 7] = a7.reduceLanes(VectorOperators.ADD);
    }

    /** Scratch for a row tile's widened scales (8 rows here, 4 in FewTokenRows), one per pool thread. */
    private static final ThreadLocal<float[]> TILE_SCALES = ThreadLocal.withInitial(() -> new float[0]);

    static float[] tileScales(int n) {
        float[] t = TILE_SCALES.get();
        if (t.length < n) TILE_SCALES.set(t = new float[n]);
        return t;
    }

    /** dst[0, n) = the fp16 scales [first, first + n) as floats ({@link Q8Weights#scaleAt}'s exact widening). */
    static void decodeScales(MemorySegment scales, long first, int n, float[] dst) {
        int k = 0;
        for (int bound = F.loopBound(n); k < bound; k += LANES) {
            ((IntVector) ShortVector.fromMemorySegment(S, scales, 2 * (first + k), LE).convertShape(S2I, I, 0))
                    .lanewise(AND, 0x7fff).lanewise(LSHL, 13).reinterpretAsFloats().mul(0x1p112f).intoArray(dst, k);
        }
        for (; k < n; k++) dst[k] = Q8Weights.scaleAt(scales, first + k);
    }

    /** One Q8 row, scalar (ragged row counts only). */
    private static float q8RowScalar(MemorySegment values, MemorySegment scales, int nIn, int groupSize, float[] x, int o) {
        int nGroups = (nIn + groupSize - 1) / groupSize;
        float sum = 0f;
        for (int i = 0; i < nIn; i++)
            sum += x[i] * values.get(ValueLayout.JAVA_BYTE, (long) o * nIn + i)
                    * Q8Weights.scaleAt(scales, (long) o * nGroups + i / groupSize);
        return sum;
    }

    // ------------------------------------------------------------------ input-major [nIn, nOut]: row updates

    /**
     * acc[accOff + o] += Σ_i x[i] · W[i, o] over stored rows i in [i0, i1) and every output o. A task owns whole
     * stored rows, so its reads are one long contiguous run the prefetcher follows (a split by output columns left
     * each thread a short run per row, a new page every few KB). Eight rows are combined per pass: eight streams in
     * flight, and each accumulator vector is loaded and stored once per eight rows instead of once per row.
     */
    static void inputMajor(DType dtype, MemorySegment w, int nOut, float[] x, int i0, int i1, float[] acc, int accOff) {
        int i = i0;
        for (; i + 8 <= i1; i += 8) {
            switch (dtype) {
                case F32 -> axpy8F32(w, nOut, x, i, acc, accOff);
                case BF16 -> axpy8Bf16(w, nOut, x, i, acc, accOff);
                case F16, Q8 -> throw new IllegalArgumentException(dtype + " rows take the panel path");
            }
        }
        for (; i < i1; i++) {
            float xi = x[i];
            long base = (long) i * nOut;
            for (int o = 0; o < nOut; o++) acc[accOff + o] += xi * scalar(dtype, w, base + o);
        }
    }

    private static void axpy8F32(MemorySegment w, int nOut, float[] x, int i, float[] acc, int accOff) {
        FloatVector x0 = FloatVector.broadcast(F, x[i]), x1 = FloatVector.broadcast(F, x[i + 1]);
        FloatVector x2 = FloatVector.broadcast(F, x[i + 2]), x3 = FloatVector.broadcast(F, x[i + 3]);
        FloatVector x4 = FloatVector.broadcast(F, x[i + 4]), x5 = FloatVector.broadcast(F, x[i + 5]);
        FloatVector x6 = FloatVector.broadcast(F, x[i + 6]), x7 = FloatVector.broadcast(F, x[i + 7]);
        long r0 = (long) i * nOut * 4, stride = nOut * 4L;
        int o = 0;
        for (int bound = F.loopBound(nOut); o < bound; o += LANES) {
            long b = r0 + 4L * o;
            FloatVector a = FloatVector.fromArray(F, acc, accOff + o);
            a = FloatVector.fromMemorySegment(F, w, b, LE).fma(x0, a);
            a = FloatVector.fromMemorySegment(F, w, b + stride, LE).fma(x1, a);
            a = FloatVector.fromMemorySegment(F, w, b + 2 * stride, LE).fma(x2, a);
            a = FloatVector.fromMemorySegment(F, w, b + 3 * stride, LE).fma(x3, a);
            a = FloatVector.fromMemorySegment(F, w, b + 4 * stride, LE).fma(x4, a);
            a = FloatVector.fromMemorySegment(F, w, b + 5 * stride, LE).fma(x5, a);
            a = FloatVector.fromMemorySegment(F, w, b + 6 * stride, LE).fma(x6, a);
            a = FloatVector.fromMemorySegment(F, w, b + 7 * stride, LE).fma(x7, a);
            a.intoArray(acc, accOff + o);
        }
        tail8(DType.F32, w, nOut, x, i, o, acc, accOff);
    }

    private static void axpy8Bf16(MemorySegment w, int nOut, float[] x, int i, float[] acc, int accOff) {
        FloatVector x0 = FloatVector.broadcast(F, x[i]), x1 = FloatVector.broadcast(F, x[i + 1]);
        FloatVector x2 = FloatVector.broadcast(F, x[i + 2]), x3 = FloatVector.broadcast(F, x[i + 3]);
        FloatVector x4 = FloatVector.broadcast(F, x[i + 4]), x5 = FloatVector.broadcast(F, x[i + 5]);
        FloatVector x6 = FloatVector.broadcast(F, x[i + 6]), x7 = FloatVector.broadcast(F, x[i + 7]);
        long r0 = (long) i * nOut * 2, stride = nOut * 2L;
        int o = 0;
        for (int bound = F.loopBound(nOut); o < bound; o += LANES) {
            long b = r0 + 2L * o;
            FloatVector a = FloatVector.fromArray(F, acc, accOff + o);
            a = ((IntVector) ShortVector.fromMemorySegment(S, w, b, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(x0, a);
            a = ((IntVector) ShortVector.fromMemorySegment(S, w, b + stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(x1, a);
            a = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(x2, a);
            a = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 3 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(x3, a);
            a = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 4 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(x4, a);
            a = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 5 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(x5, a);
            a = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 6 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(x6, a);
            a = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 7 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().fma(x7, a);
            a.intoArray(acc, accOff + o);
        }
        tail8(DType.BF16, w, nOut, x, i, o, acc, accOff);
    }

    private static void tail8(DType dtype, MemorySegment w, int nOut, float[] x, int i, int o, float[] acc, int accOff) {
        for (; o < nOut; o++) {
            long b = (long) i * nOut + o;
            float sum = acc[accOff + o];
            for (int k = 0; k < 8; k++) sum += x[i + k] * scalar(dtype, w, b + (long) k * nOut);
            acc[accOff + o] = sum;
        }
    }

    /**
     * A few tokens at once over [nIn, nOut] (the routed experts of a prefill, each given a handful of tokens):
     * acc[accOff + t·nOut + o] += Σ_i x[t·nIn + i] · W[i, o] over stored rows i in [i0, i1). Like {@link #inputMajor},
     * eight stored rows are streamed side by side, but each weight vector, widened once, serves every token: the
     * weights are read once for all tokens, with no fp32 panel in between.
     */
    static void inputMajorTokens(DType dtype, MemorySegment w, int nOut, float[] x, int nIn, int nTokens, int i0, int i1,
                                 float[] acc, int accOff) {
        int i = i0;
        for (; i + 8 <= i1; i += 8) {
            switch (dtype) {
                case F32 -> tokens8F32(w, nOut, x, nIn, nTokens, i, acc, accOff);
                case BF16 -> tokens8Bf16(w, nOut, x, nIn, nTokens, i, acc, accOff);
                case F16, Q8 -> throw new IllegalArgumentException(dtype + " rows take the panel path");
            }
        }
        for (; i < i1; i++) {
            long base = (long) i * nOut;
            for (int t = 0; t < nTokens; t++) {
                float xi = x[t * nIn + i];
                int a = accOff + t * nOut;
                for (int o = 0; o < nOut; o++) acc[a + o] += xi * scalar(dtype, w, base + o);
            }
        }
    }

    private static void tokens8F32(MemorySegment w, int nOut, float[] x, int nIn, int nTokens, int i, float[] acc,
                                   int accOff) {
        long r0 = (long) i * nOut * 4, stride = nOut * 4L;
        int o = 0;
        for (int bound = F.loopBound(nOut); o < bound; o += LANES) {
            long b = r0 + 4L * o;
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, b, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, w, b + stride, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F, w, b + 2 * stride, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F, w, b + 3 * stride, LE);
            FloatVector w4 = FloatVector.fromMemorySegment(F, w, b + 4 * stride, LE);
            FloatVector w5 = FloatVector.fromMemorySegment(F, w, b + 5 * stride, LE);
            FloatVector w6 = FloatVector.fromMemorySegment(F, w, b + 6 * stride, LE);
            FloatVector w7 = FloatVector.fromMemorySegment(F, w, b + 7 * stride, LE);
            tokens8(w0, w1, w2, w3, w4, w5, w6, w7, x, nIn, nTokens, i, acc, accOff + o, nOut);
        }
        tokens8Tail(DType.F32, w, nOut, x, nIn, nTokens, i, o, acc, accOff);
    }

    private static void tokens8Bf16(MemorySegment w, int nOut, float[] x, int nIn, int nTokens, int i, float[] acc,
                                    int accOff) {
        long r0 = (long) i * nOut * 2, stride = nOut * 2L;
        int o = 0;
        for (int bound = F.loopBound(nOut); o < bound; o += LANES) {
            long b = r0 + 2L * o;
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(S, w, b, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 2 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 3 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w4 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 4 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w5 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 5 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w6 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 6 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector w7 = ((IntVector) ShortVector.fromMemorySegment(S, w, b + 7 * stride, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
            tokens8(w0, w1, w2, w3, w4, w5, w6, w7, x, nIn, nTokens, i, acc, accOff + o, nOut);
        }
        tokens8Tail(DType.BF16, w, nOut, x, nIn, nTokens, i, o, acc, accOff);
    }

    /** Adds eight widened weight vectors (stored rows i..i+7, one output vector) into every token's accumulators. */
    private static void tokens8(FloatVector w0, FloatVector w1, FloatVector w2, FloatVector w3, FloatVector w4,
                                FloatVector w5, FloatVector w6, FloatVector w7, float[] x, int nIn, int nTokens, int i,
                                float[] acc, int accAt, int nOut) {
        for (int t = 0; t < nTokens; t++) {
            int xo = t * nIn + i, ao = accAt + t * nOut;
            FloatVector a = FloatVector.fromArray(F, acc, ao);
            FloatVector c = w4.mul(x[xo + 4]);
            a = w0.fma(FloatVector.broadcast(F, x[xo]), a);
            c = w5.fma(FloatVector.broadcast(F, x[xo + 5]), c);
            a = w1.fma(FloatVector.broadcast(F, x[xo + 1]), a);
            c = w6.fma(FloatVector.broadcast(F, x[xo + 6]), c);
            a = w2.fma(FloatVector.broadcast(F, x[xo + 2]), a);
            c = w7.fma(FloatVector.broadcast(F, x[xo + 7]), c);
            a = w3.fma(FloatVector.broadcast(F, x[xo + 3]), a);
            a.add(c).intoArray(acc, ao);
        }
    }

    private static void tokens8Tail(DType dtype, MemorySegment w, int nOut, float[] x, int nIn, int nTokens, int i, int o,
                                    float[] acc, int accOff) {
        for (; o < nOut; o++) {
            long b = (long) i * nOut + o;
            for (int t = 0; t < nTokens; t++) {
                float sum = acc[accOff + t * nOut + o];
                for (int k = 0; k < 8; k++) sum += x[t * nIn + i + k] * scalar(dtype, w, b + (long) k * nOut);
                acc[accOff + t * nOut + o] = sum;
            }
        }
    }

    /** y[o] = Σ_p parts[p · nOut + o] for o in [o0, o1): adds up the per-task partial outputs. */
    static void sumParts(float[] parts, int nParts, int nOut, float[] y, int o0, int o1) {
        int o = o0;
        for (; o + LANES <= o1; o += LANES) {
            FloatVector s = FloatVector.fromArray(F, parts, o);
            for (int p = 1; p < nParts; p++) s = s.add(FloatVector.fromArray(F, parts, p * nOut + o));
            s.intoArray(y, o);
        }
        for (; o < o1; o++) {
            float s = parts[o];
            for (int p = 1; p < nParts; p++) s += parts[p * nOut + o];
            y[o] = s;
        }
    }
}

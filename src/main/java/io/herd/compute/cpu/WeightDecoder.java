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
import java.util.Arrays;

import static io.herd.compute.cpu.Simd.B;
import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.I;
import static io.herd.compute.cpu.Simd.LANES;
import static io.herd.compute.cpu.Simd.LE;
import static io.herd.compute.cpu.Simd.S;

/**
 * Widens {@code n} consecutive stored weights to fp32 in a float[] panel. Kernels decode a cache-sized panel once
 * and reuse it for every token of the batch, so each format needs only this one loop, not its own matmul.
 */
final class WeightDecoder {
    private WeightDecoder() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** Decodes elements {@code [index, index+n)} of a plain F32/BF16/F16 segment into dst[dstOff..]. */
    static void decode(DType dtype, MemorySegment src, long index, float[] dst, int dstOff, int n) {
        switch (dtype) {
            case F32 -> f32(src, index * 4, dst, dstOff, n);
            case BF16 -> bf16(src, index * 2, dst, dstOff, n);
            case F16 -> f16(src, index * 2, dst, dstOff, n);
            case Q8, GGML_BLOCKS -> throw new IllegalArgumentException("Q8 needs its scales: use q8()");
        }
    }

    static void f32(MemorySegment src, long byteOff, float[] dst, int dstOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES)
            FloatVector.fromMemorySegment(F, src, byteOff + 4L * i, LE).intoArray(dst, dstOff + i);
        for (; i < n; i++) dst[dstOff + i] = src.get(F32, byteOff + 4L * i);
    }

    /** bf16 is the top half of an fp32: widen each 16-bit lane to 32 bits and shift it up. */
    static void bf16(MemorySegment src, long byteOff, float[] dst, int dstOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            IntVector wide = (IntVector) ShortVector.fromMemorySegment(S, src, byteOff + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) dst[dstOff + i] = Float.intBitsToFloat((src.get(I16, byteOff + 2L * i) & 0xffff) << 16);
    }

    /**
     * IEEE half to float: exponent and mantissa 13 bits up, times 2^112 to re-bias (exact, subnormals included);
     * exponent 31 (Inf/NaN) carries into bit 15 when 0x400 is added, and that bit, smeared over the word, ORs in the
     * all-ones fp32 exponent. Written inline: a vector-returning helper would box once compiled on its own.
     */
    static void f16(MemorySegment src, long byteOff, float[] dst, int dstOff, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, src, byteOff + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector magnitude = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
            IntVector bits = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .or(h.and(0x7c00).add(0x400).lanewise(VectorOperators.LSHL, 16)
                            .lanewise(VectorOperators.ASHR, 31).and(0x7f800000))
                    .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16));
            bits.reinterpretAsFloats().intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(src.get(I16, byteOff + 2L * i));
    }

    /** Q8 values times one scale: elements {@code [0, n)} from byteOff, all in the same scale group. */
    static void q8(MemorySegment values, long byteOff, float scale, float[] dst, int dstOff, int n) {
        int i = 0;
        if (B != null) {
            FloatVector s = FloatVector.broadcast(F, scale);
            for (int bound = F.loopBound(n); i < bound; i += LANES) {
                FloatVector v = (FloatVector) ByteVector.fromMemorySegment(B, values, byteOff + i, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                v.mul(s).intoArray(dst, dstOff + i);
            }
        }
        for (; i < n; i++) dst[dstOff + i] = values.get(ValueLayout.JAVA_BYTE, byteOff + i) * scale;
    }

    /**
     * Q8 values [col0, col0+n) of one row whose groups are a power of two (1 << shift) of whole vectors, col0 on a
     * vector boundary: one flat loop, each vector's scale found with a shift (no short loop per group).
     */
    static void q8Flat(MemorySegment values, long rowBase, MemorySegment scales, long scaleRow, int shift, int col0,
                       int n, float[] dst, int dstOff) {
        int i = 0;
        long group = -1;
        float scale = 0f;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            long g = scaleRow + ((col0 + i) >>> shift);
            if (g != group) { // each fp16 scale decoded once per group, not per vector
                group = g;
                scale = Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, g) & 0x7fff) << 13) * 0x1p112f;
            }
            ((FloatVector) ByteVector.fromMemorySegment(B, values, rowBase + col0 + i, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(scale).intoArray(dst, dstOff + i);
        }
        for (; i < n; i++)
            dst[dstOff + i] = values.get(ValueLayout.JAVA_BYTE, rowBase + col0 + i)
                    * Float.intBitsToFloat((scales.getAtIndex(Q8Weights.SCALE, scaleRow + ((col0 + i) >>> shift)) & 0x7fff) << 13) * 0x1p112f;
    }

    static void zero(float[] dst, int from, int to) {
        if (to > from) Arrays.fill(dst, from, to, 0f);
    }
}

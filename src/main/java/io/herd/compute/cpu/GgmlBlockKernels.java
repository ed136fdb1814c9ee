package io.herd.compute.cpu;

import io.herd.compute.GgmlBlockDecoder;
import io.herd.compute.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.herd.compute.cpu.Simd.B;
import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.I;
import static io.herd.compute.cpu.Simd.LANES;
import static io.herd.compute.cpu.Simd.LE;

/**
 * Vector API dequantization of ggml blocks: LANES packed values at a time are widened to int lanes, unpacked with
 * masks and shifts, converted to fp32 and scaled with the same fp32 operations in the same order as
 * {@link GgmlBlockDecoder} (a multiply, then an add or subtract, never fused), so the values are bit-identical to the
 * scalar reference. Needs vectors of 8 or 16 floats (LANES divides every 16-value run of a block); elsewhere the
 * scalar reference decodes.
 */
final class GgmlBlockKernels {
    private GgmlBlockKernels() {}

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    /** Whether the vector path applies on this CPU. */
    static final boolean VECTOR = B != null && (LANES == 8 || LANES == 16);
    private static final IntVector IOTA = VECTOR ? IntVector.zero(I).addIndex(1) : null;

    /** As {@link GgmlBlockDecoder#decode}, on the Vector API where it applies. */
    static void decode(GgmlType type, MemorySegment s, long offset, int nBlocks, float[] y, int yOff) {
        if (!VECTOR) {
            GgmlBlockDecoder.decode(type, s, offset, nBlocks, y, yOff);
            return;
        }
        for (int b = 0; b < nBlocks; b++) {
            long at = offset + (long) b * type.blockBytes;
            int o = yOff + b * type.blockSize;
            switch (type) {
                case Q8_0 -> q8_0(s, at, y, o);
                case Q4_0 -> q4_0(s, at, y, o);
                case Q4_1 -> q4_1(s, at, y, o);
                case Q5_0 -> q5_0(s, at, y, o);
                case Q4_K -> q4_k(s, at, y, o);
                case Q5_K -> q5_k(s, at, y, o);
                case Q6_K -> q6_k(s, at, y, o);
                default -> GgmlBlockDecoder.decode(type, s, at, 1, y, o);
            }
        }
    }

    private static float half(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(I16, at));
    }

    /** LANES bytes from {@code at} as unsigned ints. */
    private static IntVector bytes(MemorySegment s, long at) {
        return ((IntVector) ByteVector.fromMemorySegment(B, s, at, LE).convertShape(VectorOperators.B2I, I, 0)).and(0xFF);
    }

    private static FloatVector floats(IntVector v) {
        return (FloatVector) v.convertShape(VectorOperators.I2F, F, 0);
    }

    private static void q8_0(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at);
        for (int j = 0; j < 32; j += LANES)
            ((FloatVector) ByteVector.fromMemorySegment(B, s, at + 2 + j, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(d).intoArray(y, o + j);
    }

    private static void q4_0(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at);
        for (int j = 0; j < 16; j += LANES) {
            IntVector q = bytes(s, at + 2 + j);
            floats(q.and(0xF).sub(8)).mul(d).intoArray(y, o + j);
            floats(q.lanewise(VectorOperators.LSHR, 4).sub(8)).mul(d).intoArray(y, o + 16 + j);
        }
    }

    private static void q4_1(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), m = half(s, at + 2);
        for (int j = 0; j < 16; j += LANES) {
            IntVector q = bytes(s, at + 4 + j);
            floats(q.and(0xF)).mul(d).add(m).intoArray(y, o + j);
            floats(q.lanewise(VectorOperators.LSHR, 4)).mul(d).add(m).intoArray(y, o + 16 + j);
        }
    }

    private static void q5_0(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at);
        IntVector qh = IntVector.broadcast(I, s.get(I32, at + 2));
        for (int j = 0; j < 16; j += LANES) {
            IntVector q = bytes(s, at + 6 + j);
            IntVector lane = IOTA.add(j);
            IntVector h0 = qh.lanewise(VectorOperators.LSHR, lane).and(1).lanewise(VectorOperators.LSHL, 4);
            IntVector h1 = qh.lanewise(VectorOperators.LSHR, lane.add(16)).and(1).lanewise(VectorOperators.LSHL, 4);
            floats(q.and(0xF).or(h0).sub(16)).mul(d).intoArray(y, o + j);
            floats(q.lanewise(VectorOperators.LSHR, 4).or(h1).sub(16)).mul(d).intoArray(y, o + 16 + j);
        }
    }

    private static void q4_k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), dmin = half(s, at + 2);
        long sc = at + 4, q = at + 16;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
            float d1 = d * scale(s, sc, is), m1 = dmin * min(s, sc, is);
            float d2 = d * scale(s, sc, is + 1), m2 = dmin * min(s, sc, is + 1);
            for (int l = 0; l < 32; l += LANES) {
                IntVector v = bytes(s, q + l);
                floats(v.and(0xF)).mul(d1).sub(m1).intoArray(y, o + j + l);
                floats(v.lanewise(VectorOperators.LSHR, 4)).mul(d2).sub(m2).intoArray(y, o + j + 32 + l);
            }
        }
    }

    private static void q5_k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), dmin = half(s, at + 2);
        long sc = at + 4, qh = at + 16, ql = at + 48;
        for (int j = 0, is = 0, bit = 0; j < 256; j += 64, is += 2, ql += 32, bit += 2) {
            float d1 = d * scale(s, sc, is), m1 = dmin * min(s, sc, is);
            float d2 = d * scale(s, sc, is + 1), m2 = dmin * min(s, sc, is + 1);
            for (int l = 0; l < 32; l += LANES) {
                IntVector v = bytes(s, ql + l), h = bytes(s, qh + l);
                IntVector h1 = h.lanewise(VectorOperators.LSHR, bit).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector h2 = h.lanewise(VectorOperators.LSHR, bit + 1).and(1).lanewise(VectorOperators.LSHL, 4);
                floats(v.and(0xF).add(h1)).mul(d1).sub(m1).intoArray(y, o + j + l);
                floats(v.lanewise(VectorOperators.LSHR, 4).add(h2)).mul(d2).sub(m2).intoArray(y, o + j + 32 + l);
            }
        }
    }

    private static void q6_k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at + 208);
        long ql = at, qh = at + 128, sc = at + 192;
        for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l += LANES) {
                int is = l / 16;
                IntVector lo = bytes(s, ql + l), lo2 = bytes(s, ql + l + 32), h = bytes(s, qh + l);
                IntVector q1 = lo.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q2 = lo2.and(0xF).or(h.lanewise(VectorOperators.LSHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q3 = lo.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q4 = lo2.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                floats(q1).mul(d * s.get(ValueLayout.JAVA_BYTE, sc + is)).intoArray(y, o + n + l);
                floats(q2).mul(d * s.get(ValueLayout.JAVA_BYTE, sc + is + 2)).intoArray(y, o + n + l + 32);
                floats(q3).mul(d * s.get(ValueLayout.JAVA_BYTE, sc + is + 4)).intoArray(y, o + n + l + 64);
                floats(q4).mul(d * s.get(ValueLayout.JAVA_BYTE, sc + is + 6)).intoArray(y, o + n + l + 96);
            }
        }
    }

    private static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    /** The packed 6-bit scale and min of sub-block j (the layout {@link GgmlBlockDecoder} documents). */
    private static int scale(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j) & 63 : (u8(s, sc + j + 4) & 0xF) | ((u8(s, sc + j - 4) >> 6) << 4);
    }

    private static int min(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j + 4) & 63 : (u8(s, sc + j + 4) >> 4) | ((u8(s, sc + j) >> 6) << 4);
    }
}

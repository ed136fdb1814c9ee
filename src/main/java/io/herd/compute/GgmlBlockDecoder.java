package io.herd.compute;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar dequantization of ggml blocks to fp32, bit for bit as ggml's reference {@code dequantize_row_*} computes
 * them: each product is rounded to fp32 in the same order (no fused multiply-add), so a value decoded here equals
 * the C reference compiled without contraction. This is the oracle the vectorised kernels are tested against.
 *
 * <p>Layouts (ggml-common.h): all scales are little-endian IEEE halves; K-quants pack 256 values per block.
 */
public final class GgmlBlockDecoder {
    private GgmlBlockDecoder() {}

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Decodes {@code nBlocks} consecutive blocks of {@code type} starting at byte {@code offset} of {@code src} into
     * {@code dst[dstOff ..]} ({@code nBlocks · blockSize} values).
     */
    public static void decode(GgmlType type, MemorySegment src, long offset, int nBlocks, float[] dst, int dstOff) {
        int bs = type.blockBytes;
        for (int b = 0; b < nBlocks; b++) {
            long at = offset + (long) b * bs;
            int o = dstOff + b * type.blockSize;
            switch (type) {
                case F32 -> dst[o] = src.get(F32, at);
                case F16 -> dst[o] = Float.float16ToFloat(src.get(I16, at));
                case BF16 -> dst[o] = Float.intBitsToFloat((src.get(I16, at) & 0xffff) << 16);
                case Q4_0 -> q4_0(src, at, dst, o);
                case Q4_1 -> q4_1(src, at, dst, o);
                case Q5_0 -> q5_0(src, at, dst, o);
                case Q8_0 -> q8_0(src, at, dst, o);
                case Q4_K -> q4_k(src, at, dst, o);
                case Q5_K -> q5_k(src, at, dst, o);
                case Q6_K -> q6_k(src, at, dst, o);
                default -> throw new IllegalArgumentException("no decoder for ggml type " + type);
            }
        }
    }

    private static float half(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(I16, at));
    }

    private static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    /** d, then 16 bytes: low nibbles are values 0–15, high nibbles 16–31. */
    static void q4_0(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 2 + j);
            y[o + j] = ((q & 0xF) - 8) * d;
            y[o + j + 16] = ((q >> 4) - 8) * d;
        }
    }

    /** d, m, then nibbles as Q4_0. */
    static void q4_1(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), m = half(s, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 4 + j);
            y[o + j] = (q & 0xF) * d + m;
            y[o + j + 16] = (q >> 4) * d + m;
        }
    }

    /** d, a u32 of fifth bits (bit j for value j), then nibbles as Q4_0. */
    static void q5_0(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at);
        int qh = s.get(I32, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 6 + j);
            int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
            y[o + j] = (((q & 0xF) | h0) - 16) * d;
            y[o + j + 16] = (((q >> 4) | h1) - 16) * d;
        }
    }

    static void q8_0(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at);
        for (int j = 0; j < 32; j++) y[o + j] = s.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
    }

    /**
     * The 6-bit scale (index 0) and min (index 1) of sub-block j from the 12 packed bytes at {@code sc}: sub-blocks
     * 0–3 in the low 6 bits of bytes j and j+4; 4–7 in a nibble of byte j+4 plus the top 2 bits of bytes j−4 and j.
     */
    static int scale(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j) & 63 : (u8(s, sc + j + 4) & 0xF) | ((u8(s, sc + j - 4) >> 6) << 4);
    }

    static int min(MemorySegment s, long sc, int j) {
        return j < 4 ? u8(s, sc + j + 4) & 63 : (u8(s, sc + j + 4) >> 4) | ((u8(s, sc + j) >> 6) << 4);
    }

    /** d, dmin, 12 scale bytes, 128 bytes: each 32 bytes hold two sub-blocks (low nibbles, then high nibbles). */
    static void q4_k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), dmin = half(s, at + 2);
        long sc = at + 4, q = at + 16;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
            float d1 = d * scale(s, sc, is), m1 = dmin * min(s, sc, is);
            float d2 = d * scale(s, sc, is + 1), m2 = dmin * min(s, sc, is + 1);
            for (int l = 0; l < 32; l++) y[o + j + l] = d1 * (u8(s, q + l) & 0xF) - m1;
            for (int l = 0; l < 32; l++) y[o + j + 32 + l] = d2 * (u8(s, q + l) >> 4) - m2;
        }
    }

    /** As Q4_K with 32 bytes of fifth bits after the scales: bit 2i (low nibbles) and 2i+1 (high) of byte l. */
    static void q5_k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at), dmin = half(s, at + 2);
        long sc = at + 4, qh = at + 16, ql = at + 48;
        int u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            float d1 = d * scale(s, sc, is), m1 = dmin * min(s, sc, is);
            float d2 = d * scale(s, sc, is + 1), m2 = dmin * min(s, sc, is + 1);
            for (int l = 0; l < 32; l++)
                y[o + j + l] = d1 * ((u8(s, ql + l) & 0xF) + ((u8(s, qh + l) & u1) != 0 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++)
                y[o + j + 32 + l] = d2 * ((u8(s, ql + l) >> 4) + ((u8(s, qh + l) & u2) != 0 ? 16 : 0)) - m2;
        }
    }

    /**
     * 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales, d. Each half of 128 values takes 64
     * low-nibble bytes, 32 high bytes and 8 scales; within it, value l+32k takes nibble/bit-pair k.
     */
    static void q6_k(MemorySegment s, long at, float[] y, int o) {
        float d = half(s, at + 208);
        long ql = at, qh = at + 128, sc = at + 192;
        for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(s, qh + l);
                int q1 = ((u8(s, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(s, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((u8(s, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((u8(s, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                y[o + n + l] = d * s.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                y[o + n + l + 32] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                y[o + n + l + 64] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                y[o + n + l + 96] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }
}

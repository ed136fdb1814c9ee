package io.herd.compute;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Products over ggml block-format weights ({@link Matrices#ggml}) against the scalar reference: every weight
 * dequantized by {@link GgmlBlockDecoder} (bit-exact with ggml, see GgmlBlockDecoderTest) and summed in double. The
 * kernels widen to exactly those fp32 values, so only the summation order differs ({@link NmseBounds#SAME_WEIGHTS}).
 * Token counts cover each path: one-token GEMV, the panel GEMM and the token-lane GEMM.
 */
class GgmlBlockMatrixTest {
    /** Byte offsets of each format's f16 scales, set to finite values so random blocks decode to finite numbers. */
    static final Map<GgmlType, int[]> HALVES = Map.of(GgmlType.Q4_0, new int[] {0}, GgmlType.Q4_1, new int[] {0, 2},
            GgmlType.Q5_0, new int[] {0}, GgmlType.Q8_0, new int[] {0}, GgmlType.Q4_K, new int[] {0, 2},
            GgmlType.Q5_K, new int[] {0, 2}, GgmlType.Q6_K, new int[] {208});

    /** nOut rows of nIn values of random blocks with scales of about 1/64. */
    static MemorySegment randomBlocks(GgmlType type, int nOut, int nIn, long seed) {
        Random rnd = new Random(seed);
        int nBlocks = nOut * (nIn / type.blockSize);
        byte[] bytes = new byte[nBlocks * type.blockBytes];
        rnd.nextBytes(bytes);
        for (int b = 0; b < nBlocks; b++)
            for (int off : HALVES.get(type)) {
                short h = Float.floatToFloat16((float) ((rnd.nextDouble() * 2 - 1) / 64));
                bytes[b * type.blockBytes + off] = (byte) h;
                bytes[b * type.blockBytes + off + 1] = (byte) (h >> 8);
            }
        return MemorySegment.ofArray(bytes);
    }

    static float[] dequantized(GgmlType type, MemorySegment data, int nOut, int nIn) {
        float[] w = new float[nOut * nIn];
        GgmlBlockDecoder.decode(type, data, 0, nOut * nIn / type.blockSize, w, 0);
        return w;
    }

    private static double nmse(float[] got, double[] want) {
        double err = 0, ref = 0;
        for (int i = 0; i < want.length; i++) {
            err += (got[i] - want[i]) * (got[i] - want[i]);
            ref += want[i] * want[i];
        }
        return err / ref;
    }

    private static void check(GgmlType type, int nOut, int nIn, int nTokens, long seed) {
        MemorySegment data = randomBlocks(type, nOut, nIn, seed);
        float[] w = dequantized(type, data, nOut, nIn);
        Matrix m = Matrices.ggml(data, type, nOut, nIn);
        Random rnd = new Random(seed + 1);
        float[] x = new float[nTokens * nIn];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        double[] want = new double[nTokens * nOut];
        for (int t = 0; t < nTokens; t++)
            for (int o = 0; o < nOut; o++) {
                double s = 0;
                for (int i = 0; i < nIn; i++) s += (double) x[t * nIn + i] * w[o * nIn + i];
                want[t * nOut + o] = s;
            }
        float[] y = new float[nTokens * nOut];
        m.matmul(x, y, nTokens);
        double e = nmse(y, want);
        assertTrue(e < NmseBounds.SAME_WEIGHTS, type + " " + nOut + "x" + nIn + " tokens " + nTokens + ": NMSE " + e);
        assertEquals(w[(nOut - 1) * nIn + nIn - 3], m.get(nOut - 1, nIn - 3));
        assertEquals(w[5], m.get(0, 5));
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void gemvAndPanelMatchTheReference(GgmlType type) {
        for (int nTokens : new int[] {1, 3, 17}) check(type, 40, 768, nTokens, 7 + nTokens);
        assertEquals((long) 40 * 768 / type.blockSize * type.blockBytes, Matrices.ggml(randomBlocks(type, 40, 768, 1), type, 40, 768).bytesRead());
    }

    /** Large enough for the token-lane GEMM (a million weights, 40 tokens). */
    @ParameterizedTest
    @EnumSource(names = {"Q4_K", "Q6_K", "Q8_0"})
    void tokenLaneGemmMatchesTheReference(GgmlType type) {
        check(type, 512, 2048, 40, 3);
    }

    @Test
    void stackedRowsJoinTwoMatrices() {
        MemorySegment a = randomBlocks(GgmlType.Q4_K, 8, 256, 1), b = randomBlocks(GgmlType.Q6_K, 5, 256, 2);
        Matrix top = Matrices.ggml(a, GgmlType.Q4_K, 8, 256), bottom = Matrices.ggml(b, GgmlType.Q6_K, 5, 256);
        Matrix both = Matrices.stackRows(top, bottom);
        assertEquals(13, both.nOut());
        float[] x = new float[2 * 256];
        Random rnd = new Random(4);
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] yTop = new float[16], yBottom = new float[10], y = new float[26];
        top.matmul(x, yTop, 2);
        bottom.matmul(x, yBottom, 2);
        both.matmul(x, y, 2);
        for (int t = 0; t < 2; t++) {
            for (int o = 0; o < 8; o++) assertEquals(yTop[t * 8 + o], y[t * 13 + o]);
            for (int o = 0; o < 5; o++) assertEquals(yBottom[t * 5 + o], y[t * 13 + 8 + o]);
        }
        assertEquals(bottom.get(2, 7), both.get(10, 7));
        assertThrows(IllegalArgumentException.class, () -> Matrices.stackRows(top, Matrices.ggml(randomBlocks(GgmlType.Q8_0, 1, 32, 5), GgmlType.Q8_0, 1, 32)));
    }

    @Test
    void refusesShapesTheBytesCannotHold() {
        MemorySegment data = randomBlocks(GgmlType.Q4_K, 2, 256, 1);
        assertThrows(IllegalArgumentException.class, () -> Matrices.ggml(data, GgmlType.Q4_K, 3, 256));
        assertThrows(IllegalArgumentException.class, () -> Matrices.ggml(data, GgmlType.Q4_K, 1, 300));
        assertThrows(IllegalArgumentException.class, () -> Matrices.ggml(data, GgmlType.Q2_K, 1, 256));
    }
}

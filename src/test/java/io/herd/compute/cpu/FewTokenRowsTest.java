package io.herd.compute.cpu;

import io.herd.compute.DType;
import io.herd.compute.Q8Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

/**
 * The few-token row-major kernels against a double-precision product of the same stored weights, called directly so
 * that small shapes exercise every edge: rows not a multiple of the four-row tile, tokens not a multiple of the
 * four-token tile (2, 3, 5, 7), per-row and grouped Q8 scales. Inputs are whole vectors, as the path requires.
 */
class FewTokenRowsTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(Simd.LE);

    @ParameterizedTest(name = "bf16 {0}x{1} tokens={2}")
    @CsvSource({"4, 1, 2", "7, 2, 3", "13, 3, 4", "21, 5, 5", "64, 8, 7", "9, 4, 12", "30, 6, 31"})
    void bf16MatchesTheExactProduct(int nOut, int vectors, int nTokens) {
        int nIn = vectors * Simd.LANES;
        SplittableRandom rnd = new SplittableRandom(nOut * 31L + nIn);
        try (Arena arena = Arena.ofShared(); CpuThreadPool pool = new CpuThreadPool(2)) {
            MemorySegment w = arena.allocate(2L * nOut * nIn);
            for (long k = 0; k < (long) nOut * nIn; k++) w.setAtIndex(I16, k, Bf16.fromFloat((float) rnd.nextDouble(-1, 1)));
            float[] x = random(rnd, nTokens * nIn);
            float[] y = filledWithNaN(nTokens * nOut);
            FewTokenRows.bf16(w, nOut, nIn, x, y, nTokens, pool);
            CpuMatrix stored = CpuMatrix.rowMajor(w, DType.BF16, nOut, nIn, pool);
            assertMatches(y, x, nOut, nIn, nTokens, (o, i) -> stored.get(o, i));
        }
    }

    @ParameterizedTest(name = "q8 group={0} {1}x{2} tokens={3}")
    @CsvSource({"0, 7, 4, 3", "0, 21, 5, 6", "32, 13, 4, 5", "32, 8, 6, 4", "64, 9, 8, 9", "0, 30, 2, 31"})
    void q8MatchesTheExactProduct(int groupSize, int nOut, int vectors, int nTokens) {
        int nIn = vectors * Simd.LANES;
        org.junit.jupiter.api.Assumptions.assumeTrue(GemvKernels.q8Supported(nIn, groupSize == 0 ? nIn : groupSize),
                "group " + groupSize + " is not whole vectors at " + Simd.LANES + " lanes");
        SplittableRandom rnd = new SplittableRandom(nOut * 17L + nIn + groupSize);
        try (Arena arena = Arena.ofShared(); CpuThreadPool pool = new CpuThreadPool(2)) {
            Q8Weights q = Q8Weights.allocate(arena, nOut, nIn, groupSize);
            for (int o = 0; o < nOut; o++) q.quantizeRow(o, random(rnd, nIn), 0);
            float[] x = random(rnd, nTokens * nIn);
            float[] y = filledWithNaN(nTokens * nOut);
            FewTokenRows.q8(q, x, y, nTokens, pool);
            assertMatches(y, x, nOut, nIn, nTokens, q::get);
        }
    }

    /** Through the matrix's own dispatch, at a size that takes this path: each token equals its own decode GEMV. */
    @Test
    void dispatchedMatmulEqualsOneGemvPerToken() {
        int nOut = 1024, nIn = 1024, nTokens = 6;
        assertThat(FewTokenRows.suitsBf16(nOut, nIn, nTokens)).isTrue();
        SplittableRandom rnd = new SplittableRandom(7);
        try (Arena arena = Arena.ofShared(); CpuThreadPool pool = new CpuThreadPool(2)) {
            MemorySegment w = arena.allocate(2L * nOut * nIn);
            for (long k = 0; k < (long) nOut * nIn; k++) w.setAtIndex(I16, k, Bf16.fromFloat((float) rnd.nextDouble(-1, 1)));
            CpuMatrix m = CpuMatrix.rowMajor(w, DType.BF16, nOut, nIn, pool);
            float[] x = random(rnd, nTokens * nIn), y = new float[nTokens * nOut];
            m.matmul(x, y, nTokens);
            for (int t = 0; t < nTokens; t++) {
                float[] one = new float[nOut];
                m.matmul(Arrays.copyOfRange(x, t * nIn, (t + 1) * nIn), one, 1);
                for (int o = 0; o < nOut; o++)
                    assertThat(y[t * nOut + o]).as("token %d output %d", t, o).isCloseTo(one[o], offset(2e-4f));
            }
        }
    }

    private interface Weight {
        float at(int out, int in);
    }

    private static void assertMatches(float[] y, float[] x, int nOut, int nIn, int nTokens, Weight w) {
        for (int t = 0; t < nTokens; t++)
            for (int o = 0; o < nOut; o++) {
                double exact = 0;
                for (int i = 0; i < nIn; i++) exact += (double) x[t * nIn + i] * w.at(o, i);
                assertThat((double) y[t * nOut + o]).as("token %d output %d", t, o)
                        .isCloseTo(exact, offset(1e-4 * Math.sqrt(nIn) + 1e-5));
            }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextDouble(-1, 1);
        return v;
    }

    private static float[] filledWithNaN(int n) {
        float[] v = new float[n];
        Arrays.fill(v, Float.NaN); // every output must be written
        return v;
    }
}

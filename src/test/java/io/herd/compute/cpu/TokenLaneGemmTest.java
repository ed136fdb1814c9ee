package io.herd.compute.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The token-lane GEMM against a double-precision product, called directly so that shapes below its size threshold
 * (kept small for test time) still exercise every edge: outputs not a multiple of the 8-row tile, inputs longer than
 * one panel chunk and ragged, tokens not a multiple of the two lane vectors.
 */
class TokenLaneGemmTest {
    @ParameterizedTest(name = "inputMajor={0} {1}x{2} tokens={3}")
    @CsvSource({
            "false, 8, 16, 32", "false, 13, 515, 33", "false, 70, 1100, 65", "false, 129, 1536, 40",
            "true, 8, 16, 32", "true, 13, 515, 33", "true, 300, 1100, 65", "true, 257, 600, 40",
            "false, 24, 100, 300", "true, 24, 100, 530", "false, 200, 700, 48"}) // more tokens than one pass takes
    void matchesTheExactProduct(boolean inputMajor, int nOut, int nIn, int nTokens) {
        SplittableRandom rnd = new SplittableRandom(nOut * 31L + nIn);
        float[] w = new float[nOut * nIn]; // stored as [nOut][nIn] or [nIn][nOut]
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextDouble(-1, 1);
        float[] x = new float[nTokens * nIn];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        int rowLength = inputMajor ? nOut : nIn;
        StoredRows rows = (row, col0, n, dst, dstOff) -> System.arraycopy(w, row * rowLength + col0, dst, dstOff, n);
        float[] y = new float[nTokens * nOut];
        java.util.Arrays.fill(y, Float.NaN); // every output must be written
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            TokenLaneGemm.matmul(rows, inputMajor, nOut, nIn, x, y, nTokens, pool);
            // A second call reuses the thread's transposed buffers, now holding the first call's values.
            float[] y2 = new float[nTokens * nOut];
            TokenLaneGemm.matmul(rows, inputMajor, nOut, nIn, x, y2, nTokens, pool);
            assertThat(y2).containsExactly(y);
        }
        for (int t = 0; t < nTokens; t++)
            for (int o = 0; o < nOut; o++) {
                double exact = 0;
                for (int i = 0; i < nIn; i++)
                    exact += (double) x[t * nIn + i] * w[inputMajor ? i * nOut + o : o * nIn + i];
                assertThat((double) y[t * nOut + o]).as("token %d output %d", t, o).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-4 * Math.sqrt(nIn) + 1e-5));
            }
    }
}

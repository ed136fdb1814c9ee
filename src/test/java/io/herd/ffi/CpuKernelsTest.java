package io.herd.ffi;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The native CPU kernels against scalar references; skipped, with the reason, where they do not run. */
class CpuKernelsTest {
    private static final ValueLayout.OfShort FP16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static CpuKernels kernels;

    @BeforeAll
    static void load() {
        CpuKernels.Availability availability = CpuKernels.availability();
        assertThat(availability.description()).isNotBlank();
        assumeTrue(availability.kernels().isPresent(), availability.description());
        kernels = availability.kernels().get();
    }

    @Test
    void activationsRoundTripWithinHalfAStep() {
        assumeTrue(kernels.q8(), "no Q8 kernel on this CPU (no AVX-512 VNNI)");
        Random rnd = new Random(7);
        int n = 32 * 40;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
        Arrays.fill(x, 64, 96, 0f);              // an all-zero run
        x[100] = -1e-30f;                        // a tiny run maximum
        for (int i = 97; i < 128; i++) if (i != 100) x[i] = 0f;
        short[] xq = new short[n];
        float[] xs = new float[n / 32];
        kernels.quantizeActivations(x, n, xq, xs);
        for (int c = 0; c < n / 32; c++) {
            float absmax = 0;
            for (int i = 32 * c; i < 32 * c + 32; i++) absmax = Math.max(absmax, Math.abs(x[i]));
            assertThat(xs[c]).as("scale of run %d", c).isCloseTo(absmax / 32767f, org.assertj.core.data.Percentage.withPercentage(1e-4));
            int largest = 0;
            for (int i = 32 * c; i < 32 * c + 32; i++) {
                assertThat((double) Math.abs(xq[i] * xs[c] - x[i])).as("x[%d]", i).isLessThanOrEqualTo(xs[c] * 0.5001);
                largest = Math.max(largest, Math.abs(xq[i]));
            }
            assertThat(largest).isEqualTo(absmax > 0 ? 32767 : 0);
        }
    }

    @Test
    void nonFiniteRunsGetNanScales() {
        assumeTrue(kernels.q8(), "no Q8 kernel on this CPU (no AVX-512 VNNI)");
        float[] x = new float[96];
        Arrays.fill(x, 1f);
        x[3] = Float.NaN;
        x[40] = Float.POSITIVE_INFINITY;
        short[] xq = new short[96];
        float[] xs = new float[3];
        kernels.quantizeActivations(x, 96, xq, xs);
        assertThat(xs[0]).isNaN();
        assertThat(xs[1]).isNaN();
        assertThat(xs[2]).isEqualTo(1f / 32767f);
    }

    @ParameterizedTest(name = "{0}x{1} group {2}")
    @CsvSource({"1,32,32", "3,64,32", "4,96,64", "5,2048,32", "9,1024,128", "13,160,160", "37,5120,32", "6,4096,4096"})
    void gemvMatchesScalarReferenceForAnyRowRange(int nOut, int nIn, int groupSize) {
        assumeTrue(kernels.q8(), "no Q8 kernel on this CPU (no AVX-512 VNNI)");
        Random rnd = new Random(nOut * 31L + nIn + groupSize);
        int nGroups = (nIn + groupSize - 1) / groupSize;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate((long) nOut * nIn);
            MemorySegment scales = arena.allocate(2L * nOut * nGroups);
            float[] scale = new float[nOut * nGroups];
            for (long i = 0; i < (long) nOut * nIn; i++) values.set(ValueLayout.JAVA_BYTE, i, (byte) (rnd.nextInt(255) - 127));
            for (int i = 0; i < scale.length; i++) {
                short h = Float.floatToFloat16(0.001f + rnd.nextFloat() * 0.05f);
                scales.setAtIndex(FP16, i, h);
                scale[i] = Float.float16ToFloat(h);
            }
            float[] x = new float[nIn];
            for (int i = 0; i < nIn; i++) x[i] = (float) rnd.nextGaussian();
            short[] xq = new short[nIn];
            float[] xs = new float[nIn / 32];
            kernels.quantizeActivations(x, nIn, xq, xs);

            float[] y = new float[nOut];
            kernels.q8Gemv(values, scales, nIn, groupSize, xq, xs, y, 0, nOut);
            for (int o = 0; o < nOut; o++) {
                double exact = 0, magnitude = 0;
                for (int i = 0; i < nIn; i++) {
                    double w = values.get(ValueLayout.JAVA_BYTE, (long) o * nIn + i) * (double) scale[o * nGroups + i / groupSize];
                    exact += w * x[i];
                    magnitude += Math.abs(w * x[i]);
                }
                // int16 activations: each product is off by at most half an activation step, 1/65534 of its run's max.
                assertThat(Math.abs(y[o] - exact)).as("row %d", o).isLessThanOrEqualTo(magnitude * 1e-4 + 1e-6);
            }
            // Rows computed in other ranges (other tilings, as other thread splits give) come out bit-identical.
            for (int split = 1; split < nOut; split += 2) {
                float[] parts = new float[nOut];
                kernels.q8Gemv(values, scales, nIn, groupSize, xq, xs, parts, 0, split);
                kernels.q8Gemv(values, scales, nIn, groupSize, xq, xs, parts, split, nOut);
                assertThat(parts).as("split at %d", split).isEqualTo(y);
            }
        }
    }

    private static MemorySegment randomBf16(Arena arena, int n, Random rnd) {
        MemorySegment w = arena.allocate(2L * n);
        for (int i = 0; i < n; i++)
            w.setAtIndex(FP16, i, (short) (Float.floatToRawIntBits((float) rnd.nextGaussian()) >>> 16));
        return w;
    }

    private static float bf16(MemorySegment w, long index) {
        return Float.intBitsToFloat((w.getAtIndex(FP16, index) & 0xffff) << 16);
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"1,32", "13,64", "8,96", "21,1024"})
    void bf16RowsMatchScalarReference(int nOut, int nIn) {
        assumeTrue(kernels.bf16(), "no BF16 kernels on this CPU");
        Random rnd = new Random(nOut + 7L * nIn);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomBf16(arena, nOut * nIn, rnd);
            float[] x = new float[nIn], pairs = new float[nIn];
            for (int i = 0; i < nIn; i++) x[i] = (float) rnd.nextGaussian();
            for (int j = 0; j < nIn / 2; j++) {
                pairs[j] = x[2 * j];
                pairs[nIn / 2 + j] = x[2 * j + 1];
            }
            float[] y = new float[nOut];
            kernels.bf16Gemv(w, nIn, pairs, y, 0, nOut);
            for (int o = 0; o < nOut; o++) {
                double exact = 0, magnitude = 0;
                for (int i = 0; i < nIn; i++) {
                    exact += (double) bf16(w, (long) o * nIn + i) * x[i];
                    magnitude += Math.abs((double) bf16(w, (long) o * nIn + i) * x[i]);
                }
                assertThat(Math.abs(y[o] - exact)).as("row %d", o).isLessThanOrEqualTo(magnitude * 1e-6);
            }
            float[] parts = new float[nOut];
            kernels.bf16Gemv(w, nIn, pairs, parts, 0, nOut / 2);
            kernels.bf16Gemv(w, nIn, pairs, parts, nOut / 2, nOut);
            assertThat(parts).isEqualTo(y);
        }
    }

    @ParameterizedTest(name = "{0} rows of {1}")
    @CsvSource({"1,1", "8,16", "11,37", "19,300"})
    void bf16InputMajorRowsAddIntoTheirOutputs(int nRows, int nOut) {
        assumeTrue(kernels.bf16(), "no BF16 kernels on this CPU");
        Random rnd = new Random(nRows * 13L + nOut);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomBf16(arena, (nRows + 2) * nOut, rnd);
            float[] x = new float[nRows + 2];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] acc = new float[nOut + 5];
            java.util.Arrays.fill(acc, 1f);
            kernels.bf16Axpy(w, nOut, x, 1, 1 + nRows, acc, 3); // rows [1, 1 + nRows) into acc[3, 3 + nOut)
            for (int o = 0; o < acc.length; o++) {
                if (o < 3 || o >= 3 + nOut) {
                    assertThat(acc[o]).as("untouched acc[%d]", o).isEqualTo(1f);
                    continue;
                }
                double exact = 1, magnitude = 1;
                for (int i = 1; i < 1 + nRows; i++) {
                    exact += (double) bf16(w, (long) i * nOut + o - 3) * x[i];
                    magnitude += Math.abs((double) bf16(w, (long) i * nOut + o - 3) * x[i]);
                }
                assertThat(Math.abs(acc[o] - exact)).as("output %d", o - 3).isLessThanOrEqualTo(magnitude * 1e-6);
            }
        }
    }

    @ParameterizedTest(name = "{0} tokens")
    @CsvSource({"1", "2", "3", "4", "5", "8", "9", "15"})
    void fewTokenKernelsMatchScalarReferences(int nTokens) {
        assumeTrue(kernels.q8() && kernels.bf16(), "not every kernel runs on this CPU");
        Random rnd = new Random(nTokens);
        int nOut = 13, nIn = 128, groupSize = 64, nGroups = 2;
        try (Arena arena = Arena.ofConfined()) {
            float[] x = new float[nTokens * nIn], pairs = new float[nTokens * nIn];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (int t = 0; t < nTokens; t++)
                for (int j = 0; j < nIn / 2; j++) {
                    pairs[t * nIn + j] = x[t * nIn + 2 * j];
                    pairs[t * nIn + nIn / 2 + j] = x[t * nIn + 2 * j + 1];
                }
            // Row-major BF16, rows split unevenly (a tile of four and tail rows in each part).
            MemorySegment w = randomBf16(arena, nOut * nIn, rnd);
            float[] y = new float[nTokens * nOut];
            kernels.bf16RowsTokens(w, nOut, nIn, pairs, nTokens, y, 0, 6);
            kernels.bf16RowsTokens(w, nOut, nIn, pairs, nTokens, y, 6, nOut);
            for (int t = 0; t < nTokens; t++)
                for (int o = 0; o < nOut; o++) {
                    double exact = 0, magnitude = 0;
                    for (int i = 0; i < nIn; i++) {
                        double p = (double) bf16(w, (long) o * nIn + i) * x[t * nIn + i];
                        exact += p;
                        magnitude += Math.abs(p);
                    }
                    assertThat(Math.abs(y[t * nOut + o] - exact)).as("bf16 token %d row %d", t, o).isLessThanOrEqualTo(magnitude * 1e-6);
                }
            // Q8, fp32 activations.
            MemorySegment values = arena.allocate((long) nOut * nIn), scales = arena.allocate(2L * nOut * nGroups);
            for (long i = 0; i < (long) nOut * nIn; i++) values.set(ValueLayout.JAVA_BYTE, i, (byte) (rnd.nextInt(255) - 127));
            for (int i = 0; i < nOut * nGroups; i++) scales.setAtIndex(FP16, i, Float.floatToFloat16(0.001f + rnd.nextFloat() * 0.05f));
            float[] yq = new float[nTokens * nOut];
            kernels.q8RowsTokens(values, scales, nOut, nIn, groupSize, x, nTokens, yq, 0, 5);
            kernels.q8RowsTokens(values, scales, nOut, nIn, groupSize, x, nTokens, yq, 5, nOut);
            for (int t = 0; t < nTokens; t++)
                for (int o = 0; o < nOut; o++) {
                    double exact = 0, magnitude = 0;
                    for (int i = 0; i < nIn; i++) {
                        double p = values.get(ValueLayout.JAVA_BYTE, (long) o * nIn + i)
                                * (double) Float.float16ToFloat(scales.getAtIndex(FP16, o * nGroups + i / groupSize)) * x[t * nIn + i];
                        exact += p;
                        magnitude += Math.abs(p);
                    }
                    assertThat(Math.abs(yq[t * nOut + o] - exact)).as("q8 token %d row %d", t, o).isLessThanOrEqualTo(magnitude * 1e-6);
                }
            // Input-major BF16 [nIn, 37]: stored rows [3, 3 + 19) added into acc from offset 2.
            int outs = 37;
            MemorySegment wi = randomBf16(arena, nIn * outs, rnd);
            float[] acc = new float[2 + nTokens * outs];
            java.util.Arrays.fill(acc, 0.5f);
            kernels.bf16AxpyTokens(wi, outs, nIn, x, nTokens, 3, 22, acc, 2);
            assertThat(acc[0]).isEqualTo(0.5f);
            for (int t = 0; t < nTokens; t++)
                for (int o = 0; o < outs; o++) {
                    double exact = 0.5, magnitude = 0.5;
                    for (int i = 3; i < 22; i++) {
                        double p = (double) bf16(wi, (long) i * outs + o) * x[t * nIn + i];
                        exact += p;
                        magnitude += Math.abs(p);
                    }
                    assertThat(Math.abs(acc[2 + t * outs + o] - exact)).as("input-major token %d output %d", t, o)
                            .isLessThanOrEqualTo(magnitude * 1e-6);
                }
        }
    }

    @ParameterizedTest(name = "{0} tokens")
    @CsvSource({"1", "16", "17", "33", "65"})
    void manyTokenGemmMatchesScalarReferenceInEveryFormat(int nTokens) {
        assumeTrue(kernels.q8() && kernels.bf16(), "not every kernel runs on this CPU");
        Random rnd = new Random(100 + nTokens);
        int nOut = 29, nIn = 288, groupSize = 96, nGroups = 3; // 2 full and 1 ragged row tiles, a ragged input block
        try (Arena arena = Arena.ofConfined()) {
            float[] x = new float[nTokens * nIn];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            int tPad = CpuKernels.paddedTokens(nTokens);
            float[] xt = new float[tPad * nIn];
            kernels.transposeTokens(x, nTokens, nIn, xt, tPad);
            MemorySegment rows = randomBf16(arena, nOut * nIn, rnd), inputMajor = randomBf16(arena, nOut * nIn, rnd);
            MemorySegment values = arena.allocate((long) nOut * nIn), scales = arena.allocate(2L * nOut * nGroups);
            for (long i = 0; i < (long) nOut * nIn; i++) values.set(ValueLayout.JAVA_BYTE, i, (byte) (rnd.nextInt(255) - 127));
            for (int i = 0; i < nOut * nGroups; i++) scales.setAtIndex(FP16, i, Float.floatToFloat16(0.001f + rnd.nextFloat() * 0.05f));
            for (CpuKernels.GemmFormat format : CpuKernels.GemmFormat.values()) {
                float[] y = new float[nTokens * nOut];
                java.util.Arrays.fill(y, Float.NaN);
                MemorySegment w = switch (format) {
                    case BF16_ROWS -> rows;
                    case Q8_ROWS -> values;
                    case BF16_INPUT_MAJOR -> inputMajor;
                };
                kernels.gemmTokens(format, w, scales, nOut, nIn, groupSize, xt, tPad, nTokens, y, 0, 13);
                kernels.gemmTokens(format, w, scales, nOut, nIn, groupSize, xt, tPad, nTokens, y, 13, nOut);
                for (int t = 0; t < nTokens; t++)
                    for (int o = 0; o < nOut; o++) {
                        double exact = 0, magnitude = 0;
                        for (int i = 0; i < nIn; i++) {
                            double weight = switch (format) {
                                case BF16_ROWS -> bf16(rows, (long) o * nIn + i);
                                case Q8_ROWS -> values.get(ValueLayout.JAVA_BYTE, (long) o * nIn + i)
                                        * (double) Float.float16ToFloat(scales.getAtIndex(FP16, o * nGroups + i / groupSize));
                                case BF16_INPUT_MAJOR -> bf16(inputMajor, (long) i * nOut + o);
                            };
                            exact += weight * x[t * nIn + i];
                            magnitude += Math.abs(weight * x[t * nIn + i]);
                        }
                        assertThat(Math.abs(y[t * nOut + o] - exact)).as("%s token %d row %d", format, t, o)
                                .isLessThanOrEqualTo(magnitude * 1e-6);
                    }
            }
        }
    }

    @Test
    void rejectsWhatTheNativeCodeWouldOverrun() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(4L * 64), scales = arena.allocate(2L * 4 * 2);
            short[] xq = new short[64];
            float[] xs = new float[2];
            assumeTrue(kernels.q8() && kernels.bf16(), "not every kernel runs on this CPU");
            assertThatThrownBy(() -> kernels.q8Gemv(values, scales, 64, 32, xq, xs, new float[5], 0, 5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rows [0, 5)");
            assertThatThrownBy(() -> kernels.q8Gemv(values, scales, 64, 32, xq, xs, new float[3], 0, 4))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> kernels.q8Gemv(values, scales, 48, 48, xq, xs, new float[4], 0, 4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("48 inputs");
            assertThatThrownBy(() -> kernels.quantizeActivations(new float[64], 96, new short[96], new float[3]))
                    .isInstanceOf(IllegalArgumentException.class);
            MemorySegment bf16 = arena.allocate(2L * 4 * 64);
            assertThatThrownBy(() -> kernels.bf16Gemv(bf16, 64, new float[64], new float[5], 0, 5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rows [0, 5)");
            assertThatThrownBy(() -> kernels.bf16Axpy(bf16, 64, new float[8], 0, 5, new float[64], 0))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> kernels.bf16Axpy(bf16, 64, new float[8], 0, 4, new float[64], 1))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}

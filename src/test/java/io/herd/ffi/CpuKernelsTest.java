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

    @Test
    void rejectsWhatTheNativeCodeWouldOverrun() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(4L * 64), scales = arena.allocate(2L * 4 * 2);
            short[] xq = new short[64];
            float[] xs = new float[2];
            assertThatThrownBy(() -> kernels.q8Gemv(values, scales, 64, 32, xq, xs, new float[5], 0, 5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rows [0, 5)");
            assertThatThrownBy(() -> kernels.q8Gemv(values, scales, 64, 32, xq, xs, new float[3], 0, 4))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> kernels.q8Gemv(values, scales, 48, 48, xq, xs, new float[4], 0, 4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("48 inputs");
            assertThatThrownBy(() -> kernels.quantizeActivations(new float[64], 96, new short[96], new float[3]))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}

package io.herd.compute.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Each helper against a plain double-precision loop, at lengths around the vector width (ragged tails, offsets). */
class FloatOpsTest {
    private static float[] random(int n, Random rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 16, 33, 128, 1000, 5120})
    void matchesScalarLoops(int n) {
        Random rnd = new Random(n);
        int off = 3;
        float[] a = random(n + off, rnd), b = random(n + off, rnd), gain = random(n, rnd);
        double dot = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            dot += (double) a[off + i] * b[off + i];
            ss += (double) a[off + i] * a[off + i];
        }
        float tol = 1e-5f * (float) Math.max(1, Math.sqrt(n));
        assertThat(FloatOps.dot(a, off, b, off, n)).isCloseTo((float) dot, within(tol));
        assertThat(FloatOps.sumOfSquares(a, off, n)).isCloseTo((float) ss, within(tol * (float) Math.max(1, Math.sqrt(ss))));

        float[] y = b.clone();
        FloatOps.axpy(0.5f, a, off, y, off, n);
        for (int i = 0; i < n; i++) assertThat(y[off + i]).isCloseTo(b[off + i] + 0.5f * a[off + i], within(1e-6f));
        assertThat(y[0]).isEqualTo(b[0]); // nothing before the offset is touched

        if (n == 0) return;
        float[] out = new float[n + 1];
        FloatOps.rmsNorm(a, off, gain, 1e-5f, out, 1);
        double inv = 1 / Math.sqrt(ss / n + 1e-5);
        for (int i = 0; i < n; i++) assertThat(out[1 + i]).isCloseTo((float) (a[off + i] * inv * gain[i]), within(1e-4f));

        float[] s = a.clone();
        for (int i = 0; i < n; i++) s[off + i] *= 10; // wide logits: exp overflows without the max subtraction
        float[] expected = new float[n];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, s[off + i]);
        for (int i = 0; i < n; i++) sum += Math.exp(s[off + i] - max);
        for (int i = 0; i < n; i++) expected[i] = (float) (Math.exp(s[off + i] - max) / sum);
        FloatOps.softmax(s, off, n);
        for (int i = 0; i < n; i++) assertThat(s[off + i]).isCloseTo(expected[i], within(1e-6f + 1e-5f * expected[i]));
    }

    /**
     * The in-place KV readers: a dot product against floats in a segment, and a weighted sum of segment rows that is
     * bit-identical to the scalar loop {@code y[c] += p[j] * v[j][c]} from zero (the decode attention's P·V).
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 128, 200})
    void segmentReadersMatchScalarLoops(int n) {
        Random rnd = new Random(31L * n);
        int rows = 37, stride = n + 5;
        java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocate(4L * rows * stride, 64);
        float[][] v = new float[rows][];
        long[] offsets = new long[rows];
        for (int j = 0; j < rows; j++) {
            v[j] = random(n, rnd);
            offsets[j] = 4L * ((long) ((j * 7) % rows) * stride + 2); // rows out of order, unaligned starts
            java.lang.foreign.MemorySegment.copy(v[j], 0, seg, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, offsets[j], n);
        }
        float[] q = random(n + 3, rnd), p = random(rows, rnd);
        double dot = 0;
        for (int i = 0; i < n; i++) dot += (double) q[3 + i] * v[4][i];
        assertThat(FloatOps.dot(q, 3, seg, offsets[4], n)).isCloseTo((float) dot, within(1e-5f * (float) Math.max(1, Math.sqrt(n))));

        float[] expected = new float[n + 2], actual = new float[n + 2];
        for (int j = 0; j < rows; j++) for (int c = 0; c < n; c++) expected[2 + c] += p[j] * v[j][c];
        FloatOps.weightedSum(seg, offsets, p, rows, actual, 2, n);
        assertThat(actual).containsExactly(expected);
    }
}

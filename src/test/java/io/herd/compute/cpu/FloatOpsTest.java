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
}

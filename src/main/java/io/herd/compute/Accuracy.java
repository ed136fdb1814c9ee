package io.herd.compute;

/** Error measures for comparing kernels and formats against a reference output. */
public final class Accuracy {
    private Accuracy() {}

    /**
     * Normalised mean squared error {@code Σ(actual-expected)² / Σ expected²} over the first n values (as ggml's
     * test-backend-ops uses): scale-free, so one bound fits any magnitude of weights and inputs.
     */
    public static double nmse(float[] expected, float[] actual, int n) {
        double err = 0, ref = 0;
        for (int i = 0; i < n; i++) {
            double d = (double) actual[i] - expected[i];
            err += d * d;
            ref += (double) expected[i] * expected[i];
        }
        if (ref == 0) return err == 0 ? 0 : Double.POSITIVE_INFINITY;
        return err / ref;
    }
}

package io.herd.model.vision;

import io.herd.compute.Matrix;

/** Element-wise pieces of the vision tower: LayerNorm, exact (erf) GELU, Linear with a bias. fp32 values. */
final class VisionMath {
    private VisionMath() {}

    /** LayerNorm over rows of {@code width}: (x − mean) / sqrt(var + eps) · w + b, biased variance. */
    static float[] layerNorm(float[] x, Llama4VisionWeights.LayerNorm norm, int nRows, int width) {
        float[] y = new float[nRows * width];
        float[] w = norm.weight(), b = norm.bias();
        for (int r = 0; r < nRows; r++) {
            int o = r * width;
            double sum = 0;
            for (int i = 0; i < width; i++) sum += x[o + i];
            float mean = (float) (sum / width);
            double sq = 0;
            for (int i = 0; i < width; i++) {
                float c = x[o + i] - mean;
                sq += (double) c * c;
            }
            float inv = (float) (1.0 / Math.sqrt((float) (sq / width) + Llama4VisionConfig.LAYER_NORM_EPS));
            for (int i = 0; i < width; i++) y[o + i] = (x[o + i] - mean) * inv * w[i] + b[i];
        }
        return y;
    }

    /** GELU in place, the exact form x·Φ(x) that HF's vision tower uses (not the tanh approximation). */
    static void gelu(float[] x) {
        for (int i = 0; i < x.length; i++) x[i] = gelu(x[i]);
    }

    static float gelu(float x) {
        double c = erfc(Math.abs(x) / Math.sqrt(2.0));
        // x·Φ(x) = x·(1 − erfc(x/√2)/2) for x ≥ 0 and x·erfc(|x|/√2)/2 below: no cancellation on either side.
        return (float) (x >= 0 ? x * (1 - 0.5 * c) : 0.5 * x * c);
    }

    /**
     * erfc(z) for z ≥ 0 by the Chebyshev fit of Press et al., Numerical Recipes §6.2 (relative error below 1.2e-7
     * everywhere): accurate to fp32 rounding, one exp per call.
     */
    static double erfc(double z) {
        double t = 1.0 / (1.0 + 0.5 * z);
        return t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
    }

    /** {@code x · Wᵀ} for nTokens rows. */
    static float[] matmul(Matrix w, float[] x, int nTokens) {
        float[] y = new float[nTokens * w.nOut()];
        w.matmul(x, y, nTokens);
        return y;
    }

    /** {@code x · Wᵀ + b}. */
    static float[] linear(Llama4VisionWeights.Linear l, float[] x, int nTokens) {
        float[] y = matmul(l.weight(), x, nTokens);
        float[] b = l.bias();
        int n = b.length;
        for (int t = 0; t < nTokens; t++)
            for (int i = 0; i < n; i++) y[t * n + i] += b[i];
        return y;
    }
}

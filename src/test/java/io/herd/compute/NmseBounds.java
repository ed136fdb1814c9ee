package io.herd.compute;

/** The NMSE each kernel may show against the scalar reference, with the reason for each bound. */
final class NmseBounds {
    private NmseBounds() {}

    /**
     * Fast kernel vs reference over the same stored weights (F32, BF16, F16, and Q8 after the same quantization):
     * both widen to exactly the same fp32 values and accumulate in fp32, so only the summation order differs. That
     * costs a few ulps of fp32 per sum of up to a few thousand terms, an NMSE around 1e-13; 1e-10 leaves margin
     * and still fails on any wrong element, missed tail or mixed-up token.
     */
    static final double SAME_WEIGHTS = 1e-10;

    /**
     * Q8 (one scale per row) vs the F32 weights it came from, on Gaussian weights: the rounding error of a value is
     * uniform in ±scale/2 with scale = absmax/127 ≈ 4σ/127, so the relative weight MSE is ≈ (4/127)²/12 ≈ 8e-5 and
     * the outputs' NMSE the same. 4e-4 allows for outliers that stretch a row's absmax.
     */
    static final double Q8_PER_ROW_VS_F32 = 4e-4;

    /** Q8 with 32-value groups: each group's absmax is smaller than the row's, so the error is lower still. */
    static final double Q8_GROUP32_VS_F32 = 2e-4;

    /**
     * Q8 one-token products on the native kernel, which rounds the activations to int16 with one scale per 32 values:
     * an activation's error is uniform in ±xs/2 with xs = absmax/32767 ≈ 2.5σ/32767, a relative MSE of
     * ≈ (2.5/32767)²/12 ≈ 5e-10 that the outputs inherit. Measured up to 7e-10 on Gaussian data; 3e-9 still fails on
     * any wrong element, scale or tail.
     */
    static final double Q8_INT16_ACTIVATIONS = 3e-9;

    static double sameWeights(DType dtype) {
        return SAME_WEIGHTS;
    }
}

package io.herd.model.vision;

/**
 * The vision adapter: drops the class token, folds each 2×2 block of patch states into one token (pixel shuffle,
 * ratio 0.5) and runs the bias-free two-layer MLP {@code gelu(fc2(gelu(fc1(x))))} (GELU after both layers, as HF).
 * Output: {@code vision_features [T, patches/4, visionOutputDim]}.
 */
public final class PixelShuffleAdapter {
    private final Llama4VisionWeights weights;
    private final Llama4VisionConfig config;

    public PixelShuffleAdapter(Llama4VisionWeights weights) {
        this.weights = weights;
        this.config = weights.config();
    }

    /**
     * encoder output [T, patches+1, hidden] → [T, patches/4, 4·hidden]: token (R, C) of the halved grid is the
     * concatenation of the states at (2R, 2C), (2R, 2C+1), (2R+1, 2C), (2R+1, 2C+1).
     */
    public float[] pixelShuffle(float[] encoderOutput, int nTiles) {
        int h = config.hiddenSize(), side = config.patchesPerSide(), half = side / 2, nIn = config.patchesPerTile() + 1;
        int nOut = config.tokensPerTile();
        float[] out = new float[nTiles * nOut * 4 * h];
        for (int t = 0; t < nTiles; t++)
            for (int r = 0; r < half; r++)
                for (int c = 0; c < half; c++) {
                    int dst = ((t * nOut) + r * half + c) * 4 * h;
                    for (int q = 0; q < 4; q++) {
                        int patch = (2 * r + q / 2) * side + 2 * c + q % 2;
                        System.arraycopy(encoderOutput, (t * nIn + patch) * h, out, dst + q * h, h);
                    }
                }
        return out;
    }

    /** pixel-shuffled [T, patches/4, 4·hidden] → vision features [T, patches/4, visionOutputDim]. */
    public float[] adapt(float[] shuffled, int nTiles) {
        int n = nTiles * config.tokensPerTile();
        float[] x = VisionMath.matmul(weights.adapterFc1(), shuffled, n);
        VisionMath.gelu(x);
        x = VisionMath.matmul(weights.adapterFc2(), x, n);
        VisionMath.gelu(x);
        return x;
    }

    /** encoder output → vision features. */
    public float[] apply(float[] encoderOutput, int nTiles) {
        return adapt(pixelShuffle(encoderOutput, nTiles), nTiles);
    }
}

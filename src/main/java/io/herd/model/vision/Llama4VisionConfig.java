package io.herd.model.vision;

/**
 * Hyper-parameters of Llama 4's vision encoder, pixel-shuffle adapter and multimodal projector (the
 * {@code vision_config} of a {@code Llama4ForConditionalGeneration} config.json), checked against the shape rules HF's
 * modules need: {@code intermediate_size = hidden / ratio²}, {@code projector_input_dim = projector_output_dim =
 * vision_output_dim}, an even number of patches per side.
 *
 * @param hiddenSize         encoder width
 * @param nLayers            encoder layers
 * @param nHeads             attention heads (head width hiddenSize / nHeads)
 * @param intermediateSize   encoder MLP width; also the pixel-shuffled width fed to the adapter
 * @param imageSize          tile side in pixels
 * @param patchSize          patch side in pixels
 * @param pixelShuffleRatio  0.5 in every published checkpoint: 2×2 patches become one token
 * @param visionOutputDim    adapter output width (= projector input width)
 * @param ropeTheta          base of the encoder's 2D RoPE
 * @param textHiddenSize     projector output width (the text model's hidden size)
 * @param imageTokenId       the {@code <|patch|>} id whose embedding rows take the projected features
 */
public record Llama4VisionConfig(int hiddenSize, int nLayers, int nHeads, int intermediateSize, int imageSize,
                                 int patchSize, float pixelShuffleRatio, int visionOutputDim, float ropeTheta,
                                 int textHiddenSize, int imageTokenId) {
    /** Channels of a tile (RGB). */
    public static final int CHANNELS = 3;
    /** HF's vision LayerNorms use PyTorch's default eps and ignore {@code norm_eps}. */
    public static final float LAYER_NORM_EPS = 1e-5f;

    public Llama4VisionConfig {
        require(hiddenSize > 0 && nLayers > 0 && nHeads > 0 && imageSize > 0 && patchSize > 0 && visionOutputDim > 0
                && textHiddenSize > 0, "sizes must be positive");
        require(hiddenSize % nHeads == 0, "hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + nHeads);
        require((hiddenSize / nHeads) % 4 == 0, "head width " + hiddenSize / nHeads + " must be a multiple of 4 (2D RoPE)");
        require(imageSize % patchSize == 0, "image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
        require(pixelShuffleRatio == 0.5f, "pixel_shuffle_ratio must be 0.5, got " + pixelShuffleRatio);
        // The compact constructor runs before the fields are set: use the parameters, not the accessors.
        require((imageSize / patchSize) % 2 == 0, "image_size / patch_size = " + imageSize / patchSize + " must be even");
        require(intermediateSize == 4 * hiddenSize, "intermediate_size " + intermediateSize
                + " must be hidden_size / pixel_shuffle_ratio² = " + 4 * hiddenSize);
        require(imageTokenId >= 0, "image_token_index must be set");
    }

    /**
     * The {@code vision_config} of the published Llama-4-Scout-17B-16E and Maverick-17B-128E checkpoints (the same
     * tower in both): 336-pixel tiles of 14-pixel patches, width 1408, 34 layers, 16 heads, adapter to 4096,
     * projector to the text width 5120.
     */
    public static Llama4VisionConfig published() {
        return new Llama4VisionConfig(1408, 34, 16, 5632, 336, 14, 0.5f, 4096, 10000f, 5120, 200092);
    }

    /** Patches along one side of a tile. */
    public int patchesPerSide() { return imageSize / patchSize; }

    /** Patches per tile (the class token comes on top). */
    public int patchesPerTile() { return patchesPerSide() * patchesPerSide(); }

    /** Elements of one flattened patch: channel-major, then rows, then columns. */
    public int patchElements() { return CHANNELS * patchSize * patchSize; }

    /** Tokens (and {@code <|patch|>} positions) per tile after the 2×2 pixel shuffle. */
    public int tokensPerTile() { return patchesPerTile() / 4; }

    public int headDim() { return hiddenSize / nHeads; }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("vision_config: " + message);
    }
}

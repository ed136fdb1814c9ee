package io.herd.model.vision;

/**
 * Pixels of an image's tiles → the rows that replace its {@code <|patch|>} embeddings: encoder, adapter and projector
 * in sequence. Row n of the result belongs to the n-th {@code <|patch|>} of the image's run (tile-major,
 * {@link Llama4VisionConfig#tokensPerTile()} rows per tile, tiles in pixel order).
 */
public final class ImageEmbedder {
    private final Llama4VisionEncoder encoder;
    private final PixelShuffleAdapter adapter;
    private final MultiModalProjector projector;

    public ImageEmbedder(Llama4VisionWeights weights) {
        this.encoder = new Llama4VisionEncoder(weights);
        this.adapter = new PixelShuffleAdapter(weights);
        this.projector = new MultiModalProjector(weights);
    }

    public Llama4VisionConfig config() { return encoder.config(); }

    /** pixels [T, 3, S, S] → [T·tokensPerTile, textHidden]. */
    public float[] embed(float[] pixels, int nTiles) {
        float[] features = adapter.apply(encoder.encode(pixels, nTiles), nTiles);
        return projector.project(features, nTiles * config().tokensPerTile());
    }
}

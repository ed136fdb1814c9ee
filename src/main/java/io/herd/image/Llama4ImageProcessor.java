package io.herd.image;

import io.herd.compute.cpu.Bf16;

/**
 * Hugging Face's Llama 4 image processor, exactly: plan the grid ({@link TilePlanner}), resize the image
 * ({@link AntialiasedBilinearResizer}), pad right and bottom with 0 to the canvas, rescale and normalise in bfloat16,
 * cut channel-first tiles row by row and, for grids of more than one tile, append the whole image resized to one
 * tile (aspect ratio not kept).
 *
 * <p>Normalisation: transformers runs it on a bfloat16 tensor, so each operation is rounded to bfloat16:
 * {@code p = bf16(bf16(bf16(v · rescale) − mean) / std)}. Only 256 results are possible per channel; they are
 * computed once into a table.
 */
public final class Llama4ImageProcessor {
    private final Llama4ImageProcessorConfig config;
    private final TilePlanner planner;
    /** Per channel, the normalised value of each 0…255 sample. */
    private final float[][] table = new float[3][256];

    public Llama4ImageProcessor(Llama4ImageProcessorConfig config) {
        this.config = config;
        this.planner = new TilePlanner(config);
        for (int c = 0; c < 3; c++)
            for (int v = 0; v < 256; v++) table[c][v] = normalize(v, c);
    }

    public Llama4ImageProcessorConfig config() { return config; }

    public TilePlan plan(RgbImage image) {
        return planner.plan(image.height(), image.width());
    }

    /** The normalised value of sample {@code v} of channel {@code channel}. */
    public float normalize(int v, int channel) {
        float x = Bf16.round((float) v * config.rescaleFactor());
        x = Bf16.round(x - config.mean()[channel]);
        return Bf16.round(x / config.std()[channel]);
    }

    public ProcessedImage process(RgbImage image) {
        TilePlan plan = plan(image);
        int tile = config.tileSize(), tileArea = tile * tile;
        float[] pixels = new float[plan.tiles() * 3 * tileArea];
        RgbImage resized = AntialiasedBilinearResizer.resize(image, plan.resizedHeight(), plan.resizedWidth());
        int t = 0;
        for (int row = 0; row < plan.rows(); row++)
            for (int col = 0; col < plan.cols(); col++, t++)
                writeTile(resized, row * tile, col * tile, pixels, t);
        if (plan.hasGlobalTile()) writeTile(AntialiasedBilinearResizer.resize(image, tile, tile), 0, 0, pixels, t);
        return new ProcessedImage(plan, pixels);
    }

    /** Copies the tile at (y0, x0) of the zero-padded canvas holding {@code image} into tile slot {@code t}. */
    private void writeTile(RgbImage image, int y0, int x0, float[] out, int t) {
        int tile = config.tileSize();
        for (int c = 0; c < 3; c++) {
            int base = (t * 3 + c) * tile * tile;
            float padding = table[c][0];
            for (int y = 0; y < tile; y++)
                for (int x = 0; x < tile; x++) {
                    int sy = y0 + y, sx = x0 + x;
                    out[base + y * tile + x] = sy < image.height() && sx < image.width()
                            ? table[c][image.get(sx, sy, c)] : padding;
                }
        }
    }
}

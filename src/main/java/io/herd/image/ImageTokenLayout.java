package io.herd.image;

import io.herd.tokenizer.Tokenizer;

/**
 * The token run that stands for one image in a Llama 4 prompt, as Hugging Face's {@code Llama4Processor} writes it:
 * one tile: {@code <|image_start|> <|image|> k×<|patch|> <|image_end|>}; a grid: {@code <|image_start|>}, per tile row
 * the tiles' {@code k×<|patch|>} separated by {@code <|tile_x_separator|>} and followed by
 * {@code <|tile_y_separator|>}, then {@code <|image|> k×<|patch|>} for the global tile, then {@code <|image_end|>};
 * k patch tokens per tile.
 */
public record ImageTokenLayout(int imageStart, int imageEnd, int tileXSeparator, int tileYSeparator, int image,
                               int patch, int tokensPerTile) {

    /** The ids of the special tokens by their names in {@code tokenizer}. */
    public static ImageTokenLayout of(Tokenizer tokenizer, int tokensPerTile) {
        return new ImageTokenLayout(tokenizer.specialTokenId("<|image_start|>"), tokenizer.specialTokenId("<|image_end|>"),
                tokenizer.specialTokenId("<|tile_x_separator|>"), tokenizer.specialTokenId("<|tile_y_separator|>"),
                tokenizer.specialTokenId("<|image|>"), tokenizer.specialTokenId("<|patch|>"), tokensPerTile);
    }

    /** Tokens of an image's run. */
    public int length(TilePlan plan) {
        int k = tokensPerTile;
        if (!plan.hasGlobalTile()) return 3 + k;
        return 1 + plan.rows() * (plan.cols() * k + plan.cols()) + 1 + k + 1;
    }

    public int[] run(TilePlan plan) {
        int[] out = new int[length(plan)];
        int i = 0;
        out[i++] = imageStart;
        if (plan.hasGlobalTile()) {
            for (int r = 0; r < plan.rows(); r++) {
                for (int c = 0; c < plan.cols(); c++) {
                    for (int p = 0; p < tokensPerTile; p++) out[i++] = patch;
                    if (c + 1 < plan.cols()) out[i++] = tileXSeparator;
                }
                out[i++] = tileYSeparator;
            }
        }
        out[i++] = image;
        for (int p = 0; p < tokensPerTile; p++) out[i++] = patch;
        out[i++] = imageEnd;
        if (i != out.length) throw new IllegalStateException("image run of " + i + " tokens, expected " + out.length);
        return out;
    }
}

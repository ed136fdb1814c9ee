package io.herd.image;

/**
 * An image ready for the vision tower: its tile plan and the normalised pixels of every tile
 * ({@code [plan.tiles(), 3, tile, tile]}, channel-first, grid tiles row by row, then the global tile).
 */
public record ProcessedImage(TilePlan plan, float[] pixels) {
    public ProcessedImage {
        long expected = (long) plan.tiles() * 3 * plan.tileSize() * plan.tileSize();
        if (pixels.length != expected)
            throw new IllegalArgumentException(pixels.length + " pixel values for " + plan.tiles() + " tiles");
    }
}

package io.herd.image;

/**
 * How one image becomes tiles: a {@code rows × cols} grid on a canvas of {@code rows·tile × cols·tile} pixels, the
 * image resized to {@code resizedHeight × resizedWidth} in its top-left corner, plus a global tile when the grid has
 * more than one tile.
 */
public record TilePlan(int rows, int cols, int tileSize, int resizedHeight, int resizedWidth) {
    public int canvasHeight() { return rows * tileSize; }

    public int canvasWidth() { return cols * tileSize; }

    public boolean hasGlobalTile() { return rows * cols > 1; }

    /** Grid tiles plus the global tile, if any. */
    public int tiles() { return rows * cols + (hasGlobalTile() ? 1 : 0); }
}

package io.herd.image;

import java.util.List;

/**
 * A prompt whose content holds images: its token ids (with each image's run in place) and the images in prompt
 * order, whose projected features go onto the {@code <|patch|>} tokens in that order.
 */
public record ImagePrompt(int[] ids, List<ProcessedImage> images) {
    public ImagePrompt {
        images = List.copyOf(images);
    }

    /** Tiles of every image, in order. */
    public int tiles() {
        int n = 0;
        for (ProcessedImage i : images) n += i.plan().tiles();
        return n;
    }

    /** All images' pixels concatenated ({@code [tiles(), 3, tile, tile]}). */
    public float[] pixels() {
        int total = 0;
        for (ProcessedImage i : images) total += i.pixels().length;
        float[] out = new float[total];
        int at = 0;
        for (ProcessedImage i : images) {
            System.arraycopy(i.pixels(), 0, out, at, i.pixels().length);
            at += i.pixels().length;
        }
        return out;
    }
}

package io.herd.image;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses the tile grid and the resized size of an image as Hugging Face's Llama 4 processor does: candidate grids
 * {@code rows × cols} with {@code rows·cols ≤ maxPatches} in its order (from {@code n = maxPatches} down to 1, factor
 * pairs with the first factor ascending, grouped by aspect ratio in order of first appearance); per candidate
 * {@code scale = min(H/h, W/w)} in fp32; the smallest scale ≥ 1 if any (the largest with resizeToMaxCanvas), else
 * the largest; among equal scales the smallest canvas area, then the first listed.
 */
public final class TilePlanner {
    private final Llama4ImageProcessorConfig config;
    private final List<int[]> canvases;

    public TilePlanner(Llama4ImageProcessorConfig config) {
        this.config = config;
        this.canvases = supportedGrids(config.maxPatches());
    }

    /** Candidate grids, each {rows, cols}, in the processor's order. */
    public static List<int[]> supportedGrids(int maxPatches) {
        Map<Double, List<int[]>> byRatio = new LinkedHashMap<>();
        for (int n = maxPatches; n >= 1; n--)
            for (int f = 1; f <= n; f++)
                if (n % f == 0) byRatio.computeIfAbsent((double) f / (n / f), k -> new ArrayList<>()).add(new int[] {f, n / f});
        List<int[]> all = new ArrayList<>();
        byRatio.values().forEach(all::addAll);
        return List.copyOf(all);
    }

    public TilePlan plan(int height, int width) {
        int tile = config.tileSize();
        float best = Float.NaN;
        boolean anyUp = false;
        float[] scales = new float[canvases.size()];
        for (int i = 0; i < scales.length; i++) {
            int[] g = canvases.get(i);
            scales[i] = Math.min((float) (g[0] * tile) / (float) height, (float) (g[1] * tile) / (float) width);
            anyUp |= scales[i] >= 1;
        }
        for (float s : scales) {
            boolean candidate = anyUp ? s >= 1 : s < 1;
            if (!candidate) continue;
            if (Float.isNaN(best) || (anyUp && !config.resizeToMaxCanvas() ? s < best : s > best)) best = s;
        }
        int[] chosen = null;
        for (int i = 0; i < scales.length; i++) {
            if (scales[i] != best) continue;
            int[] g = canvases.get(i);
            if (chosen == null || (long) g[0] * g[1] < (long) chosen[0] * chosen[1]) chosen = g;
        }
        int canvasH = chosen[0] * tile, canvasW = chosen[1] * tile;
        // Target size: enlarge a small image until one side reaches a tile, keep one that fits, shrink a larger one.
        int limH = Math.min(Math.max(height, tile), canvasH), limW = Math.min(Math.max(width, tile), canvasW);
        double sw = (double) limW / width, sh = (double) limH / height;
        int newH, newW;
        if (sw < sh) {
            newW = limW;
            newH = (int) Math.min(Math.floor(height * sw), limH);
        } else {
            newH = limH;
            newW = (int) Math.min(Math.floor(width * sh), limW);
        }
        return new TilePlan(chosen[0], chosen[1], tile, newH, newW);
    }
}

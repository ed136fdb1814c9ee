package io.herd.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Settings of Hugging Face's Llama 4 image processor ({@code preprocessor_config.json}). Only what Herd reproduces
 * exactly is accepted: square tiles, bilinear resampling ({@code resample} 2), rescale then normalise, RGB conversion.
 *
 * @param tileSize          tile side in pixels ({@code size.height} = {@code size.width})
 * @param maxPatches        most grid tiles per image (the global tile comes on top)
 * @param resizeToMaxCanvas pick the largest upscaling canvas instead of the smallest
 * @param rescaleFactor     multiplies each 0…255 sample (1/255)
 * @param mean              per channel, subtracted after rescaling
 * @param std               per channel, divides after subtracting
 */
public record Llama4ImageProcessorConfig(int tileSize, int maxPatches, boolean resizeToMaxCanvas, float rescaleFactor,
                                         float[] mean, float[] std) {
    /** Candidate grids grow with the square of maxPatches; beyond this a config is implausible. */
    public static final int MAX_PATCHES_LIMIT = 64;

    public Llama4ImageProcessorConfig {
        if (tileSize <= 0 || tileSize > 4096) throw new IllegalArgumentException("tile size " + tileSize);
        if (maxPatches < 1 || maxPatches > MAX_PATCHES_LIMIT)
            throw new IllegalArgumentException("max_patches " + maxPatches + " not in 1.." + MAX_PATCHES_LIMIT);
        if (mean.length != 3 || std.length != 3) throw new IllegalArgumentException("mean and std need 3 channels");
        for (float s : std) if (!(s > 0)) throw new IllegalArgumentException("image_std must be positive");
        mean = mean.clone();
        std = std.clone();
    }

    /** Parses {@code preprocessor_config.json}; {@code path} may be the model directory. */
    public static Llama4ImageProcessorConfig parse(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("preprocessor_config.json") : path;
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the image processor config: " + e.getMessage(), e);
        }
        String where = file.toString();
        try {
            JsonNode size = root.path("size");
            int h = size.path("height").asInt(336), w = size.path("width").asInt(336);
            if (h != w) throw new IllegalArgumentException("size " + h + "×" + w + " is not square");
            if (root.path("resample").asInt(2) != 2)
                throw new IllegalArgumentException("resample " + root.get("resample") + " is not supported (2, bilinear)");
            for (String flag : new String[] {"do_resize", "do_rescale", "do_normalize", "do_convert_rgb"})
                if (!root.path(flag).asBoolean(true)) throw new IllegalArgumentException(flag + " false is not supported");
            return new Llama4ImageProcessorConfig(h, root.path("max_patches").asInt(16),
                    root.path("resize_to_max_canvas").asBoolean(false),
                    (float) root.path("rescale_factor").asDouble(1.0 / 255), channels(root.get("image_mean")),
                    channels(root.get("image_std")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static float[] channels(JsonNode n) {
        if (n == null || n.isNull()) return new float[] {0.5f, 0.5f, 0.5f};
        if (n.isNumber()) return new float[] {(float) n.asDouble(), (float) n.asDouble(), (float) n.asDouble()};
        if (!n.isArray() || n.size() != 3) throw new IllegalArgumentException("image_mean/image_std: expected 3 numbers, got " + n);
        return new float[] {(float) n.get(0).asDouble(), (float) n.get(1).asDouble(), (float) n.get(2).asDouble()};
    }
}

package io.herd.model.vision;

import com.fasterxml.jackson.databind.JsonNode;
import io.herd.model.Llama4ConfigParser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads the {@code vision_config} of a Hugging Face Llama 4 {@code config.json} (with {@code image_token_index} from
 * the top level and the projector's output width from {@code text_config.hidden_size}). A text-only config (no
 * {@code vision_config}) gives an empty result. Settings HF would run but Herd does not implement are refused by name
 * rather than computed differently.
 */
public final class Llama4VisionConfigParser {
    private Llama4VisionConfigParser() {}

    /** Parses {@code config.json}; {@code path} may also be the model directory. */
    public static Optional<Llama4VisionConfig> parse(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read model config: " + e.getMessage(), e);
        }
    }

    public static Optional<Llama4VisionConfig> parse(String json, String source) {
        JsonNode root = Llama4ConfigParser.configObject(json, source);
        JsonNode v = root.get("vision_config");
        if (v == null || v.isNull()) return Optional.empty();
        if (!v.isObject()) throw new IllegalArgumentException(source + ": vision_config is not an object");
        JsonNode text = root.get("text_config");
        if (text == null || !text.isObject()) throw new IllegalArgumentException(source + ": vision_config without text_config");
        String where = source + " vision_config";
        String act = string(v, "hidden_act", "gelu", where);
        if (!act.equals("gelu")) throw error(where, "hidden_act", "only gelu is supported, got " + act);
        if (integer(v, "vision_feature_layer", -1, where) != -1)
            throw error(where, "vision_feature_layer", "only -1 (the last layer) is supported");
        if (bool(v, "multi_modal_projector_bias", false))
            throw error(where, "multi_modal_projector_bias", "a projector bias is not supported");
        if (integer(v, "num_channels", 3, where) != Llama4VisionConfig.CHANNELS)
            throw error(where, "num_channels", "only 3 (RGB) is supported");
        int outputDim = integer(v, "vision_output_dim", 7680, where);
        int projIn = integer(v, "projector_input_dim", 4096, where), projOut = integer(v, "projector_output_dim", 4096, where);
        if (projIn != outputDim || projOut != outputDim)
            throw error(where, "projector_input_dim", "projector_input_dim " + projIn + " and projector_output_dim " + projOut
                    + " must equal vision_output_dim " + outputDim + " (HF's adapter only runs then)");
        try {
            return Optional.of(new Llama4VisionConfig(
                    integer(v, "hidden_size", 768, where), integer(v, "num_hidden_layers", 34, where),
                    integer(v, "num_attention_heads", 16, where), integer(v, "intermediate_size", 5632, where),
                    integer(v, "image_size", 448, where), integer(v, "patch_size", 14, where),
                    (float) number(v, "pixel_shuffle_ratio", 0.5, where), outputDim,
                    (float) number(v, "rope_theta", 10000, where),
                    integer(text, "hidden_size", -1, source + " text_config"),
                    integer(root, "image_token_index", 200092, source)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static IllegalArgumentException error(String where, String field, String message) {
        return new IllegalArgumentException(where + ": field " + field + ": " + message);
    }

    private static int integer(JsonNode o, String name, int fallback, String where) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber() || !n.canConvertToInt() || n.asDouble() != Math.rint(n.asDouble()))
            throw error(where, name, "expected an integer, got " + n);
        return n.asInt();
    }

    private static double number(JsonNode o, String name, double fallback, String where) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber()) throw error(where, name, "expected a number, got " + n);
        return n.asDouble();
    }

    private static boolean bool(JsonNode o, String name, boolean fallback) {
        JsonNode n = o.get(name);
        return n == null || n.isNull() ? fallback : n.asBoolean();
    }

    private static String string(JsonNode o, String name, String fallback, String where) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) return fallback;
        if (!n.isTextual()) throw error(where, name, "expected a string, got " + n);
        return n.asText();
    }
}

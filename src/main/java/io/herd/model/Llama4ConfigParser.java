package io.herd.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a Hugging Face Llama 4 {@code config.json} into a {@link Llama4Config}. Accepts the variants in circulation
 * (SPEC §1): flat ({@code Llama4ForCausalLM}) or nested under {@code text_config}; {@code rope_scaling} or
 * {@code rope_parameters} (rope_type llama3, or default/null for none); {@code no_rope_layers} empty (derived from
 * {@code no_rope_layer_interval}) or explicit (1 = RoPE), with {@code layer_types} checked against it (HF takes RoPE
 * from no_rope_layers and only the mask from layer_types); {@code moe_layers} or
 * {@code interleave_moe_layer_step}; {@code attn_temperature_tuning} as bool or int; {@code eos_token_id} as int or
 * list; {@code head_dim} defaulting to hidden_size / num_attention_heads; {@code tie_word_embeddings} (read from
 * text_config first, which is the flag HF 5.x obeys for the nested layout). Missing optional fields take HF's defaults.
 * Every error names the source and the field.
 */
public final class Llama4ConfigParser {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Llama4ConfigParser() {}

    /** Parses {@code config.json}; {@code path} may also be the model directory. */
    public static Llama4Config parse(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read model config: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** The top-level object of a {@code config.json}; {@code source} names it in error messages. */
    public static JsonNode configObject(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(source + ": model config is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(source + ": model config is not a JSON object");
        return root;
    }

    /** Parses config JSON text; {@code source} names it in error messages. */
    public static Llama4Config parse(String json, String source) {
        JsonNode root = configObject(json, source);
        JsonNode text = root.has("text_config") && root.get("text_config").isObject() ? root.get("text_config") : root;
        Fields f = new Fields(text, root, source);

        String act = f.string("hidden_act", "silu");
        if (!act.equals("silu")) throw f.error("hidden_act", "only silu is supported, got " + act);
        if (f.bool("attention_bias", false)) throw f.error("attention_bias", "biases are not supported");

        int dModel = f.requiredInt("hidden_size");
        int nLayers = f.requiredInt("num_hidden_layers");
        int nHeads = f.requiredInt("num_attention_heads");
        int nKvHeads = f.integer("num_key_value_heads", nHeads);
        if (nHeads % nKvHeads != 0)
            throw f.error("num_key_value_heads", nKvHeads + " does not divide num_attention_heads " + nHeads);
        int headDim = f.integer("head_dim", dModel / nHeads);
        int dFf = f.integer("intermediate_size", 8192);
        int dFfMlp = f.integer("intermediate_size_mlp", 16384);
        int nExperts = f.integer("num_local_experts", 16);
        int nExpertsPerTok = f.integer("num_experts_per_tok", 1);
        if (nExpertsPerTok < 1 || nExpertsPerTok > nExperts)
            throw f.error("num_experts_per_tok", nExpertsPerTok + " not in 1.." + nExperts);

        boolean[] moeLayers;
        JsonNode moeList = f.node("moe_layers");
        if (moeList != null && moeList.isArray()) {
            moeLayers = new boolean[nLayers];
            for (JsonNode n : moeList) {
                if (!n.canConvertToInt() || n.asInt() < 0 || n.asInt() >= nLayers)
                    throw f.error("moe_layers", "entry " + n + " is not a layer index in 0.." + (nLayers - 1));
                moeLayers[n.asInt()] = true;
            }
        } else {
            int step = f.integer("interleave_moe_layer_step", 1);
            if (step < 1) throw f.error("interleave_moe_layer_step", "must be >= 1, got " + step);
            moeLayers = moeLayersFromStep(nLayers, step);
        }

        // As HF: RoPE/NoPE (and with it qk-norm and temperature tuning) comes from no_rope_layers, or from the interval
        // when that list is absent or empty; layer_types only picks each layer's attention mask. HF derives
        // layer_types from the RoPE flags and writes both, so they agree in every file it writes.
        boolean[] ropeLayers;
        JsonNode noRope = f.node("no_rope_layers");
        if (noRope != null && noRope.isArray() && !noRope.isEmpty()) {
            if (noRope.size() != nLayers)
                throw f.error("no_rope_layers", "has " + noRope.size() + " entries for " + nLayers + " layers");
            ropeLayers = new boolean[nLayers];
            for (int i = 0; i < nLayers; i++) {
                JsonNode n = noRope.get(i);
                // The name is inverted: 1 means the layer uses RoPE.
                if (n.isBoolean()) ropeLayers[i] = n.asBoolean();
                else if (n.canConvertToInt() && (n.asInt() == 0 || n.asInt() == 1)) ropeLayers[i] = n.asInt() == 1;
                else throw f.error("no_rope_layers", "entry " + i + " is " + n + ", expected 0 or 1");
            }
        } else {
            int interval = f.integer("no_rope_layer_interval", 4);
            if (interval < 1) throw f.error("no_rope_layer_interval", "must be >= 1, got " + interval);
            ropeLayers = ropeLayersFromInterval(nLayers, interval);
        }
        JsonNode layerTypes = f.node("layer_types");
        if (layerTypes != null && layerTypes.isArray() && !layerTypes.isEmpty()) {
            if (layerTypes.size() != nLayers)
                throw f.error("layer_types", "has " + layerTypes.size() + " entries for " + nLayers + " layers");
            for (int i = 0; i < nLayers; i++) {
                String t = layerTypes.get(i).asText();
                boolean chunked = switch (t) {
                    case "chunked_attention" -> true;
                    case "full_attention" -> false;
                    default -> throw f.error("layer_types", "entry " + i + " is " + t);
                };
                // Herd ties chunked attention to RoPE layers; HF would run a RoPE layer with a global mask (or the
                // reverse) here, so refuse rather than compute something else.
                if (chunked != ropeLayers[i])
                    throw f.error("layer_types", "layer " + i + " is " + t + " but no_rope_layers"
                            + (noRope != null && noRope.isArray() && !noRope.isEmpty() ? "" : " (derived from no_rope_layer_interval)")
                            + " makes it a " + (ropeLayers[i] ? "RoPE" : "NoPE") + " layer; only chunked RoPE layers and"
                            + " global NoPE layers are supported");
            }
        }

        // Older files store attn_temperature_tuning as the integer 4; any non-zero value means on.
        JsonNode tt = f.node("attn_temperature_tuning");
        boolean temperatureTuning;
        if (tt == null || tt.isNull()) temperatureTuning = true;
        else if (tt.isBoolean()) temperatureTuning = tt.asBoolean();
        else if (tt.isNumber()) temperatureTuning = tt.asDouble() != 0;
        else throw f.error("attn_temperature_tuning", "expected a bool or a number, got " + tt);

        JsonNode ropeNode = f.node("rope_scaling");
        if (ropeNode == null || ropeNode.isNull()) ropeNode = f.node("rope_parameters");
        Llama4Config.RopeScaling scaling = null;
        float ropeTheta = (float) f.dbl("rope_theta", Double.NaN);
        if (ropeNode != null && !ropeNode.isNull()) {
            if (!ropeNode.isObject()) throw f.error("rope_scaling", "expected an object, got " + ropeNode);
            if (Float.isNaN(ropeTheta) && ropeNode.has("rope_theta")) ropeTheta = (float) ropeNode.get("rope_theta").asDouble();
            JsonNode typeNode = ropeNode.has("rope_type") ? ropeNode.get("rope_type") : ropeNode.get("type");
            String type = typeNode == null || typeNode.isNull() ? "default" : typeNode.asText();
            switch (type) {
                case "default" -> { }
                case "llama3" -> {
                    Fields r = new Fields(ropeNode, ropeNode, source + " rope_scaling");
                    scaling = new Llama4Config.RopeScaling((float) r.requiredDouble("factor"),
                            (float) r.requiredDouble("low_freq_factor"), (float) r.requiredDouble("high_freq_factor"),
                            r.requiredInt("original_max_position_embeddings"));
                    if (scaling.factor() <= 0 || scaling.lowFreqFactor() <= 0 || scaling.highFreqFactor() < scaling.lowFreqFactor())
                        throw f.error("rope_scaling", "implausible llama3 parameters " + scaling);
                }
                default -> throw f.error("rope_scaling", "rope_type " + type + " is not supported (llama3 or default)");
            }
        }
        if (Float.isNaN(ropeTheta)) ropeTheta = 500000f;

        int[] eos;
        JsonNode eosNode = f.node("eos_token_id");
        if (eosNode == null || eosNode.isNull()) eos = new int[] {2};
        else if (eosNode.isArray()) {
            eos = new int[eosNode.size()];
            for (int i = 0; i < eos.length; i++) {
                if (!eosNode.get(i).canConvertToInt()) throw f.error("eos_token_id", "entry " + eosNode.get(i) + " is not an id");
                eos[i] = eosNode.get(i).asInt();
            }
        } else if (eosNode.canConvertToInt()) eos = new int[] {eosNode.asInt()};
        else throw f.error("eos_token_id", "expected an id or a list of ids, got " + eosNode);

        try {
            return new Llama4Config(dModel, nLayers, nHeads, nKvHeads, headDim, dFf, dFfMlp, nExperts, nExpertsPerTok,
                    moeLayers, ropeLayers, f.bool("use_qk_norm", true),
                    f.integer("attention_chunk_size", 8192), temperatureTuning,
                    (float) f.dbl("floor_scale", 8192), (float) f.dbl("attn_scale", 0.1),
                    (float) f.dbl("rms_norm_eps", 1e-5), ropeTheta, scaling,
                    f.integer("vocab_size", 202048), f.integer("max_position_embeddings", 131072),
                    f.integer("bos_token_id", 1), eos, f.integer("pad_token_id", -1),
                    f.bool("tie_word_embeddings", false));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /** Layer i is MoE iff (i+1) mod step == 0 (SPEC §1.2). */
    public static boolean[] moeLayersFromStep(int nLayers, int step) {
        boolean[] out = new boolean[nLayers];
        for (int i = 0; i < nLayers; i++) out[i] = (i + 1) % step == 0;
        return out;
    }

    /** Layer i uses RoPE unless (i+1) mod interval == 0 (SPEC §1.2: with 4, NoPE layers are 3, 7, 11, …). */
    public static boolean[] ropeLayersFromInterval(int nLayers, int interval) {
        boolean[] out = new boolean[nLayers];
        for (int i = 0; i < nLayers; i++) out[i] = (i + 1) % interval != 0;
        return out;
    }

    /** Field lookup in text_config, falling back to the top level (token ids sometimes live there). */
    private record Fields(JsonNode text, JsonNode root, String source) {
        JsonNode node(String name) {
            JsonNode n = text.get(name);
            if ((n == null || n.isNull()) && root != text) n = root.get(name);
            return n == null || n.isNull() ? null : n;
        }

        IllegalArgumentException error(String field, String message) {
            return new IllegalArgumentException(source + ": field " + field + ": " + message);
        }

        int requiredInt(String name) {
            JsonNode n = node(name);
            if (n == null) throw error(name, "missing");
            return toInt(name, n);
        }

        int integer(String name, int fallback) {
            JsonNode n = node(name);
            return n == null ? fallback : toInt(name, n);
        }

        private int toInt(String name, JsonNode n) {
            if (!n.isNumber() || !n.canConvertToInt() || n.asDouble() != Math.rint(n.asDouble()))
                throw error(name, "expected an integer, got " + n);
            return n.asInt();
        }

        double requiredDouble(String name) {
            JsonNode n = node(name);
            if (n == null) throw error(name, "missing");
            if (!n.isNumber()) throw error(name, "expected a number, got " + n);
            return n.asDouble();
        }

        double dbl(String name, double fallback) {
            JsonNode n = node(name);
            if (n == null) return fallback;
            if (!n.isNumber()) throw error(name, "expected a number, got " + n);
            return n.asDouble();
        }

        boolean bool(String name, boolean fallback) {
            JsonNode n = node(name);
            if (n == null) return fallback;
            if (n.isBoolean()) return n.asBoolean();
            if (n.isNumber()) return n.asDouble() != 0;
            throw error(name, "expected a bool, got " + n);
        }

        String string(String name, String fallback) {
            JsonNode n = node(name);
            return n == null ? fallback : n.asText();
        }
    }
}

package io.herd.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.compute.DType;
import io.herd.weights.SafetensorsWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a random-weight Llama 4 checkpoint in the Hugging Face layout ({@code config.json} + safetensors), for tests
 * and demo models small enough to build in memory. Weights are Gaussian with std 1/sqrt(fan-in) (norm gains around 1),
 * so activations stay O(1) at any depth and the output is noise, not language.
 */
public final class RandomLlama4Checkpoint {
    private RandomLlama4Checkpoint() {}

    /**
     * @param dir     created if needed; receives config.json and model.safetensors (nShards == 1) or shards + index
     * @param names   {@link Llama4TensorNames#CAUSAL_LM} (flat config) or {@link Llama4TensorNames#CONDITIONAL_GENERATION}
     *                (config nested under text_config)
     * @param dtype   storage dtype of every tensor (F32, BF16 or F16)
     */
    public static void write(Path dir, Llama4Config config, DType dtype, long seed, Llama4TensorNames names, int nShards) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), configJson(config, names));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        int d = config.dModel(), v = config.vocabSize();
        w.add(names.embedTokens(), dtype, new long[] {v, d}, gaussian(rnd, (long) v * d, 1.0));
        for (int i = 0; i < config.nLayers(); i++) {
            w.add(names.inputNorm(i), dtype, new long[] {d}, gains(rnd, d));
            w.add(names.qProj(i), dtype, new long[] {config.qDim(), d}, linear(rnd, config.qDim(), d));
            w.add(names.kProj(i), dtype, new long[] {config.kvDim(), d}, linear(rnd, config.kvDim(), d));
            w.add(names.vProj(i), dtype, new long[] {config.kvDim(), d}, linear(rnd, config.kvDim(), d));
            w.add(names.oProj(i), dtype, new long[] {d, config.qDim()}, linear(rnd, d, config.qDim()));
            w.add(names.postAttentionNorm(i), dtype, new long[] {d}, gains(rnd, d));
            if (config.isMoeLayer(i)) {
                int e = config.nExperts(), f = config.dFf();
                // Router logits spread wider than the rest so that routing varies from token to token.
                w.add(names.router(i), dtype, new long[] {e, d}, gaussian(rnd, (long) e * d, 3.0 / Math.sqrt(d)));
                w.add(names.expertsGateUp(i), dtype, new long[] {e, d, 2L * f}, gaussian(rnd, (long) e * d * 2 * f, 1 / Math.sqrt(d)));
                w.add(names.expertsDown(i), dtype, new long[] {e, f, d}, gaussian(rnd, (long) e * f * d, 1 / Math.sqrt(f)));
                w.add(names.sharedGate(i), dtype, new long[] {f, d}, linear(rnd, f, d));
                w.add(names.sharedUp(i), dtype, new long[] {f, d}, linear(rnd, f, d));
                w.add(names.sharedDown(i), dtype, new long[] {d, f}, linear(rnd, d, f));
            } else {
                int fm = config.dFfMlp();
                w.add(names.mlpGate(i), dtype, new long[] {fm, d}, linear(rnd, fm, d));
                w.add(names.mlpUp(i), dtype, new long[] {fm, d}, linear(rnd, fm, d));
                w.add(names.mlpDown(i), dtype, new long[] {d, fm}, linear(rnd, d, fm));
            }
        }
        w.add(names.finalNorm(), dtype, new long[] {d}, gains(rnd, d));
        w.add(names.lmHead(), dtype, new long[] {v, d}, linear(rnd, v, d));
        if (nShards == 1) w.write(dir.resolve("model.safetensors"));
        else w.writeSharded(dir, nShards);
    }

    /** The HF config.json for {@code config}, flat or nested under text_config as {@code names} implies. */
    public static String configJson(Llama4Config c, Llama4TensorNames names) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode text = json.createObjectNode();
        text.put("model_type", "llama4_text");
        text.put("hidden_size", c.dModel());
        text.put("intermediate_size", c.dFf());
        text.put("intermediate_size_mlp", c.dFfMlp());
        text.put("num_hidden_layers", c.nLayers());
        text.put("num_attention_heads", c.nHeads());
        text.put("num_key_value_heads", c.nKvHeads());
        text.put("head_dim", c.headDim());
        text.put("num_local_experts", c.nExperts());
        text.put("num_experts_per_tok", c.nExpertsPerTok());
        ArrayNode moe = text.putArray("moe_layers");
        ArrayNode noRope = text.putArray("no_rope_layers");
        for (int i = 0; i < c.nLayers(); i++) {
            if (c.isMoeLayer(i)) moe.add(i);
            noRope.add(c.isRopeLayer(i) ? 1 : 0);
        }
        text.put("use_qk_norm", c.useQkNorm());
        text.put("attention_chunk_size", c.attentionChunkSize());
        text.put("attn_temperature_tuning", c.attnTemperatureTuning());
        text.put("floor_scale", c.floorScale());
        text.put("attn_scale", c.attnScale());
        text.put("rms_norm_eps", c.rmsNormEps());
        text.put("rope_theta", c.ropeTheta());
        if (c.ropeScaling() == null) text.putNull("rope_scaling");
        else {
            ObjectNode r = text.putObject("rope_scaling");
            r.put("rope_type", "llama3");
            r.put("factor", c.ropeScaling().factor());
            r.put("low_freq_factor", c.ropeScaling().lowFreqFactor());
            r.put("high_freq_factor", c.ropeScaling().highFreqFactor());
            r.put("original_max_position_embeddings", c.ropeScaling().originalMaxPositionEmbeddings());
        }
        text.put("vocab_size", c.vocabSize());
        text.put("max_position_embeddings", c.maxPositionEmbeddings());
        text.put("hidden_act", "silu");
        text.put("attention_bias", false);
        text.put("bos_token_id", c.bosTokenId());
        ArrayNode eos = text.putArray("eos_token_id");
        for (int id : c.eosTokenIds()) eos.add(id);
        text.put("pad_token_id", c.padTokenId());
        ObjectNode root;
        if (names.equals(Llama4TensorNames.CAUSAL_LM)) {
            root = text;
            root.putArray("architectures").add("Llama4ForCausalLM");
        } else {
            root = json.createObjectNode();
            root.putArray("architectures").add("Llama4ForConditionalGeneration");
            root.put("model_type", "llama4");
            root.set("text_config", text);
            root.put("tie_word_embeddings", false);
        }
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] linear(SplittableRandom rnd, int nOut, int nIn) {
        return gaussian(rnd, (long) nOut * nIn, 1 / Math.sqrt(nIn));
    }

    private static float[] gains(SplittableRandom rnd, int n) {
        float[] g = gaussian(rnd, n, 0.1);
        for (int i = 0; i < n; i++) g[i] += 1f;
        return g;
    }

    private static float[] gaussian(SplittableRandom rnd, long n, double std) {
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor of " + n + " elements is too large to generate");
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * std);
        return v;
    }
}

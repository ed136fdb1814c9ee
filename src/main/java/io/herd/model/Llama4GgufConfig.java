package io.herd.model;

import io.herd.weights.CheckpointFormatException;
import io.herd.weights.gguf.GgufCheckpoint;
import io.herd.weights.gguf.GgufMetadata;

import java.util.Arrays;

/**
 * Reads a llama.cpp {@code llama4} GGUF's metadata into the same {@link Llama4Config} the Hugging Face path makes,
 * computing what llama.cpp computes for the file (its {@code llama-model.cpp}), since that is what the file means
 * to the tool that wrote it.
 *
 * <p>Keys: {@code llama4.embedding_length, block_count, attention.head_count, attention.head_count_kv,
 * attention.key_length, feed_forward_length} (the dense-MLP width: the converter swaps it with HF's
 * {@code intermediate_size}), {@code expert_feed_forward_length} (the expert width), {@code expert_count,
 * expert_used_count, interleave_moe_layer_step, attention.layer_norm_rms_epsilon, rope.freq_base} (llama.cpp's
 * default 10000 when absent), {@code context_length}, {@code vocab_size} (else the token list's length); token ids
 * from {@code tokenizer.ggml.*}; an untied output projection exactly when {@code output.weight} is stored.
 *
 * <p>Where GGUF and the HF config differ, llama.cpp's fixed interpretation wins, because the converter writes no
 * key for these and the file cannot say otherwise:
 * <ul>
 *   <li>attention chunk size 8192 and the layer schedule "3 chunked RoPE layers, then 1 global NoPE layer"
 *       (HF: {@code attention_chunk_size}, {@code no_rope_layers}/{@code no_rope_layer_interval});
 *       {@code attention.sliding_window}, when present and non-zero, is ignored as llama.cpp ignores it, and 0
 *       (llama.cpp's "no chunking" switch, which also makes its last layer NoPE with no temperature scale and aborts)
 *       is refused;</li>
 *   <li>temperature tuning on with floor scale 8192 and scale 0.1 (HF: {@code attn_temperature_tuning},
 *       {@code floor_scale}, {@code attn_scale});</li>
 *   <li>qk-norm exactly when there are not 128 experts (HF: {@code use_qk_norm});</li>
 *   <li>llama3 RoPE scaling as per-frequency divisors in the {@code rope_freqs.weight} tensor (HF:
 *       {@code rope_scaling}); Herd re-expresses them as llama3 parameters and refuses divisors it cannot
 *       reproduce (a smooth band between low and high frequencies; every published Llama 4 has none).</li>
 * </ul>
 * For every published Llama 4 (Scout, Maverick) both agree; they differ for custom configs such as the tiny test
 * models (chunk 8, floor scale 4), whose GGUF therefore computes something other than their safetensors.
 */
public final class Llama4GgufConfig {
    private Llama4GgufConfig() {}

    public static final String ARCHITECTURE = "llama4";
    /** llama.cpp's fixed llama4 values (llama-model.cpp, LLM_ARCH_LLAMA4). */
    static final int CHUNK_SIZE = 8192, NOPE_LAYER_INTERVAL = 4, QK_NORM_OFF_EXPERTS = 128;
    static final float FLOOR_SCALE = 8192f, ATTN_SCALE = 0.1f;
    /** llama.cpp's rope.freq_base default. */
    static final float DEFAULT_ROPE_THETA = 10000f;

    public static Llama4Config read(GgufCheckpoint gguf) {
        GgufMetadata m = gguf.metadata();
        String arch = m.string("general.architecture");
        if (!arch.equals(ARCHITECTURE))
            throw new CheckpointFormatException(m.file() + ": general.architecture is " + arch + ", Herd runs " + ARCHITECTURE);
        String a = ARCHITECTURE + ".";
        int dModel = m.count(a + "embedding_length");
        int nLayers = m.count(a + "block_count");
        int nHeads = perLayerConstant(m, a + "attention.head_count", -1);
        int nKvHeads = perLayerConstant(m, a + "attention.head_count_kv", nHeads);
        if (nHeads <= 0 || nKvHeads <= 0 || nHeads % nKvHeads != 0)
            throw error(m, a + "attention.head_count_kv", nKvHeads + " does not divide head_count " + nHeads);
        int headDim = m.count(a + "attention.key_length", dModel / nHeads);
        int valueDim = m.count(a + "attention.value_length", headDim);
        if (valueDim != headDim) throw error(m, a + "attention.value_length", valueDim + " differs from key_length " + headDim);
        int ropeDims = m.count(a + "rope.dimension_count", headDim);
        if (ropeDims != headDim)
            throw error(m, a + "rope.dimension_count", ropeDims + " rotates part of a head of " + headDim + " (not supported)");
        String ropeType = m.string(a + "rope.scaling.type", "none");
        if (!ropeType.equals("none"))
            throw error(m, a + "rope.scaling.type", ropeType + " is not supported (llama4 takes llama3 scaling from rope_freqs)");
        if (m.contains(a + "attention.sliding_window") && m.integer(a + "attention.sliding_window") == 0)
            throw error(m, a + "attention.sliding_window", "0 turns off chunked attention, which llama.cpp cannot run for llama4"
                    + " either (its last layer turns NoPE without a temperature scale)");

        int nExperts = m.count(a + "expert_count", 0);
        int nExpertsPerTok = nExperts == 0 ? 0 : m.count(a + "expert_used_count");
        int dFf = nExperts == 0 ? 0 : m.count(a + "expert_feed_forward_length");
        int step = nExperts == 0 ? 0 : m.count(a + "interleave_moe_layer_step");
        if (nExperts > 0 && step < 1) throw error(m, a + "interleave_moe_layer_step", "must be >= 1 with experts, got " + step);
        boolean[] moe = nExperts == 0 ? new boolean[nLayers] : Llama4ConfigParser.moeLayersFromStep(nLayers, step);
        boolean anyDense = false;
        for (boolean b : moe) anyDense |= !b;
        int dFfMlp = anyDense ? m.count(a + "feed_forward_length") : m.count(a + "feed_forward_length", 0);

        float theta = (float) m.real(a + "rope.freq_base", DEFAULT_ROPE_THETA);
        Llama4Config.RopeScaling scaling = gguf.contains("rope_freqs.weight")
                ? ropeScaling(gguf, headDim, theta) : null;

        int vocab = m.contains(a + "vocab_size") ? m.count(a + "vocab_size") : m.strings("tokenizer.ggml.tokens").size();
        int bos = m.count("tokenizer.ggml.bos_token_id", 1);
        int[] eos = Arrays.stream(new String[] {"eos", "eot", "eom"})
                .map(k -> "tokenizer.ggml." + k + "_token_id").filter(m::contains).mapToInt(m::count).distinct().toArray();
        int pad = m.contains("tokenizer.ggml.padding_token_id") ? m.count("tokenizer.ggml.padding_token_id") : -1;
        int context = m.count(a + "context_length", 131072);
        float eps = (float) m.real(a + "attention.layer_norm_rms_epsilon");
        boolean tied = !gguf.contains("output.weight");
        try {
            return new Llama4Config(dModel, nLayers, nHeads, nKvHeads, headDim, dFf, dFfMlp, nExperts, nExpertsPerTok,
                    moe, Llama4ConfigParser.ropeLayersFromInterval(nLayers, NOPE_LAYER_INTERVAL),
                    nExperts != QK_NORM_OFF_EXPERTS, CHUNK_SIZE, true, FLOOR_SCALE, ATTN_SCALE, eps, theta, scaling,
                    vocab, context, bos, eos, pad, tied);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(m.file() + ": " + e.getMessage(), e);
        }
    }

    /** A per-layer count stored as one integer or as an array of equal integers (llama.cpp accepts both). */
    private static int perLayerConstant(GgufMetadata m, String key, int fallback) {
        if (!m.contains(key)) {
            if (fallback < 0) throw m.missing(key);
            return fallback;
        }
        if (m.get(key) instanceof Long) return m.count(key);
        long[] values = m.integers(key);
        if (values.length == 0) throw error(m, key, "empty array");
        for (long v : values)
            if (v != values[0]) throw error(m, key, "differs between layers " + Arrays.toString(values) + " (not supported)");
        if (values[0] <= 0 || values[0] > Integer.MAX_VALUE) throw error(m, key, "value " + values[0]);
        return (int) values[0];
    }

    /**
     * The llama3 scaling that reproduces {@code rope_freqs}: llama.cpp divides frequency j by divisor j. Published
     * Llama 4 uses low = high = 1 (frequencies with wavelength under the original context kept, the rest divided by
     * the factor), which fixes the factor and brackets the original context between two wavelengths; the smallest
     * power of two in that bracket (8192 for Scout) is taken, which gives the same frequencies as any value in it.
     */
    static Llama4Config.RopeScaling ropeScaling(GgufCheckpoint gguf, int headDim, float theta) {
        float[] div = gguf.tensor("rope_freqs.weight").requireDims(headDim / 2).toFloatArray();
        String file = gguf.tensor("rope_freqs.weight").file().toString();
        float[] plain = RopeFrequencies.inverseFrequencies(headDim, theta, null);
        float factor = 1f;
        double maxKept = 0, minScaled = Double.POSITIVE_INFINITY;
        float twoPi = (float) (2 * Math.PI);
        for (int j = 0; j < div.length; j++) {
            if (!(div[j] > 0) || !Float.isFinite(div[j]))
                throw new CheckpointFormatException(file + ": rope_freqs[" + j + "] is " + div[j]);
            double wavelen = twoPi / plain[j];
            if (div[j] == 1f) maxKept = Math.max(maxKept, wavelen);
            else {
                if (factor != 1f && div[j] != factor)
                    throw new CheckpointFormatException(file + ": rope_freqs " + Arrays.toString(div) + " has a smooth band"
                            + " between kept and scaled frequencies, which Herd's llama3 scaling does not reproduce here");
                factor = div[j];
                minScaled = Math.min(minScaled, wavelen);
            }
        }
        if (factor == 1f) return null;
        if (!(maxKept < minScaled))
            throw new CheckpointFormatException(file + ": rope_freqs divides some frequencies but not all slower ones");
        long original = Long.highestOneBit((long) Math.floor(maxKept)) << 1;
        if (!(original > maxKept && original < minScaled)) original = (long) Math.floor(maxKept) + 1;
        if (!(original < minScaled) || original > Integer.MAX_VALUE)
            throw new CheckpointFormatException(file + ": rope_freqs switches between wavelengths " + maxKept + " and "
                    + minScaled + ", no original context length fits");
        Llama4Config.RopeScaling s = new Llama4Config.RopeScaling(factor, 1f, 1f, (int) original);
        float[] scaled = RopeFrequencies.inverseFrequencies(headDim, theta, s);
        for (int j = 0; j < div.length; j++)
            if (Math.abs(plain[j] / div[j] - scaled[j]) > 1e-6f * plain[j])
                throw new CheckpointFormatException(file + ": rope_freqs[" + j + "] = " + div[j] + " is not reproduced by " + s);
        return s;
    }

    private static CheckpointFormatException error(GgufMetadata m, String key, String message) {
        return new CheckpointFormatException(m.file() + ": metadata " + key + ": " + message);
    }
}

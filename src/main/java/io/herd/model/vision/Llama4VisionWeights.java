package io.herd.model.vision;

import io.herd.compute.DType;
import io.herd.compute.Matrices;
import io.herd.compute.Matrix;
import io.herd.weights.SafetensorsCheckpoint;
import io.herd.weights.TensorView;

import java.util.ArrayList;
import java.util.List;

/**
 * Weights of the vision encoder, its pixel-shuffle adapter and the multimodal projector of a
 * {@code Llama4ForConditionalGeneration} checkpoint ({@code vision_model.*}, {@code multi_modal_projector.*}). Matrices
 * are views into the memory-mapped files (F32, BF16 or F16, whichever shard holds them) that live as long as the
 * checkpoint; biases, norms and embeddings are small fp32 copies. Every shape is checked against the config.
 *
 * @param patchEmbedding [hidden, 3·patch²] Linear (no bias) over a flattened patch
 * @param classEmbedding [hidden], appended as the last token of a tile
 * @param positions      [(patches+1)·hidden] row-major; the last row belongs to the class token
 * @param projector      [textHidden, visionOutputDim] Linear, no bias
 */
public record Llama4VisionWeights(Llama4VisionConfig config, Matrix patchEmbedding, float[] classEmbedding,
                                  float[] positions, LayerNorm preNorm, List<EncoderLayer> layers, LayerNorm postNorm,
                                  Matrix adapterFc1, Matrix adapterFc2, Matrix projector) {

    /** LayerNorm gain and bias, each [width]. */
    public record LayerNorm(float[] weight, float[] bias) {}

    /** A Linear with a bias: weight [nOut, nIn], bias [nOut]. */
    public record Linear(Matrix weight, float[] bias) {}

    /** One pre-norm encoder layer; every Linear has a bias. */
    public record EncoderLayer(LayerNorm inputNorm, Linear q, Linear k, Linear v, Linear o, LayerNorm postAttentionNorm,
                               Linear fc1, Linear fc2) {}

    public Llama4VisionWeights {
        layers = List.copyOf(layers);
        if (layers.size() != config.nLayers())
            throw new IllegalArgumentException("vision weights have " + layers.size() + " layers, config " + config.nLayers());
    }

    /** Whether {@code checkpoint} holds a vision tower (a text-only checkpoint does not). */
    public static boolean present(SafetensorsCheckpoint checkpoint) {
        return checkpoint.contains(PATCH_EMBEDDING);
    }

    private static final String V = "vision_model.";
    private static final String PATCH_EMBEDDING = V + "patch_embedding.linear.weight";

    /** Loads every vision and projector tensor of {@code checkpoint}, checking shapes against {@code config}. */
    public static Llama4VisionWeights load(SafetensorsCheckpoint checkpoint, Llama4VisionConfig config) {
        int h = config.hiddenSize(), ff = config.intermediateSize(), out = config.visionOutputDim();
        Loader l = new Loader(checkpoint);
        List<EncoderLayer> layers = new ArrayList<>(config.nLayers());
        for (int i = 0; i < config.nLayers(); i++) {
            String p = V + "model.layers." + i + ".";
            layers.add(new EncoderLayer(l.norm(p + "input_layernorm", h),
                    l.linear(p + "self_attn.q_proj", h, h), l.linear(p + "self_attn.k_proj", h, h),
                    l.linear(p + "self_attn.v_proj", h, h), l.linear(p + "self_attn.o_proj", h, h),
                    l.norm(p + "post_attention_layernorm", h),
                    l.linear(p + "mlp.fc1", ff, h), l.linear(p + "mlp.fc2", h, ff)));
        }
        return new Llama4VisionWeights(config,
                l.matrix(PATCH_EMBEDDING, h, config.patchElements()),
                l.vector(V + "class_embedding", h),
                l.tensor(V + "positional_embedding_vlm").requireShape(config.patchesPerTile() + 1, h).toFloatArray(),
                l.norm(V + "layernorm_pre", h), layers, l.norm(V + "layernorm_post", h),
                l.matrix(V + "vision_adapter.mlp.fc1.weight", out, ff),
                l.matrix(V + "vision_adapter.mlp.fc2.weight", out, out),
                l.matrix("multi_modal_projector.linear_1.weight", config.textHiddenSize(), out));
    }

    private record Loader(SafetensorsCheckpoint checkpoint) {
        TensorView tensor(String name) {
            return checkpoint.tensor(name).requireDtype(DType.F32, DType.BF16, DType.F16);
        }

        Matrix matrix(String name, int nOut, int nIn) {
            TensorView t = tensor(name).requireShape(nOut, nIn);
            return Matrices.rowMajor(t.data(), t.dtype(), nOut, nIn);
        }

        float[] vector(String name, int n) {
            return tensor(name).requireShape(n).toFloatArray();
        }

        Linear linear(String prefix, int nOut, int nIn) {
            return new Linear(matrix(prefix + ".weight", nOut, nIn), vector(prefix + ".bias", nOut));
        }

        LayerNorm norm(String prefix, int n) {
            return new LayerNorm(vector(prefix + ".weight", n), vector(prefix + ".bias", n));
        }
    }
}

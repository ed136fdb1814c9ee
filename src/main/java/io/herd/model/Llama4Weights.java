package io.herd.model;

import io.herd.compute.DType;
import io.herd.compute.Matrices;
import io.herd.compute.Matrix;
import io.herd.weights.SafetensorsCheckpoint;
import io.herd.weights.TensorView;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * All weights of a Llama 4 text model as {@link Matrix} views ({@code y = x · Wᵀ}, {@code nOut × nIn}). Built by
 * {@link #load} from a checkpoint (views into the memory-mapped files, no copies unless quantized) or directly from
 * matrices (benchmarks with random weights). The constructors check every shape against the config.
 *
 * @param embedTokens [vocab, dModel] as a row-major matrix (nOut = vocab, nIn = dModel); row t is token t's embedding
 * @param layers      nLayers entries
 * @param finalNorm   [dModel] fp32 copy of the final RMSNorm gain
 * @param lmHead      [vocab, dModel] row-major, nIn = dModel contiguous
 */
public record Llama4Weights(Llama4Config config, Matrix embedTokens, List<Layer> layers, float[] finalNorm, Matrix lmHead) {

    public Llama4Weights {
        require(embedTokens, config.vocabSize(), config.dModel(), "embed_tokens");
        require(lmHead, config.vocabSize(), config.dModel(), "lm_head");
        require(finalNorm, config.dModel(), "norm");
        if (layers.size() != config.nLayers())
            throw new IllegalArgumentException("weights have " + layers.size() + " layers, config " + config.nLayers());
        for (int i = 0; i < layers.size(); i++) layers.get(i).check(config, i);
        layers = List.copyOf(layers);
    }

    /**
     * One decoder layer.
     *
     * @param inputNorm         [dModel] fp32 pre-attention RMSNorm gain
     * @param postAttentionNorm [dModel] fp32 pre-FFN RMSNorm gain
     */
    public record Layer(float[] inputNorm, Attention attention, float[] postAttentionNorm, FeedForward feedForward) {
        void check(Llama4Config c, int i) {
            String p = "layer " + i + " ";
            require(inputNorm, c.dModel(), p + "input_layernorm");
            require(postAttentionNorm, c.dModel(), p + "post_attention_layernorm");
            require(attention.q(), c.qDim(), c.dModel(), p + "q_proj");
            require(attention.k(), c.kvDim(), c.dModel(), p + "k_proj");
            require(attention.v(), c.kvDim(), c.dModel(), p + "v_proj");
            require(attention.o(), c.dModel(), c.qDim(), p + "o_proj");
            switch (feedForward) {
                case Moe moe -> {
                    if (!c.isMoeLayer(i)) throw new IllegalArgumentException(p + "has MoE weights but config says dense");
                    require(moe.router(), c.nExperts(), c.dModel(), p + "router");
                    if (moe.expertGateUp().size() != c.nExperts() || moe.expertDown().size() != c.nExperts())
                        throw new IllegalArgumentException(p + "has " + moe.expertGateUp().size() + "/" + moe.expertDown().size()
                                + " experts, config " + c.nExperts());
                    for (int e = 0; e < c.nExperts(); e++) {
                        require(moe.expertGateUp().get(e), 2 * c.dFf(), c.dModel(), p + "expert " + e + " gate_up");
                        require(moe.expertDown().get(e), c.dModel(), c.dFf(), p + "expert " + e + " down");
                    }
                    requireMlp(moe.sharedExpert(), c.dFf(), c.dModel(), p + "shared_expert");
                }
                case Mlp mlp -> {
                    if (c.isMoeLayer(i)) throw new IllegalArgumentException(p + "has dense weights but config says MoE");
                    requireMlp(mlp, c.dFfMlp(), c.dModel(), p + "feed_forward");
                }
            }
        }
    }

    /** Attention projections, all HF Linear orientation. q: [nHeads·headDim, dModel]; k, v: [nKvHeads·headDim, dModel]; o: [dModel, nHeads·headDim]. */
    public record Attention(Matrix q, Matrix k, Matrix v, Matrix o) {}

    /** A layer's FFN: a MoE block or a dense SwiGLU. */
    public sealed interface FeedForward permits Moe, Mlp {}

    /** SwiGLU: gate, up [dHidden, dModel]; down [dModel, dHidden]. */
    public record Mlp(Matrix gate, Matrix up, Matrix down) implements FeedForward {}

    /**
     * MoE block.
     *
     * @param router       [nExperts, dModel]
     * @param expertGateUp per expert an input-major [dModel, 2·dFf] slice of the fused [nExperts, dModel, 2·dFf]
     *                     tensor (nOut = 2·dFf: gate outputs 0…dFf-1, up outputs dFf…2dFf-1)
     * @param expertDown   per expert an input-major [dFf, dModel] slice of [nExperts, dFf, dModel] (nOut = dModel)
     * @param sharedExpert SwiGLU of width dFf applied to every token
     */
    public record Moe(Matrix router, List<Matrix> expertGateUp, List<Matrix> expertDown, Mlp sharedExpert)
            implements FeedForward {
        public Moe {
            expertGateUp = List.copyOf(expertGateUp);
            expertDown = List.copyOf(expertDown);
        }
    }

    /** Inputs per Q8 scale (as llama.cpp's Q8_0 blocks). */
    public static final int Q8_GROUP_SIZE = 32;

    /**
     * Loads every text tensor of {@code checkpoint} (either naming scheme), checking shapes against {@code config}.
     * Q8 copies, if asked for, live in an automatic arena: the garbage collector frees them once these weights are
     * unreachable. Unquantized matrices are views that die with the checkpoint.
     */
    public static Llama4Weights load(SafetensorsCheckpoint checkpoint, Llama4Config config, WeightQuantization quantization) {
        return load(checkpoint, config, quantization, quantization == WeightQuantization.NONE ? null : Arena.ofAuto());
    }

    /**
     * As {@link #load(SafetensorsCheckpoint, Llama4Config, WeightQuantization)}, with Q8 copies allocated in
     * {@code quantizedArena}, which the caller owns and keeps open while the weights are used (unused for NONE).
     */
    public static Llama4Weights load(SafetensorsCheckpoint checkpoint, Llama4Config config, WeightQuantization quantization,
                                     Arena quantizedArena) {
        if (quantization != WeightQuantization.NONE && quantizedArena == null)
            throw new IllegalArgumentException("quantization " + quantization + " needs an arena for the quantized copies");
        Loader l = new Loader(checkpoint, config, quantization, quantizedArena);
        Llama4TensorNames n = l.names;
        int d = config.dModel();
        Matrix embed = l.rowMajor(n.embedTokens(), config.vocabSize(), d, false);
        Matrix lmHead = l.rowMajor(n.outputProjection(checkpoint.names(), config.tieWordEmbeddings(), checkpoint.location()),
                config.vocabSize(), d, true);
        float[] finalNorm = l.vector(n.finalNorm(), d);
        List<Layer> layers = new ArrayList<>(config.nLayers());
        for (int i = 0; i < config.nLayers(); i++) {
            Attention attn = new Attention(
                    l.rowMajor(n.qProj(i), config.qDim(), d, true),
                    l.rowMajor(n.kProj(i), config.kvDim(), d, true),
                    l.rowMajor(n.vProj(i), config.kvDim(), d, true),
                    l.rowMajor(n.oProj(i), d, config.qDim(), true));
            FeedForward ffn;
            if (config.isMoeLayer(i)) {
                int nE = config.nExperts(), f = config.dFf();
                TensorView gateUp = l.tensor(n.expertsGateUp(i)).requireShape(nE, d, 2L * f);
                TensorView down = l.tensor(n.expertsDown(i)).requireShape(nE, f, d);
                List<Matrix> gateUps = new ArrayList<>(nE), downs = new ArrayList<>(nE);
                long gateUpBytes = (long) d * 2 * f * gateUp.dtype().bytes, downBytes = (long) f * d * down.dtype().bytes;
                for (int e = 0; e < nE; e++) {
                    MemorySegment gu = gateUp.data().asSlice(e * gateUpBytes, gateUpBytes);
                    MemorySegment dn = down.data().asSlice(e * downBytes, downBytes);
                    String expert = "[" + e + "]";
                    gateUps.add(l.quantize(Matrices.inputMajor(gu, gateUp.dtype(), d, 2 * f), n.expertsGateUp(i) + expert));
                    downs.add(l.quantize(Matrices.inputMajor(dn, down.dtype(), f, d), n.expertsDown(i) + expert));
                }
                Mlp shared = new Mlp(l.rowMajor(n.sharedGate(i), f, d, true), l.rowMajor(n.sharedUp(i), f, d, true),
                        l.rowMajor(n.sharedDown(i), d, f, true));
                // The router stays as stored: it is tiny and its ties decide routing (SPEC §9).
                ffn = new Moe(l.rowMajor(n.router(i), nE, d, false), gateUps, downs, shared);
            } else {
                int fm = config.dFfMlp();
                ffn = new Mlp(l.rowMajor(n.mlpGate(i), fm, d, true), l.rowMajor(n.mlpUp(i), fm, d, true),
                        l.rowMajor(n.mlpDown(i), d, fm, true));
            }
            layers.add(new Layer(l.vector(n.inputNorm(i), d), attn, l.vector(n.postAttentionNorm(i), d), ffn));
        }
        return new Llama4Weights(config, embed, layers, finalNorm, lmHead);
    }

    private static final class Loader {
        final SafetensorsCheckpoint checkpoint;
        final WeightQuantization quantization;
        final Llama4TensorNames names;
        final Arena arena;

        Loader(SafetensorsCheckpoint checkpoint, Llama4Config config, WeightQuantization quantization, Arena arena) {
            this.checkpoint = checkpoint;
            this.quantization = quantization;
            this.arena = arena;
            this.names = Llama4TensorNames.detect(checkpoint.names(), checkpoint.location());
        }

        TensorView tensor(String name) {
            return checkpoint.tensor(name).requireDtype(DType.F32, DType.BF16, DType.F16);
        }

        Matrix rowMajor(String name, int nOut, int nIn, boolean quantizable) {
            TensorView t = tensor(name).requireShape(nOut, nIn);
            Matrix m = Matrices.rowMajor(t.data(), t.dtype(), nOut, nIn);
            return quantizable ? quantize(m, name) : m;
        }

        float[] vector(String name, int n) {
            return tensor(name).requireShape(n).toFloatArray();
        }

        /**
         * The single hook for load-time quantization ({@code --quant q8}); a weight Q8 cannot hold (non-finite, or
         * beyond its fp16 scales) fails naming the file and tensor.
         */
        Matrix quantize(Matrix m, String tensorName) {
            try {
                return switch (quantization) {
                    case NONE -> m;
                    case Q8 -> Matrices.quantizeQ8(m, Q8_GROUP_SIZE, arena);
                };
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(checkpoint.location() + ": tensor " + tensorName + ": "
                        + e.getMessage(), e);
            }
        }
    }

    private static void require(Matrix m, int nOut, int nIn, String what) {
        if (m == null) throw new IllegalArgumentException(what + ": matrix missing");
        if (m.nOut() != nOut || m.nIn() != nIn)
            throw new IllegalArgumentException(what + ": matrix is [nOut=" + m.nOut() + ", nIn=" + m.nIn() + "], expected [nOut="
                    + nOut + ", nIn=" + nIn + "]");
    }

    private static void requireMlp(Mlp mlp, int dHidden, int dModel, String what) {
        if (mlp == null) throw new IllegalArgumentException(what + ": missing");
        require(mlp.gate(), dHidden, dModel, what + ".gate_proj");
        require(mlp.up(), dHidden, dModel, what + ".up_proj");
        require(mlp.down(), dModel, dHidden, what + ".down_proj");
    }

    private static void require(float[] v, int n, String what) {
        if (v == null || v.length != n)
            throw new IllegalArgumentException(what + ": vector of " + (v == null ? "null" : v.length) + ", expected " + n);
    }
}

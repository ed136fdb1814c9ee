package io.herd.model;

import io.herd.compute.Matrices;
import io.herd.compute.Matrix;
import io.herd.weights.CheckpointFormatException;
import io.herd.weights.gguf.GgufCheckpoint;
import io.herd.weights.gguf.GgufTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds {@link Llama4Weights} from a llama.cpp {@code llama4} GGUF: every matrix a view over the mapped tensor in
 * its stored type (F32, F16, BF16 or a ggml block format), never copied unless {@code --quant q8} asks for Herd's Q8.
 *
 * <p>llama.cpp's names (those {@code convert_hf_to_gguf.py} gives, and Herd's bench GGUF writer uses) and the HF
 * weights they hold; ggml dims are innermost first, so an HF Linear [out, in] is {@code {in, out}} with the same bytes:
 * <pre>
 * token_embd.weight {d, vocab}          embed_tokens         output.weight {d, vocab}   lm_head (absent: tied)
 * output_norm.weight {d}                norm                 rope_freqs.weight {hd/2}   llama3 scaling (config)
 * blk.N.attn_norm / ffn_norm {d}        input_layernorm / post_attention_layernorm
 * blk.N.attn_q / attn_k / attn_v / attn_output                q_proj / k_proj / v_proj / o_proj
 * blk.N.ffn_gate_inp {d, E}             feed_forward.router
 * blk.N.ffn_gate_exps / ffn_up_exps {d, f, E}   gate and up halves of experts.gate_up_proj, transposed per expert
 * blk.N.ffn_down_exps {f, d, E}         experts.down_proj, transposed per expert
 * blk.N.ffn_gate_shexp / ffn_up_shexp / ffn_down_shexp        shared_expert.gate_proj / up_proj / down_proj
 * blk.N.ffn_gate / ffn_up / ffn_down    dense-layer feed_forward.gate_proj / up_proj / down_proj
 * </pre>
 * q and k are stored as HF stores them (llama.cpp's llama4 converter does not permute them: both rotate adjacent
 * pairs). Each expert becomes row-major matrices over its slice of the 3-d tensor; gate and up are joined into the
 * fused gate|up matrix the forward pass takes.
 */
public final class Llama4GgufWeights {
    private Llama4GgufWeights() {}

    /**
     * Loads every text tensor, checking dims against {@code config}; Q8 copies (for {@link WeightQuantization#Q8})
     * live in {@code quantizedArena}, which the caller keeps open while the weights are used (unused for NONE).
     */
    public static Llama4Weights load(GgufCheckpoint gguf, Llama4Config config, WeightQuantization quantization,
                                     Arena quantizedArena) {
        if (quantization != WeightQuantization.NONE && quantizedArena == null)
            throw new IllegalArgumentException("quantization " + quantization + " needs an arena for the quantized copies");
        Loader l = new Loader(gguf, quantization, quantizedArena);
        int d = config.dModel(), v = config.vocabSize();
        Matrix embed = l.matrix("token_embd.weight", v, d, false);
        Matrix lmHead = l.matrix(gguf.contains("output.weight") ? "output.weight" : "token_embd.weight", v, d, true);
        float[] finalNorm = l.vector("output_norm.weight", d);
        List<Llama4Weights.Layer> layers = new ArrayList<>(config.nLayers());
        for (int i = 0; i < config.nLayers(); i++) {
            String b = "blk." + i + ".";
            var attn = new Llama4Weights.Attention(
                    l.matrix(b + "attn_q.weight", config.qDim(), d, true),
                    l.matrix(b + "attn_k.weight", config.kvDim(), d, true),
                    l.matrix(b + "attn_v.weight", config.kvDim(), d, true),
                    l.matrix(b + "attn_output.weight", d, config.qDim(), true));
            Llama4Weights.FeedForward ffn;
            if (config.isMoeLayer(i)) {
                int nE = config.nExperts(), f = config.dFf();
                GgufTensor gate = l.tensor(b + "ffn_gate_exps.weight").requireDims(d, f, nE);
                GgufTensor up = l.tensor(b + "ffn_up_exps.weight").requireDims(d, f, nE);
                GgufTensor down = l.tensor(b + "ffn_down_exps.weight").requireDims(f, d, nE);
                List<Matrix> gateUps = new ArrayList<>(nE), downs = new ArrayList<>(nE);
                for (int e = 0; e < nE; e++) {
                    Matrix g = l.quantize(l.expert(gate, e, f, d), gate.name() + "[" + e + "]");
                    Matrix u = l.quantize(l.expert(up, e, f, d), up.name() + "[" + e + "]");
                    gateUps.add(Matrices.stackRows(g, u));
                    downs.add(l.quantize(l.expert(down, e, d, f), down.name() + "[" + e + "]"));
                }
                var shared = new Llama4Weights.Mlp(l.matrix(b + "ffn_gate_shexp.weight", f, d, true),
                        l.matrix(b + "ffn_up_shexp.weight", f, d, true), l.matrix(b + "ffn_down_shexp.weight", d, f, true));
                // The router stays as stored: it is tiny and its ties decide routing (SPEC §9).
                ffn = new Llama4Weights.Moe(l.matrix(b + "ffn_gate_inp.weight", nE, d, false), gateUps, downs, shared);
            } else {
                int fm = config.dFfMlp();
                ffn = new Llama4Weights.Mlp(l.matrix(b + "ffn_gate.weight", fm, d, true),
                        l.matrix(b + "ffn_up.weight", fm, d, true), l.matrix(b + "ffn_down.weight", d, fm, true));
            }
            layers.add(new Llama4Weights.Layer(l.vector(b + "attn_norm.weight", d), attn,
                    l.vector(b + "ffn_norm.weight", d), ffn));
        }
        return new Llama4Weights(config, embed, layers, finalNorm, lmHead);
    }

    private record Loader(GgufCheckpoint gguf, WeightQuantization quantization, Arena arena) {
        GgufTensor tensor(String name) {
            return gguf.tensor(name).requireDecodable();
        }

        /** A stored [nOut, nIn] matrix (dims {nIn, nOut}). */
        Matrix matrix(String name, int nOut, int nIn, boolean quantizable) {
            GgufTensor t = tensor(name).requireDims(nIn, nOut);
            Matrix m = build(t, t.data(), nOut, nIn);
            return quantizable ? quantize(m, name) : m;
        }

        /** Expert e of a {nIn, nOut, E} tensor: its nOut rows of nIn. */
        Matrix expert(GgufTensor t, int e, int nOut, int nIn) {
            long bytes = t.type().rowBytes(nIn) * nOut;
            return build(t, t.data().asSlice(e * bytes, bytes), nOut, nIn);
        }

        private Matrix build(GgufTensor t, MemorySegment data, int nOut, int nIn) {
            try {
                return Matrices.ggml(data, t.type(), nOut, nIn);
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(t.file() + ": tensor " + t.name() + ": " + e.getMessage(), e);
            }
        }

        float[] vector(String name, int n) {
            return tensor(name).requireDims(n).toFloatArray();
        }

        Matrix quantize(Matrix m, String name) {
            try {
                return switch (quantization) {
                    case NONE -> m;
                    case Q8 -> Matrices.quantizeQ8(m, Llama4Weights.Q8_GROUP_SIZE, arena);
                };
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(gguf.location() + ": tensor " + name + ": " + e.getMessage(), e);
            }
        }
    }
}

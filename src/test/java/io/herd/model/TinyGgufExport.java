package io.herd.model;

import io.herd.cli.gguf.GgufWriter;
import io.herd.compute.GgmlBlockDecoder;
import io.herd.compute.GgmlType;
import io.herd.tokenizer.Llama4SpecialTokens;
import io.herd.weights.SafetensorsCheckpoint;
import io.herd.weights.TensorView;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a small safetensors Llama 4 checkpoint as a llama.cpp {@code llama4} GGUF the way llama.cpp's converter
 * lays it out (its tensor names, experts split into gate/up/down and transposed per expert, RoPE scaling as
 * {@code rope_freqs} divisors, the dense width in {@code feed_forward_length}), with the matrices in one chosen type
 * and norms in F32. Q8_0 and Q4_0 are quantized here by ggml's reference rules; with {@code dequantizeBack} the
 * quantized values are decoded again and stored as F32, which gives the exact fp32 reference model for them.
 */
public final class TinyGgufExport {
    private TinyGgufExport() {}

    public static void write(SafetensorsCheckpoint st, Llama4Config c, GgmlType matrixType, boolean dequantizeBack, Path out) {
        write(st, c, matrixType, dequantizeBack, false, out);
    }

    /**
     * With {@code vocabulary}, also a byte-level vocabulary as llama.cpp's converter writes one: the 256 byte
     * symbols (GPT-2's byte-to-character map) as normal tokens, then Llama 4's special tokens up to the vocabulary
     * size as control tokens, no merges.
     */
    public static void write(SafetensorsCheckpoint st, Llama4Config c, GgmlType matrixType, boolean dequantizeBack,
                             boolean vocabulary, Path out) {
        Llama4TensorNames n = Llama4TensorNames.detect(st.names(), st.location());
        GgufWriter w = new GgufWriter();
        String a = "llama4.";
        w.putString("general.architecture", "llama4");
        w.putUint32(a + "vocab_size", c.vocabSize());
        w.putUint32(a + "context_length", c.maxPositionEmbeddings());
        w.putUint32(a + "embedding_length", c.dModel());
        w.putUint32(a + "block_count", c.nLayers());
        w.putUint32(a + "feed_forward_length", c.dFfMlp());
        w.putUint32(a + "expert_feed_forward_length", c.dFf());
        w.putUint32(a + "interleave_moe_layer_step", 1);
        w.putUint32(a + "expert_count", c.nExperts());
        w.putUint32(a + "expert_used_count", c.nExpertsPerTok());
        w.putUint32(a + "attention.head_count", c.nHeads());
        w.putUint32(a + "attention.head_count_kv", c.nKvHeads());
        w.putUint32(a + "attention.key_length", c.headDim());
        w.putUint32(a + "attention.value_length", c.headDim());
        w.putFloat32(a + "attention.layer_norm_rms_epsilon", c.rmsNormEps());
        w.putUint32(a + "rope.dimension_count", c.headDim());
        w.putFloat32(a + "rope.freq_base", c.ropeTheta());
        w.putUint32("tokenizer.ggml.bos_token_id", c.bosTokenId());
        w.putUint32("tokenizer.ggml.eos_token_id", c.eosTokenIds()[0]);
        w.putUint32("tokenizer.ggml.padding_token_id", c.padTokenId());

        if (vocabulary) {
            List<String> tokens = new ArrayList<>();
            int[] types = new int[c.vocabSize()];
            int next = 256;
            for (int b = 0; b < 256; b++) {
                boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
                tokens.add(new String(Character.toChars(printable ? b : next++)));
                types[b] = 1;
            }
            for (int id = 256; id < c.vocabSize(); id++) {
                tokens.add(Llama4SpecialTokens.all().get(id - 256));
                types[id] = 3;
            }
            w.putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "llama4")
                    .putStringArray("tokenizer.ggml.tokens", tokens).putInt32Array("tokenizer.ggml.token_type", types);
        }
        int d = c.dModel(), f = c.dFf(), nE = c.nExperts();
        w.addTensor("token_embd.weight", GgmlType.F32, new long[] {d, c.vocabSize()}, f32(values(st.tensor(n.embedTokens()))));
        w.addTensor("output_norm.weight", GgmlType.F32, new long[] {d}, f32(values(st.tensor(n.finalNorm()))));
        matrix(w, "output.weight", values(st.tensor(n.lmHead())), c.vocabSize(), d, matrixType, dequantizeBack);
        if (c.ropeScaling() != null) {
            float[] plain = RopeFrequencies.inverseFrequencies(c.headDim(), c.ropeTheta(), null);
            float[] scaled = RopeFrequencies.inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
            float[] div = new float[plain.length];
            for (int j = 0; j < div.length; j++) div[j] = plain[j] / scaled[j];
            w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {div.length}, f32(div));
        }
        for (int i = 0; i < c.nLayers(); i++) {
            String b = "blk." + i + ".";
            w.addTensor(b + "attn_norm.weight", GgmlType.F32, new long[] {d}, f32(values(st.tensor(n.inputNorm(i)))));
            w.addTensor(b + "ffn_norm.weight", GgmlType.F32, new long[] {d}, f32(values(st.tensor(n.postAttentionNorm(i)))));
            matrix(w, b + "attn_q.weight", values(st.tensor(n.qProj(i))), c.qDim(), d, matrixType, dequantizeBack);
            matrix(w, b + "attn_k.weight", values(st.tensor(n.kProj(i))), c.kvDim(), d, matrixType, dequantizeBack);
            matrix(w, b + "attn_v.weight", values(st.tensor(n.vProj(i))), c.kvDim(), d, matrixType, dequantizeBack);
            matrix(w, b + "attn_output.weight", values(st.tensor(n.oProj(i))), d, c.qDim(), matrixType, dequantizeBack);
            if (c.isMoeLayer(i)) {
                w.addTensor(b + "ffn_gate_inp.weight", GgmlType.F32, new long[] {d, nE}, f32(values(st.tensor(n.router(i)))));
                float[] gateUp = values(st.tensor(n.expertsGateUp(i))), down = values(st.tensor(n.expertsDown(i)));
                float[] gate = new float[nE * f * d], up = new float[nE * f * d], downT = new float[nE * d * f];
                for (int e = 0; e < nE; e++)
                    for (int o = 0; o < f; o++)
                        for (int k = 0; k < d; k++) {
                            gate[(e * f + o) * d + k] = gateUp[(e * d + k) * 2 * f + o];
                            up[(e * f + o) * d + k] = gateUp[(e * d + k) * 2 * f + f + o];
                        }
                for (int e = 0; e < nE; e++)
                    for (int o = 0; o < d; o++)
                        for (int k = 0; k < f; k++) downT[(e * d + o) * f + k] = down[(e * f + k) * d + o];
                experts(w, b + "ffn_gate_exps.weight", gate, d, f, nE, matrixType, dequantizeBack);
                experts(w, b + "ffn_up_exps.weight", up, d, f, nE, matrixType, dequantizeBack);
                experts(w, b + "ffn_down_exps.weight", downT, f, d, nE, matrixType, dequantizeBack);
                matrix(w, b + "ffn_gate_shexp.weight", values(st.tensor(n.sharedGate(i))), f, d, matrixType, dequantizeBack);
                matrix(w, b + "ffn_up_shexp.weight", values(st.tensor(n.sharedUp(i))), f, d, matrixType, dequantizeBack);
                matrix(w, b + "ffn_down_shexp.weight", values(st.tensor(n.sharedDown(i))), d, f, matrixType, dequantizeBack);
            } else {
                int fm = c.dFfMlp();
                matrix(w, b + "ffn_gate.weight", values(st.tensor(n.mlpGate(i))), fm, d, matrixType, dequantizeBack);
                matrix(w, b + "ffn_up.weight", values(st.tensor(n.mlpUp(i))), fm, d, matrixType, dequantizeBack);
                matrix(w, b + "ffn_down.weight", values(st.tensor(n.mlpDown(i))), d, fm, matrixType, dequantizeBack);
            }
        }
        w.write(out);
    }

    /** What llama.cpp makes of an HF config once it is a llama4 GGUF (Llama4GgufConfig's rules). */
    public static Llama4Config llamaCppView(Llama4Config c) {
        return new Llama4Config(c.dModel(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.headDim(), c.dFf(), c.dFfMlp(),
                c.nExperts(), c.nExpertsPerTok(), c.moeLayers(), Llama4ConfigParser.ropeLayersFromInterval(c.nLayers(), 4),
                c.nExperts() != 128, 8192, true, 8192f, 0.1f, c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(),
                c.vocabSize(), c.maxPositionEmbeddings(), c.bosTokenId(), c.eosTokenIds(), c.padTokenId(), false);
    }

    private static float[] values(TensorView t) {
        return t.toFloatArray();
    }

    private static void matrix(GgufWriter w, String name, float[] rows, int nOut, int nIn, GgmlType type, boolean back) {
        experts(w, name, rows, nIn, nOut, 1, type, back);
    }

    /** A {nIn, nOut, nE} tensor (nE = 1: a plain matrix, written 2-d) from row-major values. */
    private static void experts(GgufWriter w, String name, float[] rows, int nIn, int nOut, int nE, GgmlType type, boolean back) {
        long[] ne = nE == 1 ? new long[] {nIn, nOut} : new long[] {nIn, nOut, nE};
        byte[] encoded = encode(rows, type);
        if (back && type != GgmlType.F32) {
            float[] decoded = new float[rows.length];
            GgmlBlockDecoder.decode(type, MemorySegment.ofArray(encoded), 0, rows.length / type.blockSize, decoded, 0);
            w.addTensor(name, GgmlType.F32, ne, f32(decoded));
        } else {
            w.addTensor(name, type, ne, sink -> sink.write(MemorySegment.ofArray(encoded)));
        }
    }

    static byte[] encode(float[] v, GgmlType type) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(type.rowBytes(v.length))).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> { for (float x : v) out.putFloat(x); }
            case F16 -> { for (float x : v) out.putShort(Float.floatToFloat16(x)); }
            case BF16 -> { for (float x : v) out.putShort(io.herd.compute.cpu.Bf16.fromFloat(x)); }
            case Q8_0 -> {
                for (int b = 0; b < v.length; b += 32) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(v[b + j]));
                    float dd = amax / 127f, id = dd != 0 ? 1 / dd : 0;
                    out.putShort(Float.floatToFloat16(dd));
                    for (int j = 0; j < 32; j++) {
                        float x = v[b + j] * id;
                        int r = Math.round(Math.abs(x)); // C roundf: halves away from zero
                        out.put((byte) (x < 0 ? -r : r));
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < v.length; b += 32) {
                    float amax = 0, max = 0;
                    for (int j = 0; j < 32; j++)
                        if (Math.abs(v[b + j]) > amax) { amax = Math.abs(v[b + j]); max = v[b + j]; }
                    float dd = max / -8, id = dd != 0 ? 1 / dd : 0;
                    out.putShort(Float.floatToFloat16(dd));
                    for (int j = 0; j < 16; j++) {
                        int lo = Math.min(15, (int) (v[b + j] * id + 8.5f)), hi = Math.min(15, (int) (v[b + 16 + j] * id + 8.5f));
                        out.put((byte) (lo | (hi << 4)));
                    }
                }
            }
            default -> throw new IllegalArgumentException("no test encoder for " + type);
        }
        return out.array();
    }

    private static GgufWriter.TensorData f32(float[] v) {
        byte[] b = encode(v, GgmlType.F32);
        return sink -> sink.write(MemorySegment.ofArray(b));
    }

}

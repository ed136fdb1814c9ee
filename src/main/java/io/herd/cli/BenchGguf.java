package io.herd.cli;

import io.herd.compute.GgmlType;
import io.herd.cli.gguf.GgufWriter;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.model.Llama4Config;
import io.herd.model.RopeFrequencies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The model {@code herd bench} measures, written as a llama.cpp {@code llama4} GGUF (SPEC §2.3) so that llama.cpp can
 * be measured on the very same weights: every matrix comes from the stream {@link RandomWeights} draws it from (same
 * seed, same order, same BF16 values), norms are the same ones. Tensors are generated and written piece by piece
 * through off-heap scratch, so a 13 GB model needs a few hundred MB of memory to export.
 *
 * <p>Layout differences from Herd's in-memory model, all forced by the format: ggml dims are innermost-first (an
 * [out, in] Linear is ne {in, out}, same bytes); the fused input-major experts ([d, 2·dFf] gate|up and [dFf, d] down
 * per expert) are split and transposed per expert into [E, dFf, d] gate, [E, dFf, d] up and [E, d, dFf] down; Scout's
 * llama3 RoPE scaling becomes {@code rope_freqs} divisors. The vocabulary is synthetic (the weights are random, so
 * there is no real text to tokenize): byte-level BPE tokens with merges that llama.cpp loads as a gpt2/llama4
 * tokenizer, control tokens from the bos id up.
 */
final class BenchGguf {
    private BenchGguf() {}

    /** llama.cpp's {@code llama_ftype} values recorded in {@code general.file_type}. */
    private static final int FTYPE_MOSTLY_Q8_0 = 7, FTYPE_MOSTLY_BF16 = 32;
    /** llama.cpp's {@code llama_token_type}: normal text pieces and control (special) tokens. */
    static final int TOKEN_NORMAL = 1, TOKEN_CONTROL = 3;
    /** What llama.cpp hard-codes for llama4 (llama-model.cpp): 3 chunked RoPE layers then 1 global NoPE layer. */
    private static final int LLAMA_CPP_NOPE_STEP = 4, LLAMA_CPP_CHUNK = 8192;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Generation chunk for row-major tensors: whole fill pieces, so chunked values equal whole-tensor ones. */
    private static final long CHUNK = 64 * RandomWeights.FILL_PIECE;

    /**
     * Declares the whole file for {@code c} with the bench's weights from {@code seed}; nothing is generated until
     * {@link GgufWriter#write}.
     *
     * @param weightType BF16 (the bytes Herd's bf16 bench reads) or Q8_0 (those BF16 values in ggml's 8-bit blocks
     *                   of 32 with an f16 scale); as in Herd's q8 the embedding and the router stay BF16
     */
    static GgufWriter describe(Llama4Config c, GgmlType weightType, long seed, CpuThreadPool pool) {
        if (weightType != GgmlType.BF16 && weightType != GgmlType.Q8_0)
            throw new IllegalArgumentException("bench GGUF weights are BF16 or Q8_0, not " + weightType);
        requireLlamaCppSchedule(c);
        GgufWriter w = new GgufWriter();
        metadata(w, c, weightType);
        tokenizer(w, c);

        int d = c.dModel(), v = c.vocabSize();
        long s = seed; // the seed order below is RandomWeights.build's, one stream per matrix
        w.addTensor("token_embd.weight", GgmlType.BF16, new long[] {d, v}, rowMajor(s++, v, d, 1.0, GgmlType.BF16, pool));
        if (c.ropeScaling() != null)
            w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {c.headDim() / 2}, f32(ropeDivisors(c)));
        for (int i = 0; i < c.nLayers(); i++) {
            String b = "blk." + i + ".";
            w.addTensor(b + "attn_norm.weight", GgmlType.F32, new long[] {d}, f32(ones(d)));
            w.addTensor(b + "attn_q.weight", weightType, new long[] {d, c.qDim()}, linear(s++, c.qDim(), d, weightType, pool));
            w.addTensor(b + "attn_k.weight", weightType, new long[] {d, c.kvDim()}, linear(s++, c.kvDim(), d, weightType, pool));
            w.addTensor(b + "attn_v.weight", weightType, new long[] {d, c.kvDim()}, linear(s++, c.kvDim(), d, weightType, pool));
            w.addTensor(b + "attn_output.weight", weightType, new long[] {c.qDim(), d}, linear(s++, d, c.qDim(), weightType, pool));
            w.addTensor(b + "ffn_norm.weight", GgmlType.F32, new long[] {d}, f32(ones(d)));
            if (c.isMoeLayer(i)) {
                int nE = c.nExperts(), f = c.dFf();
                w.addTensor(b + "ffn_gate_inp.weight", GgmlType.BF16, new long[] {d, nE},
                        rowMajor(s++, nE, d, 3.0 / Math.sqrt(d), GgmlType.BF16, pool));
                long[] gateUpSeeds = new long[nE], downSeeds = new long[nE];
                for (int e = 0; e < nE; e++) {
                    gateUpSeeds[e] = s++;
                    downSeeds[e] = s++;
                }
                double gateUpStd = 1 / Math.sqrt(d), downStd = 1 / Math.sqrt(f);
                w.addTensor(b + "ffn_gate_exps.weight", weightType, new long[] {d, f, nE},
                        experts(gateUpSeeds, d, 2 * f, 0, f, gateUpStd, weightType, pool));
                w.addTensor(b + "ffn_up_exps.weight", weightType, new long[] {d, f, nE},
                        experts(gateUpSeeds, d, 2 * f, f, f, gateUpStd, weightType, pool));
                w.addTensor(b + "ffn_down_exps.weight", weightType, new long[] {f, d, nE},
                        experts(downSeeds, f, d, 0, d, downStd, weightType, pool));
                w.addTensor(b + "ffn_gate_shexp.weight", weightType, new long[] {d, f}, linear(s++, f, d, weightType, pool));
                w.addTensor(b + "ffn_up_shexp.weight", weightType, new long[] {d, f}, linear(s++, f, d, weightType, pool));
                w.addTensor(b + "ffn_down_shexp.weight", weightType, new long[] {f, d}, linear(s++, d, f, weightType, pool));
            } else {
                int fm = c.dFfMlp();
                w.addTensor(b + "ffn_gate.weight", weightType, new long[] {d, fm}, linear(s++, fm, d, weightType, pool));
                w.addTensor(b + "ffn_up.weight", weightType, new long[] {d, fm}, linear(s++, fm, d, weightType, pool));
                w.addTensor(b + "ffn_down.weight", weightType, new long[] {fm, d}, linear(s++, d, fm, weightType, pool));
            }
        }
        w.addTensor("output_norm.weight", GgmlType.F32, new long[] {d}, f32(ones(d)));
        w.addTensor("output.weight", weightType, new long[] {d, v}, linear(s, v, d, weightType, pool));
        return w;
    }

    /** llama.cpp reads the layer schedule from one step and hard-codes the rest; refuse what it would compute otherwise. */
    private static void requireLlamaCppSchedule(Llama4Config c) {
        for (int i = 0; i < c.nLayers(); i++)
            if (c.isRopeLayer(i) != ((i + 1) % LLAMA_CPP_NOPE_STEP != 0))
                throw new IllegalArgumentException("llama.cpp's llama4 makes every " + LLAMA_CPP_NOPE_STEP
                        + "th layer NoPE; layer " + i + " of this config is " + (c.isRopeLayer(i) ? "RoPE" : "NoPE"));
        if (c.attentionChunkSize() != LLAMA_CPP_CHUNK)
            throw new IllegalArgumentException("llama.cpp's llama4 uses attention chunks of " + LLAMA_CPP_CHUNK
                    + ", this config " + c.attentionChunkSize());
        if (!c.attnTemperatureTuning() || c.floorScale() != 8192f || c.attnScale() != 0.1f)
            throw new IllegalArgumentException("llama.cpp's llama4 applies temperature tuning with floor 8192, scale 0.1");
        if (c.useQkNorm() != (c.nExperts() != 128))
            throw new IllegalArgumentException("llama.cpp's llama4 uses qk-norm exactly when there are not 128 experts; "
                    + "this config has " + c.nExperts() + " experts and useQkNorm " + c.useQkNorm());
        interleaveMoeLayerStep(c);
    }

    /**
     * Why llama.cpp cannot run {@code c} as a llama4, or null when it can. The one case: fewer than
     * {@value #LLAMA_CPP_NOPE_STEP} layers. Its llama4 graph always declares the temperature-scale input of the NoPE
     * layers; with no NoPE layer that input stays out of the graph and unallocated, and llama.cpp aborts on filling it
     * ("GGML_ASSERT(buf != NULL && \"tensor buffer not set\")" in ggml_backend_tensor_set). Writing
     * {@code attention.sliding_window = 0} (its switch to global attention) does not help: the last layer then turns
     * NoPE and the same input aborts on its unset scale ("GGML_ASSERT(f_attn_temp_scale != 0.0f)"). Tensor shapes
     * are the same for every layer (llama.cpp takes them from layer 0), so no cheap filler layers can pad the count.
     */
    static String llamaCppRefusal(Llama4Config c) {
        if (c.nLayers() >= LLAMA_CPP_NOPE_STEP) return null;
        return "llama.cpp's llama4 runs only models of at least " + LLAMA_CPP_NOPE_STEP + " layers (it aborts with"
                + " \"tensor buffer not set\" on the unused NoPE temperature input of a model with no NoPE layer);"
                + " this one has " + c.nLayers() + ": use --layers " + LLAMA_CPP_NOPE_STEP + " or more";
    }

    /** The step s with layer i MoE ⇔ (i+1) % s == 0, the only MoE schedule a llama4 GGUF can state. */
    static int interleaveMoeLayerStep(Llama4Config c) {
        for (int step = 1; step <= c.nLayers() + 1; step++) {
            boolean fits = true;
            for (int i = 0; i < c.nLayers() && fits; i++) fits = c.isMoeLayer(i) == ((i + 1) % step == 0);
            if (fits) return step;
        }
        throw new IllegalArgumentException("the MoE layers of this config follow no interleave step llama.cpp can express");
    }

    private static void metadata(GgufWriter w, Llama4Config c, GgmlType weightType) {
        String a = "llama4.";
        w.putString("general.architecture", "llama4");
        w.putString("general.name", "herd bench random weights");
        w.putUint32("general.file_type", weightType == GgmlType.Q8_0 ? FTYPE_MOSTLY_Q8_0 : FTYPE_MOSTLY_BF16);
        w.putUint32("general.quantization_version", 2);
        w.putUint32(a + "vocab_size", c.vocabSize());
        w.putUint32(a + "context_length", c.maxPositionEmbeddings());
        w.putUint32(a + "embedding_length", c.dModel());
        w.putUint32(a + "block_count", c.nLayers());
        // The converter's swap: this key holds the dense-MLP width, the expert width has its own key.
        w.putUint32(a + "feed_forward_length", c.dFfMlp());
        w.putUint32(a + "expert_feed_forward_length", c.dFf());
        w.putUint32(a + "interleave_moe_layer_step", interleaveMoeLayerStep(c));
        w.putUint32(a + "expert_count", c.nExperts());
        w.putUint32(a + "expert_used_count", c.nExpertsPerTok());
        w.putUint32(a + "attention.head_count", c.nHeads());
        w.putUint32(a + "attention.head_count_kv", c.nKvHeads());
        w.putUint32(a + "attention.key_length", c.headDim());
        w.putUint32(a + "attention.value_length", c.headDim());
        w.putFloat32(a + "attention.layer_norm_rms_epsilon", c.rmsNormEps());
        w.putUint32(a + "rope.dimension_count", c.headDim());
        w.putFloat32(a + "rope.freq_base", c.ropeTheta());
    }

    /**
     * A byte-level BPE vocabulary of exactly vocabSize tokens: ids 0–255 the 256 byte symbols (GPT-2's byte→char
     * map), then two- and three-symbol pieces each with the merge that forms it, and control tokens from the
     * smallest special id of the config (bos, eos, pad) to the end, named as Llama 4 names its first ones.
     */
    static void tokenizer(GgufWriter w, Llama4Config c) {
        int v = c.vocabSize();
        int firstSpecial = c.bosTokenId();
        for (int id : c.eosTokenIds()) firstSpecial = Math.min(firstSpecial, id);
        firstSpecial = Math.min(firstSpecial, c.padTokenId());
        if (firstSpecial < 256 || firstSpecial >= v)
            throw new IllegalArgumentException("special token ids must lie in 256.." + (v - 1) + ", smallest is " + firstSpecial);
        String[] bytes = byteSymbols();
        List<String> tokens = new ArrayList<>(v);
        List<String> merges = new ArrayList<>();
        int[] types = new int[v];
        for (int i = 0; i < 256; i++) tokens.add(bytes[i]);
        // Pieces in order: all pairs "xy" (merge "x y"), then triples "xyz" (merge "xy z").
        for (long k = 0; tokens.size() < firstSpecial; k++) {
            if (k < 256 * 256) {
                String x = bytes[(int) (k / 256)], y = bytes[(int) (k % 256)];
                tokens.add(x + y);
                merges.add(x + " " + y);
            } else {
                long t = k - 256 * 256;
                if (t >= 256L * 256 * 256) throw new IllegalArgumentException("vocabulary too large for the synthetic pieces");
                String xy = bytes[(int) (t / 65536)] + bytes[(int) (t / 256 % 256)], z = bytes[(int) (t % 256)];
                tokens.add(xy + z);
                merges.add(xy + " " + z);
            }
        }
        for (int id = 0; id < firstSpecial; id++) types[id] = TOKEN_NORMAL;
        for (int id = firstSpecial; id < v; id++) {
            tokens.add(specialName(id - firstSpecial));
            types[id] = TOKEN_CONTROL;
        }
        w.putString("tokenizer.ggml.model", "gpt2");
        w.putString("tokenizer.ggml.pre", "llama4");
        w.putStringArray("tokenizer.ggml.tokens", tokens);
        w.putInt32Array("tokenizer.ggml.token_type", types);
        w.putStringArray("tokenizer.ggml.merges", merges);
        w.putUint32("tokenizer.ggml.bos_token_id", c.bosTokenId());
        w.putUint32("tokenizer.ggml.eos_token_id", c.eosTokenIds().length > 0 ? c.eosTokenIds()[0] : c.bosTokenId());
        w.putUint32("tokenizer.ggml.padding_token_id", c.padTokenId());
        w.putBool("tokenizer.ggml.add_bos_token", true);
    }

    private static String specialName(int index) {
        return switch (index) {
            case 0 -> "<|begin_of_text|>";
            case 1 -> "<|end_of_text|>";
            case 2 -> "<|fim_prefix|>";
            case 3 -> "<|fim_middle|>";
            case 4 -> "<|fim_suffix|>";
            case 5 -> "<|header_start|>";
            case 6 -> "<|header_end|>";
            case 7 -> "<|eom|>";
            case 8 -> "<|eot|>";
            case 9 -> "<|step|>";
            default -> "<|reserved_special_token_" + index + "|>";
        };
    }

    /** GPT-2's reversible byte→char map: printable Latin-1 bytes stand for themselves, the rest map to U+0100 on. */
    static String[] byteSymbols() {
        String[] out = new String[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = new String(Character.toChars(printable ? b : next++));
        }
        return out;
    }

    /** llama.cpp divides each θ-based frequency by rope_freqs[j]: 1 where llama3 scaling keeps it, the factor where it slows it. */
    static float[] ropeDivisors(Llama4Config c) {
        float[] plain = RopeFrequencies.inverseFrequencies(c.headDim(), c.ropeTheta(), null);
        float[] scaled = RopeFrequencies.inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
        float[] div = new float[plain.length];
        for (int j = 0; j < div.length; j++) div[j] = plain[j] / scaled[j];
        return div;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    private static GgufWriter.TensorData f32(float[] values) {
        return sink -> sink.write(MemorySegment.ofArray(littleEndian(values)));
    }

    private static byte[] littleEndian(float[] values) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : values) buf.putFloat(f);
        return buf.array();
    }

    /** An HF Linear [nOut, nIn] as RandomWeights.linear draws it (std 1/√nIn). */
    private static GgufWriter.TensorData linear(long seed, int nOut, int nIn, GgmlType type, CpuThreadPool pool) {
        return rowMajor(seed, nOut, nIn, 1 / Math.sqrt(nIn), type, pool);
    }

    /** A row-major [nOut, nIn] BF16 stream, written as is (BF16) or quantized row by row (Q8_0), in chunks. */
    private static GgufWriter.TensorData rowMajor(long seed, int nOut, int nIn, double std, GgmlType type, CpuThreadPool pool) {
        return sink -> {
            long total = 2L * nOut * nIn;
            // Owner: this tensor's write; scratch freed before the next tensor. Shared: the pool's threads fill it.
            try (Arena scratch = Arena.ofShared()) {
                MemorySegment buf = scratch.allocate(Math.min(CHUNK, total), 64);
                MemorySegment q8 = type == GgmlType.Q8_0 ? scratch.allocate(q8Bytes(buf.byteSize() / 2), 64) : null;
                for (long off = 0; off < total; off += CHUNK) {
                    MemorySegment piece = buf.asSlice(0, Math.min(CHUNK, total - off));
                    RandomWeights.fillUniformBf16(piece, off, seed, std, pool);
                    sink.write(type == GgmlType.Q8_0 ? quantizeQ8_0(piece, q8, pool) : piece);
                }
            }
        };
    }

    /**
     * One ggml expert tensor [E, nCols, nIn]: for each expert, its input-major [nIn, nOutTotal] matrix (the stream
     * RandomWeights.expert draws) with columns colOffset … colOffset+nCols−1 transposed to rows.
     */
    private static GgufWriter.TensorData experts(long[] seeds, int nIn, int nOutTotal, int colOffset, int nCols,
                                                 double std, GgmlType type, CpuThreadPool pool) {
        return sink -> {
            try (Arena scratch = Arena.ofShared()) {
                MemorySegment inputMajor = scratch.allocate(2L * nIn * nOutTotal, 64);
                MemorySegment rows = scratch.allocate(2L * nCols * nIn, 64);
                MemorySegment q8 = type == GgmlType.Q8_0 ? scratch.allocate(q8Bytes((long) nCols * nIn), 64) : null;
                for (long seed : seeds) {
                    RandomWeights.fillUniformBf16(inputMajor, 0, seed, std, pool);
                    transposeColumns(inputMajor, nIn, nOutTotal, colOffset, rows, nCols, pool);
                    sink.write(type == GgmlType.Q8_0 ? quantizeQ8_0(rows, q8, pool) : rows);
                }
            }
        };
    }

    /** dst[j][k] = src[k][colOffset + j] for a BF16 src [nRows, srcCols] and dst [nCols, nRows]; 64×64 tiles. */
    static void transposeColumns(MemorySegment src, int nRows, int srcCols, int colOffset, MemorySegment dst, int nCols,
                                 CpuThreadPool pool) {
        final int tile = 64;
        pool.parallelFor(Math.ceilDiv(nCols, tile), t -> {
            int j0 = t * tile, j1 = Math.min(nCols, j0 + tile);
            for (int k0 = 0; k0 < nRows; k0 += tile) {
                int k1 = Math.min(nRows, k0 + tile);
                for (int k = k0; k < k1; k++) {
                    long srcRow = ((long) k * srcCols + colOffset) * 2;
                    for (int j = j0; j < j1; j++)
                        dst.set(SHORT, ((long) j * nRows + k) * 2, src.get(SHORT, srcRow + 2L * j));
                }
            }
        });
    }

    private static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    static long q8Bytes(long nValues) {
        return nValues / GgmlType.Q8_0.blockSize * GgmlType.Q8_0.blockBytes;
    }

    /**
     * ggml's reference Q8_0 (quantize_row_q8_0_ref) of BF16 values: per block of 32, d = max|x|/127 stored as f16,
     * q = round-half-away(x/d). Returns the filled prefix of {@code out}.
     */
    static MemorySegment quantizeQ8_0(MemorySegment bf16, MemorySegment out, CpuThreadPool pool) {
        int block = GgmlType.Q8_0.blockSize, blockBytes = GgmlType.Q8_0.blockBytes;
        long nValues = bf16.byteSize() / 2;
        if (nValues % block != 0) throw new IllegalArgumentException(nValues + " values are not whole Q8_0 blocks");
        long nBlocks = nValues / block;
        final long blocksPerTask = 8192;
        pool.parallelFor(Math.toIntExact(Math.ceilDiv(nBlocks, blocksPerTask)), task -> {
            long first = task * blocksPerTask, n = Math.min(nBlocks, first + blocksPerTask) - first;
            // Whole ranges copied in and out of heap arrays, instead of one segment access per element.
            short[] in = new short[Math.toIntExact(n * block)];
            byte[] q = new byte[Math.toIntExact(n * blockBytes)];
            MemorySegment.copy(bf16, SHORT, first * block * 2, in, 0, in.length);
            for (int b = 0; b < n; b++) {
                float amax = 0;
                for (int j = 0; j < block; j++) amax = Math.max(amax, Math.abs(bf16ToFloat(in[b * block + j])));
                float scale = amax / 127f;
                float inverse = scale != 0 ? 1f / scale : 0f;
                short half = Float.floatToFloat16(scale);
                q[b * blockBytes] = (byte) half;
                q[b * blockBytes + 1] = (byte) (half >>> 8);
                for (int j = 0; j < block; j++) {
                    float v = bf16ToFloat(in[b * block + j]) * inverse;
                    int r = Math.round(Math.abs(v)); // C roundf: halves away from zero
                    q[b * blockBytes + 2 + j] = (byte) (v < 0 ? -r : r);
                }
            }
            MemorySegment.copy(q, 0, out, ValueLayout.JAVA_BYTE, first * blockBytes, q.length);
        });
        return out.asSlice(0, nBlocks * blockBytes);
    }
}

package io.herd.cli;

import io.herd.compute.GgmlType;
import io.herd.cli.gguf.GgufTestReader;
import io.herd.compute.Matrix;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.model.CpuForwardPass;
import io.herd.model.KvBlockCounts;
import io.herd.model.Llama4Checkpoint;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.SingleSequence;
import io.herd.model.WeightQuantization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench model's GGUF export, read back with an independent reader and compared value by value with Herd's. */
class BenchGgufTest {
    /** Small, but with MoE and dense layers, a NoPE layer, GQA and every tensor kind of the Scout export. */
    static final Llama4Config TINY = new Llama4Config(64, 4, 4, 2, 16, 32, 96, 4, 1,
            Llama4ConfigParser.moeLayersFromStep(4, 2), Llama4ConfigParser.ropeLayersFromInterval(4, 4), true,
            8192, true, 8192f, 0.1f, 1e-5f, 500000f, new Llama4Config.RopeScaling(16f, 1f, 1f, 8192),
            600, 4096, 500, new int[] {501, 507, 508}, 518);

    @TempDir
    static Path dir;
    static CpuThreadPool pool;
    static Arena arena;
    static Llama4Weights herd;
    static GgufTestReader bf16, q8;

    @BeforeAll
    static void writeBoth() {
        pool = new CpuThreadPool(2);
        arena = Arena.ofShared();
        herd = new RandomWeights(arena, WeightQuantization.NONE, 64, pool, BenchCommand.WEIGHT_SEED, new CountingMatrix.Counters()).build(TINY);
        BenchGguf.describe(TINY, GgmlType.BF16, BenchCommand.WEIGHT_SEED, pool).write(dir.resolve("bf16.gguf"));
        BenchGguf.describe(TINY, GgmlType.Q8_0, BenchCommand.WEIGHT_SEED, pool).write(dir.resolve("q8.gguf"));
        bf16 = new GgufTestReader(dir.resolve("bf16.gguf"));
        q8 = new GgufTestReader(dir.resolve("q8.gguf"));
    }

    @AfterAll
    static void free() {
        arena.close();
        pool.close();
    }

    @Test
    void metadataIsLlamaCppsLlama4() {
        var m = bf16.metadata;
        assertEquals(3, bf16.version);
        assertEquals("llama4", m.get("general.architecture"));
        assertEquals(4L, m.get("llama4.block_count"));
        assertEquals(64L, m.get("llama4.embedding_length"));
        assertEquals(96L, m.get("llama4.feed_forward_length"), "the dense width, as the converter swaps it");
        assertEquals(32L, m.get("llama4.expert_feed_forward_length"));
        assertEquals(2L, m.get("llama4.interleave_moe_layer_step"));
        assertEquals(4L, m.get("llama4.expert_count"));
        assertEquals(1L, m.get("llama4.expert_used_count"));
        assertEquals(4L, m.get("llama4.attention.head_count"));
        assertEquals(2L, m.get("llama4.attention.head_count_kv"));
        assertEquals(16L, m.get("llama4.rope.dimension_count"));
        assertEquals(500000f, m.get("llama4.rope.freq_base"));
        assertEquals(1e-5f, m.get("llama4.attention.layer_norm_rms_epsilon"));
        assertEquals(600L, m.get("llama4.vocab_size"));
        assertEquals(32L, m.get("general.file_type"));
        assertEquals(7L, q8.metadata.get("general.file_type"));
    }

    @Test
    void tokenizerIsAByteLevelBpeOfVocabSize() {
        var m = bf16.metadata;
        assertEquals("gpt2", m.get("tokenizer.ggml.model"));
        assertEquals("llama4", m.get("tokenizer.ggml.pre"));
        List<?> tokens = (List<?>) m.get("tokenizer.ggml.tokens");
        List<?> types = (List<?>) m.get("tokenizer.ggml.token_type");
        List<?> merges = (List<?>) m.get("tokenizer.ggml.merges");
        assertEquals(600, tokens.size());
        assertEquals(600, types.size());
        assertEquals(600, new java.util.HashSet<>(tokens).size(), "token texts are distinct");
        assertEquals("Ġ", tokens.get(' '), "GPT-2's symbol for the space byte");
        assertEquals("Ċ", tokens.get('\n'));
        assertEquals("A", tokens.get('A'));
        assertEquals("<|begin_of_text|>", tokens.get(500));
        assertEquals("<|eot|>", tokens.get(508));
        assertEquals(1, types.get(499));
        assertEquals(3, types.get(500));
        assertEquals(500 - 256, merges.size(), "one merge per multi-symbol piece");
        for (int i = 0; i < merges.size(); i++) {
            String[] parts = ((String) merges.get(i)).split(" ");
            assertEquals(2, parts.length);
            assertEquals(tokens.get(256 + i), parts[0] + parts[1], "merge " + i + " forms token " + (256 + i));
        }
        assertEquals(500L, m.get("tokenizer.ggml.bos_token_id"));
        assertEquals(501L, m.get("tokenizer.ggml.eos_token_id"));
    }

    @Test
    void tensorInfosHaveGgmlShapesTypesAndAlignedOffsets() {
        var t = bf16.tensors;
        assertEquals(3 + 1 + 4 * 6 + 2 * 7 + 2 * 3, t.size()); // globals, rope_freqs, attention+norms, MoE, dense
        assertShape(bf16, "token_embd.weight", GgmlType.BF16, 64, 600);
        assertShape(bf16, "output.weight", GgmlType.BF16, 64, 600);
        assertShape(q8, "token_embd.weight", GgmlType.BF16, 64, 600);
        assertShape(q8, "output.weight", GgmlType.Q8_0, 64, 600);
        assertShape(bf16, "rope_freqs.weight", GgmlType.F32, 8);
        assertShape(bf16, "blk.0.attn_norm.weight", GgmlType.F32, 64);
        assertShape(bf16, "blk.0.attn_q.weight", GgmlType.BF16, 64, 64);
        assertShape(bf16, "blk.0.attn_k.weight", GgmlType.BF16, 64, 32);
        assertShape(bf16, "blk.0.attn_output.weight", GgmlType.BF16, 64, 64);
        assertShape(bf16, "blk.0.ffn_gate.weight", GgmlType.BF16, 64, 96);
        assertShape(bf16, "blk.0.ffn_down.weight", GgmlType.BF16, 96, 64);
        assertShape(bf16, "blk.1.ffn_gate_inp.weight", GgmlType.BF16, 64, 4);
        assertShape(q8, "blk.1.ffn_gate_inp.weight", GgmlType.BF16, 64, 4);
        assertShape(bf16, "blk.1.ffn_gate_exps.weight", GgmlType.BF16, 64, 32, 4);
        assertShape(bf16, "blk.1.ffn_up_exps.weight", GgmlType.BF16, 64, 32, 4);
        assertShape(bf16, "blk.1.ffn_down_exps.weight", GgmlType.BF16, 32, 64, 4);
        assertShape(q8, "blk.1.ffn_down_exps.weight", GgmlType.Q8_0, 32, 64, 4);
        assertShape(bf16, "blk.3.ffn_up_shexp.weight", GgmlType.BF16, 64, 32);
        assertShape(bf16, "blk.3.ffn_down_shexp.weight", GgmlType.BF16, 32, 64);
        long end = 0;
        for (var info : bf16.tensors.values()) {
            assertEquals(0, info.offset() % 32, info.name() + " is 32-byte aligned");
            assertTrue(info.offset() >= end, info.name() + " does not overlap its predecessor");
            end = info.offset() + GgmlType.ofId(info.typeId()).bytes(info.ne());
        }
        assertEquals(bf16.dataStart + end, bf16.fileSize());
    }

    private static void assertShape(GgufTestReader r, String name, GgmlType type, long... ne) {
        var info = r.tensors.get(name);
        assertNotNull(info, name);
        assertEquals(List.of(boxed(ne)), List.of(boxed(info.ne())), name);
        assertEquals(type.id, info.typeId(), name);
    }

    private static Long[] boxed(long[] a) {
        return java.util.Arrays.stream(a).boxed().toArray(Long[]::new);
    }

    /** The point of the export: llama.cpp reads exactly the values Herd benchmarks. */
    @Test
    void everyWeightEqualsTheBenchModels() {
        assertRowMajor("token_embd.weight", herd.embedTokens());
        assertRowMajor("output.weight", herd.lmHead());
        for (int i = 0; i < TINY.nLayers(); i++) {
            String b = "blk." + i + ".";
            var layer = herd.layers().get(i);
            assertRowMajor(b + "attn_q.weight", layer.attention().q());
            assertRowMajor(b + "attn_k.weight", layer.attention().k());
            assertRowMajor(b + "attn_v.weight", layer.attention().v());
            assertRowMajor(b + "attn_output.weight", layer.attention().o());
            for (int j = 0; j < 64; j++) {
                assertEquals(layer.inputNorm()[j], bf16.f32(b + "attn_norm.weight", j));
                assertEquals(layer.postAttentionNorm()[j], bf16.f32(b + "ffn_norm.weight", j));
            }
            if (layer.feedForward() instanceof Llama4Weights.Moe moe) {
                assertRowMajor(b + "ffn_gate_inp.weight", moe.router());
                assertRowMajor(b + "ffn_gate_shexp.weight", moe.sharedExpert().gate());
                assertRowMajor(b + "ffn_up_shexp.weight", moe.sharedExpert().up());
                assertRowMajor(b + "ffn_down_shexp.weight", moe.sharedExpert().down());
                int f = TINY.dFf(), d = TINY.dModel();
                for (int e = 0; e < TINY.nExperts(); e++) {
                    Matrix gateUp = moe.expertGateUp().get(e), down = moe.expertDown().get(e);
                    for (int j = 0; j < f; j++)
                        for (int k = 0; k < d; k++) {
                            long at = ((long) e * f + j) * d + k;
                            assertEquals(gateUp.get(j, k), bf16.bf16(b + "ffn_gate_exps.weight", at), "gate e" + e);
                            assertEquals(gateUp.get(f + j, k), bf16.bf16(b + "ffn_up_exps.weight", at), "up e" + e);
                        }
                    for (int o = 0; o < d; o++)
                        for (int j = 0; j < f; j++)
                            assertEquals(down.get(o, j), bf16.bf16(b + "ffn_down_exps.weight", ((long) e * d + o) * f + j));
                }
            } else {
                var mlp = (Llama4Weights.Mlp) layer.feedForward();
                assertRowMajor(b + "ffn_gate.weight", mlp.gate());
                assertRowMajor(b + "ffn_up.weight", mlp.up());
                assertRowMajor(b + "ffn_down.weight", mlp.down());
            }
        }
    }

    private static void assertRowMajor(String name, Matrix m) {
        for (int o = 0; o < m.nOut(); o++)
            for (int i = 0; i < m.nIn(); i++)
                assertEquals(m.get(o, i), bf16.bf16(name, (long) o * m.nIn() + i), name + "[" + o + "][" + i + "]");
    }

    @Test
    void q8IsTheSameValuesInGgmlBlocks() {
        var layer = herd.layers().get(1);
        var moe = (Llama4Weights.Moe) layer.feedForward();
        Matrix down = moe.expertDown().get(2);
        int f = TINY.dFf(), d = TINY.dModel();
        for (int o = 0; o < d; o++) {
            float amax = 0;
            for (int j = 0; j < f; j++) amax = Math.max(amax, Math.abs(down.get(o, j)));
            for (int j = 0; j < f; j++) {
                float got = q8.q8_0("blk.1.ffn_down_exps.weight", ((long) 2 * d + o) * f + j);
                assertEquals(down.get(o, j), got, amax / 127 * 0.51 + 1e-3f * amax, "down e2[" + o + "][" + j + "]");
            }
        }
        Matrix q = layer.attention().q();
        for (int i = 0; i < 64; i++) assertEquals(q.get(5, i), q8.q8_0("blk.1.attn_q.weight", 5L * 64 + i), 0.02f);
        assertEquals(herd.embedTokens().get(7, 3), q8.bf16("token_embd.weight", 7L * 64 + 3));
    }

    @Test
    void q8_0RoundsLikeGgml() {
        try (Arena a = Arena.ofShared(); CpuThreadPool one = new CpuThreadPool(1)) {
            MemorySegment in = a.allocate(64), out = a.allocate(34);
            float[] x = new float[32];
            x[0] = 127f; x[1] = 0.5f; x[2] = -0.5f; x[3] = 2.5f; x[4] = -126.5f; x[5] = 1.49f;
            for (int j = 0; j < 32; j++) in.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * j, (short) (Float.floatToRawIntBits(x[j]) >>> 16));
            BenchGguf.quantizeQ8_0(in, out, one);
            assertEquals(1f, Float.float16ToFloat(out.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0)));
            byte[] q = new byte[6];
            for (int j = 0; j < 6; j++) q[j] = out.get(ValueLayout.JAVA_BYTE, 2 + j);
            assertEquals(List.of(127, 1, -1, 3, -127, 1), List.of((int) q[0], (int) q[1], (int) q[2], (int) q[3], (int) q[4], (int) q[5]));
        }
    }

    @Test
    void ropeFreqsAreScoutsLlama3Divisors() {
        float[] div = BenchGguf.ropeDivisors(Llama4Config.scout());
        assertEquals(64, div.length);
        for (int j = 0; j <= 34; j++) assertEquals(1f, div[j], "j=" + j);
        for (int j = 35; j < 64; j++) assertEquals(16f, div[j], "j=" + j);
        for (int j = 0; j < 8; j++) assertEquals(BenchGguf.ropeDivisors(TINY)[j], bf16.f32("rope_freqs.weight", j));
    }

    @Test
    void refusesWhatLlamaCppCannotRun() {
        assertNull(BenchGguf.llamaCppRefusal(BenchCommand.config("scout", 4)));
        String why = BenchGguf.llamaCppRefusal(BenchCommand.config("scout", 2));
        assertNotNull(why);
        assertTrue(why.contains("--layers 4"), why);
        assertEquals(1, BenchGguf.interleaveMoeLayerStep(BenchCommand.config("scout", 4)));
        assertEquals(2, BenchGguf.interleaveMoeLayerStep(BenchCommand.config("maverick", 4)));
        Llama4Config oddMoe = new Llama4Config(64, 4, 4, 2, 16, 32, 96, 4, 1, new boolean[] {true, false, false, true},
                Llama4ConfigParser.ropeLayersFromInterval(4, 4), true, 8192, true, 8192f, 0.1f, 1e-5f, 500000f, null,
                600, 4096, 500, new int[] {501}, 518);
        assertThrows(IllegalArgumentException.class, () -> BenchGguf.describe(oddMoe, GgmlType.BF16, 1, pool));
        Llama4Config otherChunk = new Llama4Config(64, 4, 4, 2, 16, 32, 96, 4, 1, Llama4ConfigParser.moeLayersFromStep(4, 1),
                Llama4ConfigParser.ropeLayersFromInterval(4, 4), true, 1024, true, 8192f, 0.1f, 1e-5f, 500000f, null,
                600, 4096, 500, new int[] {501}, 518);
        assertThrows(IllegalArgumentException.class, () -> BenchGguf.describe(otherChunk, GgmlType.BF16, 1, pool));
    }

    private static float[] logits(Llama4Weights w, int[] tokens) {
        try (CpuForwardPass fp = new CpuForwardPass(w, KvBlockCounts.forSingleSequence(w.config(), 32, 4), Precision.F32, 2)) {
            return new SingleSequence(fp).append(tokens, tokens.length);
        }
    }

    /**
     * Herd reads the bench export back (the file llama.cpp runs in the anchor bench) as the model it was written
     * from: the same schedule, dims and RoPE scaling, and the same logits from the BF16 file up to summation order
     * (experts are stored transposed there); the Q8_0 file's logits stay close.
     */
    @Test
    void herdReadsTheExportBackAsTheSameModel() {
        int[] tokens = {500, 7, 300, 42, 599, 3, 17};
        float[] want = logits(herd, tokens);
        double scale = 0;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (String file : List.of("bf16.gguf", "q8.gguf")) {
            try (Llama4Checkpoint g = Llama4Checkpoint.open(dir.resolve(file))) {
                Llama4Config c = g.config();
                assertEquals(TINY.withLayers(4, 2, 4).toString().replace("eosTokenIds=[501, 507, 508]", "eosTokenIds=[501]"),
                        c.toString(), file);
                float[] got = logits(g.weights(WeightQuantization.NONE), tokens);
                double worst = 0;
                for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
                System.out.printf("[bench GGUF %s read back vs Herd's bench model] max |logit diff| %.2e of max |logit| %.2e%n",
                        file, worst, scale);
                assertTrue(worst <= (file.equals("bf16.gguf") ? 1e-4 : 5e-2) * scale, file + ": " + worst);
            }
        }
    }
}

package io.herd.model;

import io.herd.cli.gguf.GgufWriter;
import io.herd.compute.GgmlBlockDecoder;
import io.herd.compute.GgmlType;
import io.herd.weights.gguf.GgufArray;
import io.herd.weights.gguf.GgufCheckpoint;
import io.herd.weights.gguf.GgufMetadata;
import io.herd.weights.gguf.GgufTensor;
import io.herd.weights.gguf.GgufValueType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A GGUF written by llama.cpp's own code ({@code gguf/tiny-llama4-mixed.gguf}: gguf-py wrote the F32 model, ggml's
 * gguf writer and quantizers the mixed copy, Q4_K and Q6_K as a Q4_K_M file mixes them plus one tensor of every other
 * type Herd reads; see {@code gguf/mix.c}). Herd reads its config, tokenizer and weights, and its logits equal the
 * exact reference: fp32 arithmetic over the file's own dequantized weights.
 */
class Llama4GgufMixedFileTest {
    @TempDir
    Path dir;

    private static Path fixture() {
        try {
            return Path.of(Llama4GgufMixedFileTest.class.getResource("/gguf/tiny-llama4-mixed.gguf").toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("test resource gguf/tiny-llama4-mixed.gguf is missing", e);
        }
    }

    /** The same model with every tensor dequantized to F32 (metadata copied), written with Herd's GGUF writer. */
    private static void writeDequantized(GgufCheckpoint g, Path out) {
        GgufWriter w = new GgufWriter();
        GgufMetadata m = g.metadata();
        for (String key : m.keys()) {
            switch (m.get(key)) {
                case Long l -> w.putUint32(key, l);
                case Float f -> w.putFloat32(key, f);
                case Double d -> w.putFloat32(key, d.floatValue());
                case Boolean b -> w.putBool(key, b);
                case String s -> w.putString(key, s);
                case GgufArray a when a.elementType() == GgufValueType.STRING -> w.putStringArray(key, m.strings(key));
                case GgufArray a -> w.putInt32Array(key, java.util.Arrays.stream(m.integers(key)).mapToInt(Math::toIntExact).toArray());
                default -> throw new AssertionError(key);
            }
        }
        for (String name : g.names()) {
            GgufTensor t = g.tensor(name);
            float[] v = new float[Math.toIntExact(t.elementCount())];
            GgmlBlockDecoder.decode(t.type(), t.data(), 0, v.length / t.type().blockSize, v, 0);
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v) b.putFloat(x);
            w.addTensor(name, GgmlType.F32, t.ne(), sink -> sink.write(MemorySegment.ofArray(b.array())));
        }
        w.write(out);
    }

    private static float[] logits(Llama4Weights w, int[] prompt) {
        try (CpuForwardPass fp = new CpuForwardPass(w, KvBlockCounts.forSingleSequence(w.config(), 64, 4), Precision.F32, 2)) {
            return new SingleSequence(fp).append(prompt, prompt.length);
        }
    }

    private static int[] greedy(Llama4Weights w, int[] prompt, int n) {
        try (CpuForwardPass fp = new CpuForwardPass(w, KvBlockCounts.forSingleSequence(w.config(), 64, 4), Precision.F32, 2)) {
            return new SingleSequence(fp).greedy(prompt, n);
        }
    }

    @Test
    void readsAFileLlamaCppWroteAndMatchesTheExactReference() {
        Path exact = dir.resolve("dequantized.gguf");
        try (Llama4Checkpoint g = Llama4Checkpoint.open(fixture())) {
            Set<GgmlType> types = EnumSet.noneOf(GgmlType.class);
            for (String n : g.gguf().names()) types.add(g.gguf().tensor(n).type());
            assertThat(types).containsExactlyInAnyOrder(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
                    GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
            Llama4Config c = g.config();
            assertThat(c.dModel()).isEqualTo(256);
            assertThat(c.moeLayers()).containsExactly(false, true, false, true);
            assertThat(c.ropeLayers()).containsExactly(true, true, true, false);
            assertThat(c.ropeScaling()).isEqualTo(new Llama4Config.RopeScaling(16f, 1f, 1f, 8192));
            assertThat(c.eosTokenIds()).containsExactly(257);
            assertThat(g.tokenizerOrNull().encode("hi", true, false)).containsExactly(256, 104, 105);
            writeDequantized(g.gguf(), exact);

            int[] prompt = g.tokenizerOrNull().encode("Herd reads llama.cpp files.", true, false);
            Llama4Weights quantized = g.weights(WeightQuantization.NONE);
            try (Llama4Checkpoint e = Llama4Checkpoint.open(exact)) {
                assertThat(e.config()).isEqualTo(c);
                Llama4Weights reference = e.weights(WeightQuantization.NONE);
                float[] want = logits(reference, prompt), got = logits(quantized, prompt);
                double worst = 0, scale = 0;
                for (int i = 0; i < want.length; i++) {
                    worst = Math.max(worst, Math.abs(got[i] - want[i]));
                    scale = Math.max(scale, Math.abs(want[i]));
                }
                System.out.printf("[llama.cpp-written mixed GGUF vs fp32 over its dequantized weights] %d positions, "
                        + "max |logit diff| %.2e (max |logit| %.2f)%n", prompt.length, worst, scale);
                assertThat(worst).isLessThan(1e-4);
                assertThat(greedy(quantized, prompt, 8)).containsExactly(greedy(reference, prompt, 8));
            }
        }
    }
}

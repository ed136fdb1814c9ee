package io.herd.model;

import io.herd.compute.GgmlType;
import io.herd.weights.CheckpointFormatException;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tiny Scout fixture exported to GGUF (as llama.cpp's converter lays it out) and loaded back: the config is the
 * HF one under llama.cpp's fixed llama4 rules, and the logits equal the safetensors path's under that config (F32),
 * or the exact fp32 model over the dequantized weights (Q8_0, Q4_0, BF16).
 */
class Llama4GgufTest {
    private static final String MODEL = "llama4-tiny-scout";
    private static final int BLOCK_SIZE = 4;

    @TempDir
    Path dir;

    private static Llama4Config llamaCppView(Llama4Config c) {
        return TinyGgufExport.llamaCppView(c);
    }

    /** The longest fixture prompt followed by HF's greedy continuation: a dozen positions or more. */
    private static int[] prompt() {
        Fixtures.Case longest = Fixtures.expected(MODEL).cases().stream()
                .max(java.util.Comparator.comparingInt(c -> c.promptIds().length + c.greedyIds().length)).orElseThrow();
        return java.util.stream.IntStream.concat(java.util.Arrays.stream(longest.promptIds()),
                java.util.Arrays.stream(longest.greedyIds())).toArray();
    }

    private static float[] logits(Llama4Weights w, int[] prompt) {
        try (CpuForwardPass fp = new CpuForwardPass(w, KvBlockCounts.forSingleSequence(w.config(), 64, BLOCK_SIZE), Precision.F32, 2)) {
            return new SingleSequence(fp).append(prompt, prompt.length);
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        return worst;
    }

    private Path export(SafetensorsCheckpoint st, Llama4Config hf, GgmlType type, boolean dequantizeBack) {
        Path file = dir.resolve(type + (dequantizeBack ? "-dequantized" : "") + ".gguf");
        TinyGgufExport.write(st, hf, type, dequantizeBack, file);
        return file;
    }

    @Test
    void configAndLogitsMatchTheSafetensorsPath() {
        Path hfDir = Fixtures.modelDir(MODEL);
        Llama4Config hf = Llama4ConfigParser.parse(hfDir);
        int[] prompt = prompt();
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(hfDir)) {
            Path f32 = export(st, hf, GgmlType.F32, false);
            float[] reference = logits(Llama4Weights.load(st, llamaCppView(hf), WeightQuantization.NONE), prompt);
            assertTrue(Llama4Checkpoint.isGguf(f32));
            try (Llama4Checkpoint g = Llama4Checkpoint.open(f32)) {
                assertTrue(g.isGguf());
                assertEquals(llamaCppView(hf), g.config());
                assertEquals(hf.ropeScaling(), g.config().ropeScaling(), "llama3 scaling recovered from rope_freqs");
                double diff = maxAbsDiff(reference, logits(g.weights(WeightQuantization.NONE), prompt));
                System.out.printf("[GGUF F32 vs safetensors] %s: %d positions, max |logit diff| %.2e%n", MODEL, prompt.length, diff);
                assertThat(diff).isLessThan(1e-4);
                assertThrows(IllegalArgumentException.class, g::safetensors);
            }
        }
    }

    /** Quantized files against the exact reference: fp32 arithmetic over their own dequantized weights. */
    @Test
    void quantizedFilesMatchFp32OverTheirDequantizedWeights() {
        Path hfDir = Fixtures.modelDir(MODEL);
        Llama4Config hf = Llama4ConfigParser.parse(hfDir);
        int[] prompt = prompt();
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(hfDir)) {
            float[] original = logits(Llama4Weights.load(st, llamaCppView(hf), WeightQuantization.NONE), prompt);
            for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.BF16}) {
                Path quantized = export(st, hf, type, false), exact = export(st, hf, type, true);
                try (Llama4Checkpoint q = Llama4Checkpoint.open(quantized); Llama4Checkpoint e = Llama4Checkpoint.open(exact)) {
                    float[] got = logits(q.weights(WeightQuantization.NONE), prompt);
                    double diff = maxAbsDiff(logits(e.weights(WeightQuantization.NONE), prompt), got);
                    double vsOriginal = maxAbsDiff(original, got);
                    System.out.printf("[GGUF %s vs fp32 over its dequantized weights] max |logit diff| %.2e (vs unquantized %.2e)%n",
                            type, diff, vsOriginal);
                    assertThat(diff).isLessThan(1e-4);
                    assertThat(vsOriginal).as("quantization moves the logits").isGreaterThan(0);
                }
            }
        }
    }

    /** --quant q8 re-quantizes GGUF block weights to Herd's Q8 (its native kernels); close to the file's own values. */
    @Test
    void q8RequantizationOfBlockWeightsStaysClose() {
        Path hfDir = Fixtures.modelDir(MODEL);
        Llama4Config hf = Llama4ConfigParser.parse(hfDir);
        int[] prompt = prompt();
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(hfDir)) {
            Path file = export(st, hf, GgmlType.Q8_0, false);
            try (Llama4Checkpoint g = Llama4Checkpoint.open(file)) {
                float[] asStored = logits(g.weights(WeightQuantization.NONE), prompt);
                float[] requantized = logits(g.weights(WeightQuantization.Q8), prompt);
                double diff = maxAbsDiff(asStored, requantized);
                System.out.printf("[GGUF Q8_0 requantized to Herd Q8 vs as stored] max |logit diff| %.2e%n", diff);
                assertThat(diff).isGreaterThan(0).isLessThan(0.05);
            }
        }
    }

    @Test
    void refusesOtherArchitectures() {
        Path file = dir.resolve("llama.gguf");
        new io.herd.cli.gguf.GgufWriter().putString("general.architecture", "llama").write(file);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Llama4Checkpoint.open(file));
        assertThat(e.getMessage()).contains("general.architecture is llama");
    }
}

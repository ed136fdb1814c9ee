package io.herd.model;

import io.herd.compute.DType;
import io.herd.tokenizer.DemoTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The demo checkpoint Herd makes for itself, so the service runs on a fresh machine without any download: the real
 * Llama 4 architecture (interleaved MoE and dense layers, a NoPE layer with global attention and temperature tuning,
 * chunked attention on RoPE layers, qk-norm, llama3 RoPE scaling) at a small size, random weights from a fixed seed,
 * and the project's own small BPE tokenizer with Llama 4's special tokens. Same bytes on every machine; its output
 * is fluent noise, not language.
 */
public final class DemoModel {
    /** Written into the directory last; its presence means the checkpoint is complete. */
    private static final String COMPLETE_MARKER = ".herd-demo-complete";
    private static final long SEED = 0x4e52_4400L;

    private DemoModel() {}

    /** The demo architecture: 8 layers (every 4th NoPE), MoE on odd layers with 8 experts, chunk 256. */
    public static Llama4Config config() {
        int nLayers = 8;
        int bos = DemoTokenizer.N_BASE; // specials follow the base vocabulary: <|begin_of_text|> is the first
        int[] eos = {bos + 1, bos + 7, bos + 8}; // <|end_of_text|>, <|eom|>, <|eot|>
        return new Llama4Config(256, nLayers, 8, 2, 32, 256, 512, 8, 1,
                Llama4ConfigParser.moeLayersFromStep(nLayers, 2), Llama4ConfigParser.ropeLayersFromInterval(nLayers, 4),
                true, 256, true, 256f, 0.1f, 1e-5f, 500000f, new Llama4Config.RopeScaling(16f, 1f, 1f, 256),
                DemoTokenizer.VOCAB_SIZE, 8192, bos, eos, bos + 18);
    }

    /** Writes config.json, model.safetensors (BF16, published nested layout) and tokenizer.model into dir. */
    public static Path write(Path dir) {
        RandomLlama4Checkpoint.write(dir, config(), DType.BF16, SEED, Llama4TensorNames.CONDITIONAL_GENERATION, 1);
        DemoTokenizer.write(dir);
        try {
            Files.writeString(dir.resolve(COMPLETE_MARKER), "demo model written by Herd\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot finish the demo model in " + dir, e);
        }
        return dir;
    }

    /** Writes the demo model into dir unless a complete one is already there; returns dir. */
    public static Path ensure(Path dir) {
        return Files.exists(dir.resolve(COMPLETE_MARKER)) ? dir : write(dir);
    }
}

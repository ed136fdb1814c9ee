package io.herd.model;

import io.herd.tokenizer.Tokenizer;
import io.herd.weights.CheckpointFormatException;
import io.herd.weights.SafetensorsCheckpoint;
import io.herd.weights.gguf.GgufCheckpoint;
import io.herd.weights.gguf.GgufMetadata;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Llama 4 model as people hold it: a Hugging Face folder ({@code config.json} and safetensors) or a llama.cpp GGUF
 * (a {@code .gguf} file, one split of a set, or a folder holding one model and no {@code config.json}). Opens the
 * files (memory-mapped), reads the config the way each format defines it, and builds the weights; closing unmaps.
 */
public final class Llama4Checkpoint implements AutoCloseable {
    private final Path location;
    private final SafetensorsCheckpoint safetensors;
    private final GgufCheckpoint gguf;
    private final Llama4Config config;

    private Llama4Checkpoint(Path location, SafetensorsCheckpoint safetensors, GgufCheckpoint gguf, Llama4Config config) {
        this.location = location;
        this.safetensors = safetensors;
        this.gguf = gguf;
        this.config = config;
    }

    /** Whether {@code location} is read as GGUF: a .gguf file, or a folder without config.json that holds one. */
    public static boolean isGguf(Path location) {
        if (Files.isDirectory(location) && Files.isRegularFile(location.resolve("config.json"))) return false;
        return GgufCheckpoint.isGguf(location);
    }

    public static Llama4Checkpoint open(Path location) {
        if (isGguf(location)) {
            GgufCheckpoint g = GgufCheckpoint.open(location);
            try {
                return new Llama4Checkpoint(location, null, g, Llama4GgufConfig.read(g));
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
        }
        if (!Files.isDirectory(location))
            throw new CheckpointFormatException(location + ": neither a model folder (config.json and safetensors) nor a .gguf file");
        Llama4Config c = Llama4ConfigParser.parse(location);
        return new Llama4Checkpoint(location, SafetensorsCheckpoint.open(location), null, c);
    }

    public Path location() { return location; }

    public Llama4Config config() { return config; }

    public boolean isGguf() { return gguf != null; }

    /** The GGUF files (its metadata holds the tokenizer); only for {@link #isGguf()} models. */
    public GgufCheckpoint gguf() {
        if (gguf == null) throw new IllegalStateException(location + " is not a GGUF model");
        return gguf;
    }

    /** The safetensors files; GGUF models have none (the CUDA backend loads only these). */
    public SafetensorsCheckpoint safetensors() {
        if (safetensors == null)
            throw new IllegalArgumentException(location + " is a GGUF model, which Herd runs on the CPU backend only");
        return safetensors;
    }

    /**
     * The tokenizer: the GGUF's own vocabulary ({@code tokenizer.ggml.*}), or the folder's tokenizer file; null
     * when there is none.
     */
    public Tokenizer tokenizerOrNull() {
        if (gguf != null) return gguf.metadata().contains("tokenizer.ggml.tokens") ? tokenizerOf(gguf.metadata()) : null;
        return Tokenizer.isPresent(location) ? Tokenizer.load(location) : null;
    }

    /** The tokenizer a GGUF's metadata describes (see {@link Tokenizer#fromGgufVocabulary}). */
    public static Tokenizer tokenizerOf(GgufMetadata m) {
        String k = "tokenizer.ggml.";
        return Tokenizer.fromGgufVocabulary(m.string(k + "model"), m.string(k + "pre", "default"), m.strings(k + "tokens"),
                m.integers(k + "token_type"), m.contains(k + "merges") ? m.strings(k + "merges") : List.of(),
                m.file().toString());
    }

    /** Every weight, views over the mapped files; Q8 copies (if asked for) in {@code quantizedArena}. */
    public Llama4Weights weights(WeightQuantization quantization, Arena quantizedArena) {
        return gguf != null ? Llama4GgufWeights.load(gguf, config, quantization, quantizedArena)
                : Llama4Weights.load(safetensors, config, quantization, quantizedArena);
    }

    /** As {@link #weights(WeightQuantization, Arena)} with Q8 copies freed by the garbage collector. */
    public Llama4Weights weights(WeightQuantization quantization) {
        return weights(quantization, quantization == WeightQuantization.NONE ? null : Arena.ofAuto());
    }

    @Override
    public void close() {
        if (gguf != null) gguf.close();
        if (safetensors != null) safetensors.close();
    }
}

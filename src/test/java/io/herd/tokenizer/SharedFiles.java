package io.herd.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** The shared reference folder beside the project ({@code herd.shared.dir}, default {@code ../shared}). */
final class SharedFiles {
    private static Tokenizer tiktoken;
    private static Tokenizer huggingFace;

    private SharedFiles() {}

    static Path llama4(String name) {
        Path dir = Path.of(System.getProperty("herd.shared.dir", "../shared"));
        Path file = dir.resolve("llama4").resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("missing shared reference file " + file.toAbsolutePath()
                    + " (set -Dherd.shared.dir to the shared folder)");
        }
        return file;
    }

    /** Meta's tokenizer.model, loaded once per test JVM. */
    static synchronized Tokenizer tiktoken() {
        if (tiktoken == null) tiktoken = Tokenizer.fromTiktoken(llama4("tokenizer.model"));
        return tiktoken;
    }

    /** The Hugging Face tokenizer.json, loaded once per test JVM. */
    static synchronized Tokenizer huggingFace() {
        if (huggingFace == null) huggingFace = Tokenizer.fromHuggingFace(llama4("tokenizer.json"));
        return huggingFace;
    }

    static Tokenizer byName(String form) {
        return switch (form) {
            case "tokenizer.model" -> tiktoken();
            case "tokenizer.json" -> huggingFace();
            default -> throw new IllegalArgumentException(form);
        };
    }
}

package io.herd.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The shared tiny Llama 4 checkpoints and what Hugging Face computed for them ({@code ../shared/fixtures}). */
final class Fixtures {
    static final List<String> MODELS = List.of("llama4-tiny-scout", "llama4-tiny-maverick");

    private Fixtures() {}

    /** {@code herd.shared.dir} if set, else {@code ../shared} relative to the working directory (the project root). */
    static Path sharedDir() {
        String prop = System.getProperty("herd.shared.dir");
        return prop != null ? Path.of(prop) : Path.of("../shared");
    }

    /** The fixture directory; fails (never skips) when it is missing. */
    static Path modelDir(String model) {
        Path dir = sharedDir().resolve("fixtures").resolve(model);
        if (!Files.isRegularFile(dir.resolve("expected.json")) || !Files.isRegularFile(dir.resolve("config.json")))
            throw new AssertionError("fixture " + dir.toAbsolutePath() + " is missing (expected.json, config.json)");
        return dir;
    }

    record Case(String name, int[] promptIds, float[][] promptLogits, int[] greedyIds, float[] greedyMargins) {}

    record Expected(double logitsMaxAbs, List<Case> cases) {}

    static Expected expected(String model) {
        Path file = modelDir(model).resolve("expected.json");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            int[] prompt = ints(c.get("prompt_ids"));
            JsonNode pl = c.get("prompt_logits");
            float[][] logits = new float[pl.size()][];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = new float[pl.get(i).size()];
                for (int j = 0; j < logits[i].length; j++) logits[i][j] = (float) pl.get(i).get(j).asDouble();
            }
            JsonNode g = c.get("greedy");
            int[] ids = new int[g.size()];
            float[] margins = new float[g.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = g.get(i).get("id").asInt();
                margins[i] = (float) g.get(i).get("margin").asDouble();
            }
            cases.add(new Case(c.get("name").asText(), prompt, logits, ids, margins));
        }
        return new Expected(root.get("tolerance").get("logits_max_abs").asDouble(), cases);
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }
}

package io.herd.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tiny Llama 4 checkpoints and what Hugging Face computed for them: the shared fixtures ({@code ../shared/fixtures})
 * and the cases under the test resources' {@code hf-cases/} (other shapes and layouts, see the README there). Both
 * use the same {@code expected.json} format.
 */
final class Fixtures {
    static final List<String> MODELS = List.of("llama4-tiny-scout", "llama4-tiny-maverick");

    /** Test-resource cases, named by their path under the test classpath. */
    static final List<String> HF_CASES = List.of("hf-cases/top2-16experts-3shards", "hf-cases/chunk4-dense-llama3",
            "hf-cases/f16-noqknorm-temperature", "hf-cases/tied-embeddings");

    /** Every checkpoint with Hugging Face's expected values. */
    static final List<String> ALL = concat(MODELS, HF_CASES);

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }

    private Fixtures() {}

    /** {@code herd.shared.dir} if set, else {@code ../shared} relative to the working directory (the project root). */
    static Path sharedDir() {
        String prop = System.getProperty("herd.shared.dir");
        return prop != null ? Path.of(prop) : Path.of("../shared");
    }

    /** The fixture directory; fails (never skips) when it is missing. */
    static Path modelDir(String model) {
        Path dir = model.startsWith("hf-cases/") ? testResource(model) : sharedDir().resolve("fixtures").resolve(model);
        if (!Files.isRegularFile(dir.resolve("expected.json")) || !Files.isRegularFile(dir.resolve("config.json")))
            throw new AssertionError("fixture " + dir.toAbsolutePath() + " is missing (expected.json, config.json)");
        return dir;
    }

    private static Path testResource(String name) {
        URL url = Fixtures.class.getResource("/" + name + "/expected.json");
        if (url == null) throw new AssertionError("test resource " + name + "/expected.json is missing");
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new AssertionError("test resource " + name + " is not a file: " + url, e);
        }
    }

    /**
     * @param greedyTopIds      per generated token, HF's 5 most likely ids (best first)
     * @param greedyTopLogprobs their log-probabilities (log-softmax of HF's float32 logits)
     */
    record Case(String name, int[] promptIds, float[][] promptLogits, int[] greedyIds, float[] greedyMargins,
                int[][] greedyTopIds, double[][] greedyTopLogprobs) {}

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
            int[][] topIds = new int[g.size()][];
            double[][] topLogprobs = new double[g.size()][];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = g.get(i).get("id").asInt();
                margins[i] = (float) g.get(i).get("margin").asDouble();
                JsonNode top = g.get(i).get("top");
                topIds[i] = new int[top.size()];
                topLogprobs[i] = new double[top.size()];
                for (int j = 0; j < top.size(); j++) {
                    topIds[i][j] = top.get(j).get(0).asInt();
                    topLogprobs[i][j] = top.get(j).get(1).asDouble();
                }
            }
            cases.add(new Case(c.get("name").asText(), prompt, logits, ids, margins, topIds, topLogprobs));
        }
        return new Expected(root.get("tolerance").get("logits_max_abs").asDouble(), cases);
    }

    private static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }
}

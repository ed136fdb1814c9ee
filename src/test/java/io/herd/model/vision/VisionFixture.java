package io.herd.model.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.weights.SafetensorsCheckpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shared {@code llama4-tiny-vision} fixture: a tiny {@code Llama4ForConditionalGeneration} checkpoint, PNG inputs
 * and Hugging Face's pixel values, prompt ids, vision stages and logits. Fails (never skips) when it is missing.
 */
public final class VisionFixture {
    public static final String NAME = "llama4-tiny-vision";
    public static final String[] CASES = {"single-tile", "two-images"};

    private VisionFixture() {}

    /** {@code herd.shared.dir} if set, else {@code ../shared} relative to the project root. */
    public static Path sharedDir() {
        String prop = System.getProperty("herd.shared.dir");
        return prop != null ? Path.of(prop) : Path.of("../shared");
    }

    public static Path dir() {
        Path dir = sharedDir().resolve("fixtures").resolve(NAME);
        if (!Files.isRegularFile(dir.resolve("expected.json")))
            throw new AssertionError("fixture " + dir.toAbsolutePath() + " is missing");
        return dir;
    }

    public static JsonNode expected() {
        try {
            return new ObjectMapper().readTree(dir().resolve("expected.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode testCase(String name) {
        for (JsonNode c : expected().get("cases")) if (c.get("name").asText().equals(name)) return c;
        throw new AssertionError("no case " + name);
    }

    /** The F32 stage tensors HF saved for a case ({@code <case>.safetensors}); close it after use. */
    public static SafetensorsCheckpoint stages(String caseName) {
        return SafetensorsCheckpoint.open(dir().resolve(caseName + ".safetensors"));
    }

    public static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asInt();
        return out;
    }

    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths " + a.length + " vs " + b.length);
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
        return worst;
    }
}

package io.herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.model.vision.VisionFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code herd generate --chat FILE} with data-URL images on the llama4-tiny-vision checkpoint (its files linked into a
 * temporary folder beside the real tokenizer) gives Hugging Face's greedy ids.
 */
class GenerateImageChatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;

    @Test
    void imageChatGivesHuggingFacesGreedyIds() throws IOException {
        Path model = tmp.resolve("model");
        Files.createDirectories(model);
        try (var files = Files.list(VisionFixture.dir())) {
            for (Path f : files.toList()) Files.createSymbolicLink(model.resolve(f.getFileName()), f.toAbsolutePath());
        }
        Files.createSymbolicLink(model.resolve("tokenizer.json"),
                VisionFixture.sharedDir().resolve("llama4/tokenizer.json").toAbsolutePath());
        JsonNode c = VisionFixture.testCase("two-images");
        ArrayNode messages = JSON.createArrayNode();
        int image = 0;
        for (JsonNode m : c.get("messages")) {
            ObjectNode out = messages.addObject().put("role", m.get("role").asText());
            ArrayNode parts = out.putArray("content");
            for (JsonNode p : m.get("content")) {
                if (p.get("type").asText().equals("text")) parts.add(p);
                else {
                    byte[] png = Files.readAllBytes(VisionFixture.dir().resolve(c.get("images").get(image++).get("file").asText()));
                    parts.addObject().put("type", "image_url").putObject("image_url")
                            .put("url", "data:image/png;base64," + Base64.getEncoder().encodeToString(png));
                }
            }
        }
        Path chat = tmp.resolve("chat.json");
        Files.writeString(chat, messages.toString());
        int n = c.get("greedy").size();
        var run = GenerateCommandTest.herd("generate", "--model", model.toString(), "--chat", chat.toString(),
                "--max-tokens", String.valueOf(n), "--temperature", "0", "--json");
        assertThat(run.status()).as(run.err()).isZero();
        List<JsonNode> lines = run.lines();
        int[] ids = lines.stream().filter(l -> l.has("id")).mapToInt(l -> l.get("id").asInt()).toArray();
        int[] expected = new int[n];
        for (int i = 0; i < n; i++) expected[i] = c.get("greedy").get(i).get("id").asInt();
        assertThat(ids).containsExactly(expected);
    }
}

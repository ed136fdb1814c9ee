package io.herd.tokenizer.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.tokenizer.RenderedPromptEncoder;
import io.herd.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every vector of {@code ../shared/llama4/tool_prompt_vectors.json}: Herd's two templates, rendered with Jinjava, give
 * the exact prompt text and token ids that transformers gives with the official templates.
 */
final class ChatTemplateVectorsTest {
    private static JsonNode vectors;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        Path shared = Path.of(System.getProperty("herd.shared.dir", "../shared")).resolve("llama4");
        vectors = new ObjectMapper().readTree(shared.resolve("tool_prompt_vectors.json").toFile());
        tokenizer = Tokenizer.fromHuggingFace(shared.resolve("tokenizer.json"));
    }

    static ChatTemplateRenderer renderer(String template) {
        String name = switch (template) {
            case "hf_release" -> ChatTemplates.RELEASE;
            case "hf_pythonic" -> ChatTemplates.PYTHONIC;
            default -> throw new AssertionError(template);
        };
        return new ChatTemplateRenderer(ChatTemplates.builtIn(name), name, 1 << 20);
    }

    @SuppressWarnings("unchecked")
    static String render(ChatTemplateRenderer renderer, JsonNode request, boolean withTools) {
        List<Map<String, Object>> messages = new ArrayList<>();
        for (JsonNode m : request.get("messages")) messages.add((Map<String, Object>) TemplateValues.plain(m));
        List<Object> tools = withTools && request.has("tools") ? (List<Object>) TemplateValues.plain(request.get("tools")) : null;
        return renderer.render(messages, tools, Map.of());
    }

    @Test
    void everyVectorRendersTheOfficialPromptAndIds() {
        RenderedPromptEncoder encoder = new RenderedPromptEncoder(tokenizer);
        int checked = 0;
        for (JsonNode v : vectors.get("vectors")) {
            ChatTemplateRenderer renderer = renderer(v.get("template").asText());
            String prompt = render(renderer, v.get("request"), true);
            assertThat(RenderedPromptEncoder.unescape(prompt)).as(v.get("name").asText()).isEqualTo(v.get("prompt").asText());
            assertThat(encoder.encode(prompt)).as(v.get("name").asText()).containsExactly(ints(v.get("ids")));
            if (v.has("prompt_tools_excluded")) {
                String without = render(renderer, v.get("request"), false);
                assertThat(RenderedPromptEncoder.unescape(without)).as(v.get("name").asText() + " without tools")
                        .isEqualTo(v.get("prompt_tools_excluded").asText());
                assertThat(encoder.encode(without)).containsExactly(ints(v.get("ids_tools_excluded")));
            }
            checked++;
        }
        assertThat(checked).isEqualTo(18);
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }
}

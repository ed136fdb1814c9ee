package io.herd.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Every vector of {@code ../shared/llama4/tool_parse_vectors.json} (TOOLS.md §6). */
final class ToolCallParserTest {
    /** Numbers compare by value (9 and 9.0 are one number), everything else structurally. */
    private static final Comparator<JsonNode> NUMERIC = (a, b) -> {
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue());
        return a.equals(b) ? 0 : 1;
    };

    @Test
    void everySharedVectorParsesAsExpected() throws IOException {
        Path file = Path.of(System.getProperty("herd.shared.dir", "../shared")).resolve("llama4/tool_parse_vectors.json");
        JsonNode vectors = new ObjectMapper().readTree(file.toFile()).get("vectors");
        assertThat(vectors.size()).isEqualTo(25);
        for (JsonNode v : vectors) {
            String name = v.get("name").asText();
            List<ToolCallParser.ToolCall> calls = ToolCallParser.parse(v.get("text").asText());
            JsonNode expected = v.get("expected");
            if (expected.isTextual()) {
                assertThat(expected.asText()).isEqualTo("no_call");
                assertThat(calls).as(name).isNull();
                assertThat(v.get("content").asText()).isEqualTo(v.get("text").asText());
                continue;
            }
            assertThat(calls).as(name).isNotNull().hasSize(expected.size());
            for (int i = 0; i < calls.size(); i++) {
                assertThat(calls.get(i).name()).as(name).isEqualTo(expected.get(i).get("name").asText());
                assertThat(expected.get(i).get("arguments").equals(NUMERIC, calls.get(i).arguments()))
                        .as("%s: %s vs %s", name, calls.get(i).arguments(), expected.get(i).get("arguments")).isTrue();
            }
        }
    }

    @Test
    void argumentsRenderAsAJsonString() {
        var calls = ToolCallParser.parse("[f(a=1, b='x', c=[True, None], d=2.50)]");
        assertThat(ToolCallParser.argumentsJson(calls.getFirst())).isEqualTo("{\"a\":1,\"b\":\"x\",\"c\":[true,null],\"d\":2.50}");
    }
}

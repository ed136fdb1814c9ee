package io.herd.serving;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ToolCallExtractionTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ChatTools tools(String choice, String function, boolean parallel) throws Exception {
        return new ChatTools(JSON.readTree("[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}]"), choice, function, parallel);
    }

    @Test
    void autoReadsPythonicAndJsonCalls() throws Exception {
        List<ToolCallOutput> calls = ToolCallExtraction.extract(tools("auto", null, true), "r1",
                "[get_weather(city=\"Paris\", days=3), get_weather(city=\"Rome\")]");
        assertThat(calls).hasSize(2);
        assertThat(calls.get(0).name()).isEqualTo("get_weather");
        assertThat(JSON.readTree(calls.get(0).arguments())).isEqualTo(JSON.readTree("{\"city\":\"Paris\",\"days\":3}"));
        assertThat(calls.get(0).id()).startsWith("call_").hasSize(29).isNotEqualTo(calls.get(1).id());
        // The same request run again names its calls the same.
        assertThat(ToolCallExtraction.extract(tools("auto", null, true), "r1", "[get_weather(city=\"Paris\", days=3)]").getFirst().id())
                .isEqualTo(calls.getFirst().id());
        List<ToolCallOutput> json = ToolCallExtraction.extract(tools("required", null, true), "r2",
                "[{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}]");
        assertThat(json).extracting(ToolCallOutput::arguments).containsExactly("{\"city\":\"Oslo\"}");
        assertThat(ToolCallExtraction.extract(tools("auto", null, true), "r3", "It is sunny.")).isNull();
        assertThat(ToolCallExtraction.extract(tools("auto", null, false), "r4",
                "[get_weather(city=\"Paris\"), get_weather(city=\"Rome\")]")).hasSize(1);
    }

    @Test
    void aNamedFunctionsOutputIsItsArguments() throws Exception {
        List<ToolCallOutput> calls = ToolCallExtraction.extract(tools("function", "get_weather", true), "r", "{\"city\": \"Lima\"}");
        assertThat(calls).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("get_weather");
            assertThat(c.arguments()).isEqualTo("{\"city\":\"Lima\"}");
        });
        assertThat(ToolCallExtraction.extract(tools("function", "get_weather", true), "r", "{\"city\": ")).isNull();
    }

    @Test
    void noneAndNoToolsNeverParse() throws Exception {
        assertThat(ToolCallExtraction.extract(tools("none", null, true), "r", "[get_weather(city=\"Paris\")]")).isNull();
        assertThat(ToolCallExtraction.extract(null, "r", "[get_weather(city=\"Paris\")]")).isNull();
    }
}

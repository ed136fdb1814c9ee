package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.serving.ChatTools;
import io.herd.serving.CompletionRequest;
import io.herd.serving.PreparedRequest;
import io.herd.serving.RequestRejectedException;
import io.herd.serving.RequestValidator;
import io.herd.serving.ServingLimits;
import io.herd.serving.TokenizerPromptCodec;
import io.herd.structured.ConstraintCompiler;
import io.herd.structured.TokenVocabulary;
import io.herd.tokenizer.Tokenizer;
import io.herd.tokenizer.template.ChatTemplateRenderer;
import io.herd.tokenizer.template.ChatTemplates;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * tools, tool_choice, parallel_tool_calls and tool history from a request record (OpenAI's shapes: arguments as JSON
 * text, null content) through the codec and validator to prompt ids and output constraints, on the real Llama 4
 * tokenizer and every prompt vector of {@code ../shared/llama4/tool_prompt_vectors.json}.
 */
class ToolRequestTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RequestCodec CODEC = new RequestCodec(JSON);
    private static Tokenizer tokenizer;
    private static JsonNode vectors;
    private static RequestValidator builtIn;

    @BeforeAll
    static void setUp() throws Exception {
        Path shared = Path.of(System.getProperty("herd.shared.dir", "../shared")).resolve("llama4");
        tokenizer = Tokenizer.fromHuggingFace(shared.resolve("tokenizer.json"));
        vectors = JSON.readTree(shared.resolve("tool_prompt_vectors.json").toFile());
        builtIn = validator(null);
    }

    private static RequestValidator validator(String template) {
        ChatTemplateRenderer renderer = template == null ? null
                : new ChatTemplateRenderer(ChatTemplates.builtIn(template), template, 1 << 20);
        return new RequestValidator(new ServingLimits(8192, 1024, 256, Set.of("llama4"), 4),
                new TokenizerPromptCodec(tokenizer, tokenizer.stopTokenIds(), renderer),
                new ConstraintCompiler(TokenVocabulary.of(tokenizer)));
    }

    /** The vector's request as a client sends it: arguments as JSON text, an empty calling turn's content null. */
    private static String asClientRecord(JsonNode request, String id) {
        ObjectNode r = request.deepCopy();
        r.put("id", id);
        r.put("max_tokens", 16);
        for (JsonNode m : (ArrayNode) r.get("messages")) {
            if (!m.has("tool_calls")) continue;
            if (m.path("content").asText().isEmpty()) ((ObjectNode) m).putNull("content");
            for (JsonNode c : m.get("tool_calls")) {
                ObjectNode f = (ObjectNode) c.get("function");
                f.put("arguments", f.get("arguments").toString());
            }
        }
        return r.toString();
    }

    @Test
    void everyVectorThroughCodecValidatorAndTemplate() {
        RequestValidator release = validator(ChatTemplates.RELEASE);
        RequestValidator pythonic = validator(ChatTemplates.PYTHONIC);
        int n = 0;
        for (JsonNode v : vectors.get("vectors")) {
            String name = v.get("name").asText();
            CompletionRequest r = CODEC.decode("v" + n, asClientRecord(v.get("request"), "v" + n));
            boolean isRelease = v.get("template").asText().equals("hf_release");
            int[] ids = (isRelease ? release : pythonic).prepare(r).engineRequest().promptTokens();
            assertThat(ids).as(name).containsExactly(ints(v.get("ids")));
            if (isRelease) {
                assertThat(builtIn.prepare(r).engineRequest().promptTokens()).as(name + " built-in").containsExactly(ints(v.get("ids")));
            }
            n++;
        }
        assertThat(n).isEqualTo(18);
    }

    private static final String WEATHER = """
            [{"type":"function","function":{"name":"get_weather","description":"Weather in a city",
              "parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":7}},
              "required":["city"],"additionalProperties":false}}},
             {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}},"required":["tz"]}}}]""";

    private static PreparedRequest prepare(String extra) {
        return builtIn.prepare(CODEC.decode("t", "{\"id\":\"t\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":"
                + WEATHER + extra + "}"));
    }

    private static boolean accepts(PreparedRequest p, String output) {
        return p.engineRequest().constraint().accepts(output.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void autoIsTheDefaultAndLeavesTheOutputFree() {
        PreparedRequest p = prepare("");
        assertThat(p.request().tools().choice()).isEqualTo(ChatTools.AUTO);
        assertThat(p.request().tools().parallel()).isTrue();
        assertThat(p.request().tools().parsesCalls()).isTrue();
        assertThat(p.engineRequest().constraint()).isNull();
        assertThat(prepare(",\"tool_choice\":\"none\"").request().tools().parsesCalls()).isFalse();
    }

    @Test
    void requiredConstrainsToCallsWithValidArguments() {
        PreparedRequest p = prepare(",\"tool_choice\":\"required\"");
        assertThat(accepts(p, "[{\"name\":\"get_weather\",\"parameters\":{\"city\":\"Paris\",\"days\":3}}]")).isTrue();
        assertThat(accepts(p, "[{\"name\":\"get_weather\",\"parameters\":{\"city\":\"Paris\"}},{\"name\":\"get_time\",\"parameters\":{\"tz\":\"UTC\"}}]")).isTrue();
        assertThat(accepts(p, "[]")).isFalse();
        assertThat(accepts(p, "[{\"name\":\"get_weather\",\"parameters\":{\"city\":1}}]")).isFalse();
        assertThat(accepts(p, "[{\"name\":\"get_weather\",\"parameters\":{\"city\":\"x\",\"days\":9}}]")).isFalse();
        assertThat(accepts(p, "[{\"name\":\"nope\",\"parameters\":{}}]")).isFalse();
        PreparedRequest single = prepare(",\"tool_choice\":\"required\",\"parallel_tool_calls\":false");
        assertThat(accepts(single, "[{\"name\":\"get_time\",\"parameters\":{\"tz\":\"UTC\"}}]")).isTrue();
        assertThat(accepts(single, "[{\"name\":\"get_time\",\"parameters\":{\"tz\":\"UTC\"}},{\"name\":\"get_time\",\"parameters\":{\"tz\":\"UTC\"}}]")).isFalse();
    }

    @Test
    void aNamedFunctionConstrainsToItsArguments() {
        PreparedRequest p = prepare(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}");
        assertThat(p.request().tools().function()).isEqualTo("get_weather");
        assertThat(accepts(p, "{\"city\":\"Paris\"}")).isTrue();
        assertThat(accepts(p, "{\"city\":\"Paris\",\"x\":1}")).isFalse();
        assertThat(accepts(p, "{\"days\":2}")).isFalse();
    }

    @Test
    void badToolFieldsAreRefusedWithTheirCodes() {
        String msgs = "{\"id\":\"t\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        rejected(msgs + ",\"tools\":{}}", "invalid_type");
        rejected(msgs + ",\"tools\":[{\"type\":\"code\"}]}", "invalid_type");
        rejected(msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]}", "invalid_parameter");
        rejected(msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}},{\"type\":\"function\",\"function\":{\"name\":\"a\"}}]}", "invalid_parameter");
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i < 129; i++) many.append(i == 0 ? "" : ",").append("{\"type\":\"function\",\"function\":{\"name\":\"f").append(i).append("\"}}");
        rejected(msgs + ",\"tools\":" + many + "]}", "invalid_parameter");
        String huge = "x".repeat(300_000);
        rejected(msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":\"" + huge + "\"}}]}", "invalid_parameter");
        rejected(msgs + ",\"tools\":" + WEATHER + ",\"tool_choice\":\"sometimes\"}", "invalid_parameter");
        rejected(msgs + ",\"tools\":" + WEATHER + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}", "invalid_request");
        rejected(msgs + ",\"tool_choice\":\"required\"}", "invalid_request");
        rejected(msgs + ",\"tools\":" + WEATHER + ",\"tool_choice\":\"required\",\"response_format\":{\"type\":\"json_object\"}}", "invalid_request");
        rejected(msgs + ",\"tools\":" + WEATHER + ",\"parallel_tool_calls\":\"yes\"}", "invalid_type");
        rejected(msgs + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"contentMediaType\":\"x\"}}}}}],\"tool_choice\":\"required\"}",
                "invalid_parameter");
        rejected("{\"id\":\"t\",\"prompt\":\"hi\",\"tools\":" + WEATHER + "}", "invalid_request");
        rejected("{\"id\":\"t\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"[1]\"}}]}]}", "invalid_parameter");
        rejected("{\"id\":\"t\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"tool_calls\":[]}]}", "invalid_parameter");
        rejected("{\"id\":\"t\",\"messages\":[{\"role\":\"tool\",\"content\":null,\"tool_call_id\":\"c\"}]}", "invalid_type");
        rejected("{\"id\":\"t\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
                + "{\"url\":\"data:image/png;base64,AAAA\"}}]}],\"tools\":" + WEATHER + "}", "invalid_parameter");
    }

    private static void rejected(String record, String code) {
        assertThatThrownBy(() -> builtIn.prepare(CODEC.decode("t", record)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).as(e.getMessage()).isEqualTo(code));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }
}

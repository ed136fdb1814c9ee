package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tool calls end to end on the packaged service and the random demo model, through a real broker and HTTP: with
 * tool_choice required or a named function even a random model answers with calls whose arguments are valid for the
 * tool's parameters schema, finish_reason tool_calls; a bad tools field is an error event and a dead letter. The
 * service renders its prompts with the pythonic template (HERD_CHAT_TEMPLATE), so the Jinja path runs packaged.
 */
class ToolCallsIT {
    static TestKafka.Topics topics;
    static HerdService service;
    static TopicClient client;
    static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    static final String WEATHER_PARAMETERS = """
            {"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":12},
             "days":{"type":"integer","minimum":1,"maximum":7},"unit":{"enum":["celsius","fahrenheit"]}},
             "required":["city","days","unit"],"additionalProperties":false}""";
    static final String TIME_PARAMETERS = """
            {"type":"object","properties":{"tz":{"enum":["UTC","Europe/Rome","Asia/Tokyo"]}},"required":["tz"],
             "additionalProperties":false}""";
    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Forecast\","
            + "\"parameters\":" + WEATHER_PARAMETERS + "}},{\"type\":\"function\",\"function\":{\"name\":\"get_time\","
            + "\"parameters\":" + TIME_PARAMETERS + "}}]";

    @BeforeAll
    static void start() {
        topics = TestKafka.topics("tools-" + UUID.randomUUID().toString().substring(0, 8), 2);
        service = HerdService.start("tool-calls", topics, HerdService.env("HERD_CHAT_TEMPLATE", "pythonic"));
        client = new TopicClient(List.of(topics.responses(), topics.dlq()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) client.close();
        if (service != null) service.stop();
    }

    static String chat(String id, String toolChoice, String extra) {
        return "{" + (id == null ? "" : "\"id\":\"" + id + "\",") + "\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Weather in Paris for 3 days, please.\"}],\"tools\":" + TOOLS + ",\"tool_choice\":" + toolChoice
                + ",\"max_tokens\":400,\"temperature\":1,\"seed\":5" + extra + "}";
    }

    List<JsonNode> awaitResult(String id) {
        await().atMost(Duration.ofSeconds(120)).until(() -> Streams.finished(client.events(topics.responses(), id)));
        return Streams.result(client.events(topics.responses(), id));
    }

    /** Each call: type function, a known name, arguments JSON text valid for that tool's parameters. */
    static void assertValidCalls(JsonNode calls, String onlyName) throws Exception {
        assertThat(calls.isArray() && !calls.isEmpty()).as("tool_calls %s", calls).isTrue();
        List<String> ids = new ArrayList<>();
        for (JsonNode c : calls) {
            assertThat(c.path("type").asText()).isEqualTo("function");
            assertThat(c.path("id").asText()).startsWith("call_");
            ids.add(c.path("id").asText());
            String name = c.path("function").path("name").asText();
            if (onlyName != null) assertThat(name).isEqualTo(onlyName);
            assertThat(name).isIn("get_weather", "get_time");
            String arguments = c.path("function").path("arguments").asText();
            Schema schema = SCHEMAS.getSchema(name.equals("get_weather") ? WEATHER_PARAMETERS : TIME_PARAMETERS, InputFormat.JSON);
            assertThat(TopicClient.JSON.readTree(arguments).isObject()).isTrue();
            assertThat(schema.validate(arguments, InputFormat.JSON)).as("arguments %s of %s", arguments, name).isEmpty();
        }
        assertThat(ids).doesNotHaveDuplicates();
    }

    @Test
    void kafkaRequiredAndNamedToolChoiceGiveValidCalls() throws Exception {
        String required = "tc-req-" + UUID.randomUUID();
        String named = "tc-named-" + UUID.randomUUID();
        client.send(topics.requests(), required, chat(required, "\"required\"", ",\"parallel_tool_calls\":false"));
        String parallel = "tc-par-" + UUID.randomUUID(); // parallel_tool_calls left at its default (true)
        client.send(topics.requests(), named, chat(named, "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}", ""));
        client.send(topics.requests(), parallel, chat(parallel, "\"required\"", ""));
        for (String id : List.of(required, named, parallel)) {
            List<JsonNode> stream = awaitResult(id);
            Streams.assertWellFormed(id, stream);
            JsonNode done = stream.getLast();
            assertThat(done.path("type").asText()).as("%s", done).isEqualTo("done");
            assertThat(done.path("finish_reason").asText()).as("%s: %s", id, Streams.text(stream)).isEqualTo("tool_calls");
            assertValidCalls(done.path("tool_calls"), id.equals(named) ? "get_weather" : null);
            if (id.equals(required)) assertThat(done.path("tool_calls")).hasSize(1);
        }
    }

    @Test
    void kafkaBadToolsAreAnErrorEventAndADeadLetter() throws Exception {
        String id = "tc-bad-" + UUID.randomUUID();
        String bad = "{\"id\":\"" + id + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"no spaces allowed\"}}]}";
        client.send(topics.requests(), id, bad);
        await().atMost(Duration.ofSeconds(60)).until(() -> !client.records(topics.dlq(), id).isEmpty()
                && Streams.finished(client.events(topics.responses(), id)));
        JsonNode error = Streams.result(client.events(topics.responses(), id)).getLast();
        assertThat(error.path("type").asText()).isEqualTo("error");
        assertThat(error.path("code").asText()).isEqualTo("invalid_parameter");
        assertThat(client.records(topics.dlq(), id).getFirst().headers()).containsEntry("herd-dlq-code", "invalid_parameter");
    }

    static HttpResponse<String> post(String json) throws Exception {
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + service.httpPort() + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void httpNamedFunctionAnswersWithMessageToolCalls() throws Exception {
        HttpResponse<String> response = post(chat(null, "{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}", ""));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode choice = TopicClient.JSON.readTree(response.body()).path("choices").get(0);
        assertThat(choice.path("finish_reason").asText()).as(response.body()).isEqualTo("tool_calls");
        assertThat(choice.path("message").path("content").isNull()).isTrue();
        assertValidCalls(choice.path("message").path("tool_calls"), "get_time");
    }

    /** auto on a random model: text, never a call; streamed, the held-back text arrives whole, as without streaming. */
    @Test
    void httpAutoStreamsTheSameTextAsWithoutStreaming() throws Exception {
        String body = chat(null, "\"auto\"", "").replace("\"max_tokens\":400", "\"max_tokens\":24");
        JsonNode whole = TopicClient.JSON.readTree(post(body).body()).path("choices").get(0);
        HttpResponse<String> streamed = post(body.substring(0, body.length() - 1) + ",\"stream\":true}");
        StringBuilder content = new StringBuilder();
        String finish = null;
        for (String line : streamed.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choice = TopicClient.JSON.readTree(line.substring(6)).path("choices").path(0);
            assertThat(choice.path("delta").has("tool_calls")).isFalse();
            content.append(choice.path("delta").path("content").asText(""));
            if (choice.hasNonNull("finish_reason")) finish = choice.get("finish_reason").asText();
        }
        assertThat(whole.path("message").has("tool_calls")).isFalse();
        assertThat(content.toString()).isEqualTo(whole.path("message").path("content").asText());
        assertThat(finish).isEqualTo(whole.path("finish_reason").asText());
    }

    @Test
    void httpStreamingRequiredSendsDeltaToolCalls() throws Exception {
        HttpResponse<String> response = post(chat(null, "\"required\"", ",\"parallel_tool_calls\":false,\"stream\":true"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        ObjectNode calls = null;
        String finish = null;
        StringBuilder content = new StringBuilder();
        for (String line : response.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choice = TopicClient.JSON.readTree(line.substring(6)).path("choices").path(0);
            JsonNode delta = choice.path("delta");
            if (delta.has("tool_calls")) {
                assertThat(calls).as("one tool_calls delta").isNull();
                calls = TopicClient.JSON.createObjectNode();
                calls.set("calls", delta.get("tool_calls"));
            }
            content.append(delta.path("content").asText(""));
            if (choice.hasNonNull("finish_reason")) finish = choice.get("finish_reason").asText();
        }
        assertThat(finish).as(response.body()).isEqualTo("tool_calls");
        assertThat(content.toString()).as("no call text streamed as content").isEmpty();
        assertThat(calls).isNotNull();
        assertThat(calls.get("calls").get(0).path("index").asInt()).isZero();
        assertValidCalls(calls.get("calls"), null);
        assertThat(response.body()).endsWith("data: [DONE]\n\n");
    }
}

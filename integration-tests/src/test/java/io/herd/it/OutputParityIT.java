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

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged service on the demo model, through a real broker and over HTTP: JSON Schema output that validates,
 * n choices, penalties and logit_bias doing what they say, a bad schema dead-lettered, logprobs in OpenAI's shapes.
 */
class OutputParityIT {

    /** A schema no unit test uses. */
    static final String ORDER_SCHEMA = """
            {"type":"object","properties":{
              "order_id":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{4}$"},
              "quantity":{"type":"integer","minimum":1,"maximum":99},
              "express":{"type":"boolean"},
              "lines":{"type":"array","minItems":1,"maxItems":3,"items":{"type":"object",
                "properties":{"sku":{"type":"string","maxLength":12},"price":{"type":"number","minimum":0,"maximum":1000}},
                "required":["sku","price"],"additionalProperties":false}},
              "contact":{"anyOf":[{"type":"string","format":"email"},{"type":"null"}]}},
             "required":["order_id","quantity","express","lines","contact"],"additionalProperties":false}""";

    static TestKafka.Topics topics;
    static HerdService service;
    static TopicClient client;

    @BeforeAll
    static void start() {
        topics = TestKafka.topics("parity-" + UUID.randomUUID().toString().substring(0, 8), 2);
        service = HerdService.start("parity", topics, HerdService.env());
        client = new TopicClient(List.of(topics.responses(), topics.dlq()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) client.close();
        if (service != null) assertThat(service.stop()).as("exit code after SIGTERM").isIn(0, 143);
    }

    static ObjectNode request(String id, String prompt, int maxTokens) {
        ObjectNode r = TopicClient.JSON.createObjectNode();
        r.put("id", id).put("prompt", prompt).put("max_tokens", maxTokens);
        return r;
    }

    List<JsonNode> run(ObjectNode request) throws Exception {
        String id = request.path("id").asText();
        client.send(topics.requests(), id, request.toString());
        await().atMost(Duration.ofSeconds(180)).until(() -> Streams.finished(client.events(topics.responses(), id)));
        return Streams.result(client.events(topics.responses(), id));
    }

    static Schema schema(String json) {
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(json, InputFormat.JSON);
    }

    @Test
    void aHeldOutJsonSchemaGivesValidDocumentsThatEndWithStop() throws Exception {
        Schema validator = schema(ORDER_SCHEMA);
        for (long seed : new long[] {1, 2, 3}) {
            String id = UUID.randomUUID().toString();
            ObjectNode r = request(id, "Write the order as JSON:", 600).put("temperature", 1.0).put("seed", seed);
            r.putObject("response_format").put("type", "json_schema").putObject("json_schema").put("name", "order")
                    .set("schema", TopicClient.JSON.readTree(ORDER_SCHEMA));
            List<JsonNode> stream = run(r);
            Streams.assertWellFormed(id, stream);
            String text = Streams.text(stream);
            assertThat(stream.getLast().path("finish_reason").asText()).as("seed %d: %s", seed, text).isEqualTo("stop");
            assertThat(validator.validate(text, InputFormat.JSON)).as("seed %d: %s", seed, text).isEmpty();
        }
    }

    @Test
    void nThreeGivesThreeCompleteChoicesSharingThePromptBlocks() throws Exception {
        String id = UUID.randomUUID().toString();
        String prompt = "The herd of llamas walked slowly across the high plateau, grazing as they went, ".repeat(3);
        List<JsonNode> stream = run(request(id, prompt, 12).put("n", 3).put("temperature", 0.9).put("seed", 5)
                .put("user", "team-a/u-17"));
        // One stream: started, deltas of all choices in one gap-free seq, one done.
        for (int i = 0; i < stream.size(); i++) assertThat(stream.get(i).path("seq").asInt()).isEqualTo(i);
        assertThat(stream.getFirst().path("type").asText()).isEqualTo("started");
        JsonNode done = stream.getLast();
        assertThat(done.path("type").asText()).isEqualTo("done");
        assertThat(stream.stream().filter(Streams::isTerminal)).hasSize(1);
        List<List<Integer>> tokens = new ArrayList<>(List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
        for (JsonNode e : stream.subList(1, stream.size() - 1)) {
            assertThat(e.path("type").asText()).isEqualTo("delta");
            assertThat(e.has("index")).as("delta of an n=3 request carries its choice").isTrue();
            e.path("token_ids").forEach(t -> tokens.get(e.path("index").asInt()).add(t.asInt()));
        }
        JsonNode choices = done.path("choices");
        assertThat(choices).hasSize(3);
        int sum = 0;
        for (int i = 0; i < 3; i++) {
            assertThat(choices.get(i).path("index").asInt()).isEqualTo(i);
            assertThat(choices.get(i).path("completion_tokens").asInt()).isEqualTo(tokens.get(i).size()).isPositive();
            assertThat(choices.get(i).path("finish_reason").asText()).isIn("stop", "length");
            sum += tokens.get(i).size();
        }
        assertThat(done.path("usage").path("completion_tokens").asInt()).isEqualTo(sum);
        assertThat(new HashSet<>(tokens)).as("per-choice seeds make the choices differ").hasSize(3);
        int promptTokens = done.path("usage").path("prompt_tokens").asInt();
        for (int i = 1; i < 3; i++) {
            assertThat(choices.get(i).path("cached_tokens").asInt()).as("choice %d reuses the first one's prompt blocks", i)
                    .isPositive().isLessThan(promptTokens);
        }

        // The same request again (a new id, the same seed) gives the same three choices.
        String again = UUID.randomUUID().toString();
        List<JsonNode> second = run(request(again, prompt, 12).put("n", 3).put("temperature", 0.9).put("seed", 5));
        List<List<Integer>> tokens2 = new ArrayList<>(List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
        for (JsonNode e : second) if (e.path("type").asText().equals("delta")) e.path("token_ids").forEach(t -> tokens2.get(e.path("index").asInt()).add(t.asInt()));
        assertThat(tokens2).isEqualTo(tokens);
    }

    @Test
    void penaltiesAndLogitBiasChangeTheOutputAsSpecified() throws Exception {
        String prompt = "Repeat after me: one one one one";
        List<Integer> plain = Streams.tokenIds(run(request(UUID.randomUUID().toString(), prompt, 48).put("temperature", 0)));
        assertThat(new HashSet<>(plain).size()).as("the greedy demo continuation repeats tokens: %s", plain).isLessThan(plain.size());
        // presence_penalty 2 takes 2 off the logit of every token already generated: greedy decoding then prefers
        // new tokens, so the output differs and holds more distinct tokens.
        List<Integer> penalised = Streams.tokenIds(run(request(UUID.randomUUID().toString(), prompt, 48).put("temperature", 0)
                .put("presence_penalty", 2.0).put("frequency_penalty", 2.0)));
        assertThat(penalised).isNotEqualTo(plain);
        assertThat(new HashSet<>(penalised).size()).isGreaterThan(new HashSet<>(plain).size());
        // logit_bias +100 on one ordinary token makes it the argmax at every step.
        int forced = plain.getFirst();
        ObjectNode biased = request(UUID.randomUUID().toString(), prompt, 8).put("temperature", 0);
        biased.putObject("logit_bias").put(String.valueOf(forced), 100);
        assertThat(Streams.tokenIds(run(biased))).containsOnly(forced).hasSize(8);
    }

    @Test
    void promptLogprobsScoreEveryPromptTokenAfterTheFirstOnKafkaAndHttp() throws Exception {
        String prompt = "Score this prompt, token by token, please";
        String id = UUID.randomUUID().toString();
        List<JsonNode> stream = run(request(id, prompt, 2).put("temperature", 0).put("prompt_logprobs", 2));
        JsonNode done = stream.getLast();
        JsonNode lps = done.path("prompt_logprobs");
        int promptTokens = done.path("usage").path("prompt_tokens").asInt();
        assertThat(lps.size()).isEqualTo(promptTokens);
        assertThat(lps.get(0).isNull()).isTrue();
        for (int i = 1; i < promptTokens; i++) {
            assertThat(lps.get(i).path("logprob").asDouble()).isLessThanOrEqualTo(0.0);
            assertThat(lps.get(i).path("rank").asInt()).isPositive();
            assertThat(lps.get(i).path("top_logprobs")).hasSize(2);
        }
        JsonNode http = TopicClient.JSON.readTree(service.post("/v1/completions", "{\"prompt\":\"" + prompt
                + "\",\"max_tokens\":2,\"temperature\":0,\"prompt_logprobs\":2}").body());
        JsonNode httpLps = http.path("choices").get(0).path("prompt_logprobs");
        assertThat(httpLps.size()).isEqualTo(promptTokens);
        for (int i = 1; i < promptTokens; i++) {
            JsonNode entry = httpLps.get(i).path(lps.get(i).path("token_id").asText());
            assertThat(entry.path("logprob").asDouble()).as("position %d", i).isEqualTo(lps.get(i).path("logprob").asDouble());
            assertThat(entry.path("rank").asInt()).isEqualTo(lps.get(i).path("rank").asInt());
        }
        assertThat(service.post("/v1/completions", "{\"prompt\":\"x\",\"prompt_logprobs\":6}").statusCode()).isEqualTo(400);
    }

    @Test
    void aSchemaHerdCannotCompileIsAnInvalidParameterErrorAndADeadLetter() throws Exception {
        String id = UUID.randomUUID().toString();
        ObjectNode r = request(id, "x", 8);
        r.putObject("response_format").put("type", "json_schema").putObject("json_schema").put("name", "bad")
                .set("schema", TopicClient.JSON.readTree("{\"type\":\"object\",\"patternProperties\":{\"^a\":{\"type\":\"string\"}}}"));
        client.send(topics.requests(), id, r.toString());
        await().atMost(Duration.ofSeconds(60)).until(() -> Streams.finished(client.events(topics.responses(), id))
                && !client.records(topics.dlq(), id).isEmpty());
        JsonNode error = Streams.result(client.events(topics.responses(), id)).getLast();
        assertThat(error.path("type").asText()).isEqualTo("error");
        assertThat(error.path("code").asText()).isEqualTo("invalid_parameter");
        assertThat(error.path("message").asText()).contains("patternProperties");
        assertThat(client.records(topics.dlq(), id).getFirst().headers()).containsEntry("herd-dlq-code", "invalid_parameter");
    }

    @Test
    void overHttpSchemaOutputValidatesAndNChoicesComeBackWholeAndStreamed() throws Exception {
        Schema validator = schema(ORDER_SCHEMA);
        ObjectNode chat = TopicClient.JSON.createObjectNode().put("max_tokens", 600).put("temperature", 1.0).put("seed", 9)
                .put("n", 2).put("logprobs", true).put("top_logprobs", 2).put("user", "u-1");
        chat.putArray("messages").addObject().put("role", "user").putArray("content").addObject().put("type", "text")
                .put("text", "An order, please.");
        chat.putObject("response_format").put("type", "json_schema").putObject("json_schema").put("name", "order")
                .set("schema", TopicClient.JSON.readTree(ORDER_SCHEMA));
        var response = service.post("/v1/chat/completions", chat.toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode body = TopicClient.JSON.readTree(response.body());
        assertThat(body.path("choices")).hasSize(2);
        int tokens = 0;
        for (int i = 0; i < 2; i++) {
            JsonNode c = body.path("choices").get(i);
            assertThat(c.path("index").asInt()).isEqualTo(i);
            String content = c.path("message").path("content").asText();
            assertThat(c.path("finish_reason").asText()).as(content).isEqualTo("stop");
            assertThat(validator.validate(content, InputFormat.JSON)).as(content).isEmpty();
            JsonNode lps = c.path("logprobs").path("content");
            assertThat(lps.size()).isPositive();
            java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream();
            for (int k = 0; k < lps.size(); k++) {
                JsonNode lp = lps.get(k);
                assertThat(lp.path("logprob").asDouble()).isLessThanOrEqualTo(0.0);
                assertThat(lp.path("top_logprobs")).hasSize(2);
                // The stop token that ended the choice is listed (as vLLM does) but is not part of the text.
                if (k < lps.size() - 1) lp.path("bytes").forEach(b -> joined.write(b.asInt()));
            }
            assertThat(joined.toString(java.nio.charset.StandardCharsets.UTF_8)).as("the tokens' bytes spell the content")
                    .isEqualTo(content);
            tokens += lps.size();
        }
        assertThat(body.path("usage").path("completion_tokens").asInt()).isEqualTo(tokens);

        String sse = service.post("/v1/completions", "{\"prompt\":\"Three ways\",\"max_tokens\":6,\"temperature\":0.9,"
                + "\"seed\":3,\"n\":3,\"logprobs\":1,\"stream\":true}").body();
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
        String[] reasons = new String[3];
        int[] logprobTokens = new int[3];
        String last = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            last = line.substring(6);
            if (last.equals("[DONE]")) break;
            JsonNode c = TopicClient.JSON.readTree(last).path("choices").get(0);
            int i = c.path("index").asInt();
            texts[i].append(c.path("text").asText());
            if (!c.path("finish_reason").isNull()) reasons[i] = c.path("finish_reason").asText();
            if (c.path("logprobs").isObject()) logprobTokens[i] += c.path("logprobs").path("tokens").size();
        }
        assertThat(last).isEqualTo("[DONE]");
        assertThat(reasons).doesNotContainNull();
        assertThat(java.util.Arrays.stream(logprobTokens).min().orElseThrow()).as("logprobs in every choice's chunks").isPositive();
        JsonNode whole = TopicClient.JSON.readTree(service.post("/v1/completions", "{\"prompt\":\"Three ways\",\"max_tokens\":6,"
                + "\"temperature\":0.9,\"seed\":3,\"n\":3,\"logprobs\":1}").body());
        for (int i = 0; i < 3; i++) {
            JsonNode c = whole.path("choices").get(i);
            assertThat(c.path("text").asText()).as("choice %d streamed = whole", i).isEqualTo(texts[i].toString());
            assertThat(c.path("logprobs").path("tokens").size()).isEqualTo(logprobTokens[i]);
            assertThat(c.path("logprobs").path("text_offset").get(0).asInt()).isZero();
        }
        assertThat(service.post("/v1/completions", "{\"prompt\":\"x\",\"n\":17}").statusCode()).isEqualTo(400);
    }
}

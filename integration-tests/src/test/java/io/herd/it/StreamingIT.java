package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.cli.HerdCli;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The packaged service on the demo model: streaming, concurrency under a small admission queue, cancel, tracing. */
class StreamingIT {

    static TestKafka.Topics topics;
    static HerdService service;
    static TopicClient client;

    @BeforeAll
    static void start() {
        topics = TestKafka.topics("streaming-" + UUID.randomUUID().toString().substring(0, 8), 3);
        // A small admission queue so the 50-request test runs with consumption paused and resumed.
        service = HerdService.start("streaming", topics, HerdService.env("HERD_MAX_IN_FLIGHT", "8"));
        client = new TopicClient(List.of(topics.responses()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) client.close();
        if (service != null) {
            assertThat(service.stop()).as("exit code after SIGTERM").isIn(0, 143);
        }
    }

    static String request(String id, String prompt, int maxTokens) {
        ObjectNode r = TopicClient.JSON.createObjectNode();
        r.put("id", id).put("prompt", prompt).put("max_tokens", maxTokens).put("temperature", 0).put("seed", 7);
        return r.toString();
    }

    static String newId() { return UUID.randomUUID().toString(); }

    List<JsonNode> awaitResult(String id, Duration timeout) {
        await().atMost(timeout).until(() -> Streams.finished(client.events(topics.responses(), id)));
        return Streams.result(client.events(topics.responses(), id));
    }

    @Test
    void theStreamedTokensAreWhatHerdGenerateMakesForTheSameSeed() throws Exception {
        String prompt = "The herd walked slowly across the";
        for (String temperature : List.of("0", "0.8")) {
            int maxTokens = 24;
            String id = newId();
            ObjectNode r = (ObjectNode) TopicClient.JSON.readTree(request(id, prompt, maxTokens));
            r.put("temperature", Float.parseFloat(temperature)).put("seed", 11);
            client.send(topics.requests(), id, r.toString());
            List<JsonNode> stream = awaitResult(id, Duration.ofSeconds(120));
            Streams.assertWellFormed(id, stream);

            Generated ref = Generated.run(prompt, maxTokens, temperature, 11);
            assertThat(Streams.tokenIds(stream)).as("token ids at temperature %s", temperature).isEqualTo(ref.tokenIds());
            assertThat(Streams.text(stream)).as("text at temperature %s", temperature).isEqualTo(ref.text());
            JsonNode done = stream.getLast();
            assertThat(done.path("usage").path("prompt_tokens").asInt()).isEqualTo(ref.promptTokens());
            assertThat(done.path("finish_reason").asText()).isEqualTo(ref.finishReason());
        }
    }

    @Test
    void fiftyConcurrentRequestsAllCompleteInOrder() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String id = newId();
            ids.add(id);
            client.send(topics.requests(), id, request(id, "Request number " + i + " says", 12));
        }
        await().atMost(Duration.ofSeconds(240)).until(() -> ids.stream()
                .allMatch(id -> Streams.finished(client.events(topics.responses(), id))));
        for (String id : ids) {
            List<JsonNode> events = client.events(topics.responses(), id);
            assertThat(events).as("no re-run without a crash").allMatch(e -> e.path("attempt").asInt() == 1);
            Streams.assertWellFormed(id, events);
        }
    }

    @Test
    void cancelStopsALongGeneration() throws Exception {
        String id = newId();
        int maxTokens = 3000;
        client.send(topics.requests(), id, request(id, "Tell a very long story", maxTokens));
        await().atMost(Duration.ofSeconds(120)).until(() -> client.events(topics.responses(), id).stream()
                .anyMatch(e -> e.path("type").asText().equals("delta")));
        client.send(topics.control(), id, "{\"type\":\"cancel\",\"id\":\"" + id + "\"}");
        List<JsonNode> stream = awaitResult(id, Duration.ofSeconds(60));
        Streams.assertWellFormed(id, stream);
        JsonNode done = stream.getLast();
        assertThat(done.path("finish_reason").asText()).isEqualTo("cancelled");
        assertThat(done.path("usage").path("completion_tokens").asInt()).isLessThan(maxTokens);
    }

    @Test
    void theTraceContextOfTheRequestContinuesIntoTheResponses() throws Exception {
        String id = newId();
        String traceId = UUID.randomUUID().toString().replace("-", "");
        String parentSpan = "00f067aa0ba902b7";
        client.send(topics.requests(), id, request(id, "Trace me", 4),
                Map.of("traceparent", "00-" + traceId + "-" + parentSpan + "-01"));
        awaitResult(id, Duration.ofSeconds(60));
        Pattern w3c = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]");
        for (TopicClient.Received r : client.records(topics.responses(), id)) {
            String traceparent = r.headers().get("traceparent");
            assertThat(traceparent).as("traceparent on %s", r.value()).isNotNull();
            Matcher m = w3c.matcher(traceparent);
            assertThat(m.matches()).as(traceparent).isTrue();
            assertThat(m.group(1)).isEqualTo(traceId);
            assertThat(m.group(2)).as("the service's own span, child of the caller's").isNotEqualTo(parentSpan);
        }
    }

    @Test
    void aRepeatedIdIsNotGeneratedTwice() throws Exception {
        String id = newId();
        client.send(topics.requests(), id, request(id, "Only once", 4));
        awaitResult(id, Duration.ofSeconds(60));
        double before = metric("herd_duplicate_requests_total");
        client.send(topics.requests(), id, request(id, "Only once", 4));
        await().atMost(Duration.ofSeconds(30)).until(() -> metric("herd_duplicate_requests_total") > before);
        assertThat(client.events(topics.responses(), id).stream().filter(e -> e.path("type").asText().equals("started")))
                .hasSize(1);
    }

    @Test
    void metricsUseVllmMeanings() throws Exception {
        String id = newId();
        client.send(topics.requests(), id, request(id, "Count me", 4));
        awaitResult(id, Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(metric("herd_time_to_first_token_seconds_count")).isGreaterThan(0);
            assertThat(metric("herd_e2e_request_latency_seconds_count")).isGreaterThan(0);
            assertThat(metric("herd_generation_tokens_total")).isGreaterThanOrEqualTo(4);
            assertThat(metric("herd_records_in_total")).isGreaterThan(0);
            assertThat(metric("herd_records_out_total")).isGreaterThan(0);
        });
        String body = service.management("/q/metrics").body();
        assertThat(body).contains("herd_inter_token_latency_seconds_bucket", "herd_num_requests_running",
                "herd_num_requests_waiting", "herd_kv_cache_usage_perc", "herd_prefix_cache_queries_total",
                "herd_prefix_cache_hits_total", "herd_dlq_records_total");
        assertThat(service.managementStatus("/q/health/live")).isEqualTo(200);
    }

    @Test
    void openAiCompletionsAnswerWhatTheKafkaPathStreams() throws Exception {
        String prompt = "Over HTTP the herd";
        String id = newId();
        client.send(topics.requests(), id, request(id, prompt, 10));
        String viaKafka = Streams.text(awaitResult(id, Duration.ofSeconds(60)));

        JsonNode completion = TopicClient.JSON.readTree(service.post("/v1/completions",
                "{\"prompt\":\"" + prompt + "\",\"max_tokens\":10,\"temperature\":0,\"seed\":7}").body());
        assertThat(completion.path("object").asText()).isEqualTo("text_completion");
        assertThat(completion.path("choices").get(0).path("text").asText()).isEqualTo(viaKafka);
        assertThat(completion.path("usage").path("completion_tokens").asInt()).isPositive();

        String sse = service.post("/v1/completions",
                "{\"prompt\":\"" + prompt + "\",\"max_tokens\":10,\"temperature\":0,\"seed\":7,\"stream\":true}").body();
        StringBuilder streamed = new StringBuilder();
        String last = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            last = line.substring(6);
            if (last.equals("[DONE]")) break;
            streamed.append(TopicClient.JSON.readTree(last).path("choices").get(0).path("text").asText());
        }
        assertThat(last).isEqualTo("[DONE]");
        assertThat(streamed.toString()).isEqualTo(viaKafka);

        JsonNode chat = TopicClient.JSON.readTree(service.post("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":6,\"temperature\":0}").body());
        assertThat(chat.path("choices").get(0).path("message").path("role").asText()).isEqualTo("assistant");
        assertThat(chat.path("usage").path("completion_tokens").asInt()).isPositive();
        JsonNode models = TopicClient.JSON.readTree(service.http("/v1/models").body());
        assertThat(models.path("data").get(0).path("id").asText()).isEqualTo("it-demo-model");
        assertThat(service.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":0}").statusCode()).isEqualTo(400);
    }

    static double metric(String name) throws Exception {
        return metric(service, name);
    }

    static double metric(HerdService service, String name) throws Exception {
        String body = service.management("/q/metrics").body();
        double sum = 0;
        boolean found = false;
        for (String line : body.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                found = true;
            }
        }
        return found ? sum : 0;
    }

    /** `./herd generate --json` for the same prompt and seed: one sequence on the forward pass, no engine, no Kafka. */
    record Generated(List<Integer> tokenIds, String text, int promptTokens, String finishReason) {

        static Generated run(String prompt, int maxTokens, String temperature, long seed) throws Exception {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = HerdCli.run(new String[] {"generate", "--model", HerdService.demoModel().toString(), "--prompt",
                    prompt, "--max-tokens", String.valueOf(maxTokens), "--temperature", temperature, "--seed",
                    String.valueOf(seed), "--json"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            assertThat(status).as("herd generate: %s", err.toString(StandardCharsets.UTF_8)).isZero();
            List<Integer> ids = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            JsonNode done = null;
            for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) continue;
                JsonNode n = TopicClient.JSON.readTree(line);
                if (n.path("done").asBoolean(false)) {
                    done = n;
                } else {
                    ids.add(n.path("id").asInt());
                    text.append(n.path("text").asText());
                }
            }
            assertThat(done).as("summary line of herd generate").isNotNull();
            return new Generated(List.copyOf(ids), text.toString(), done.path("prompt_token_ids").size(),
                    done.path("finish_reason").asText());
        }
    }
}

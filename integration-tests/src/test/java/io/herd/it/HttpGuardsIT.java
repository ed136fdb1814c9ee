package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The HTTP edge's guards on the packaged service: API keys (401), the body limit (413), HTTP's bounded waiting line
 * (429 with Retry-After) and its share of admission (a Kafka request sent during an HTTP flood still completes), and
 * health/metrics only on the management port.
 */
class HttpGuardsIT {

    static final String KEY = "it-key-" + UUID.randomUUID();
    static final int MAX_BODY = 64 * 1024;

    static TestKafka.Topics topics;
    static HerdService service;
    static TopicClient client;
    static HttpClient http;

    @BeforeAll
    static void start() {
        topics = TestKafka.topics("http-guards-" + UUID.randomUUID().toString().substring(0, 8), 1);
        // 4 slots, 2 of them for HTTP, 2 HTTP requests allowed to wait: a few concurrent clients overflow the line.
        service = HerdService.start("http-guards", topics, HerdService.env(
                "HERD_API_KEYS", "other-key," + KEY,
                "HERD_HTTP_MAX_BODY_BYTES", String.valueOf(MAX_BODY),
                "HERD_MAX_IN_FLIGHT", "4",
                "HERD_HTTP_ADMISSION_SHARE", "0.5",
                "HERD_HTTP_MAX_QUEUE", "2"));
        client = new TopicClient(List.of(topics.responses()));
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) http.close();
        if (client != null) client.close();
        if (service != null) assertThat(service.stop()).as("exit code after SIGTERM").isIn(0, 143);
    }

    static HttpRequest.Builder request(String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + service.httpPort() + path))
                .timeout(Duration.ofSeconds(60));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return b;
    }

    static HttpResponse<String> post(String path, String key, String json) throws Exception {
        return http.send(request(path, key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path, String key) throws Exception {
        return http.send(request(path, key).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode error(HttpResponse<String> response) throws Exception {
        return TopicClient.JSON.readTree(response.body()).path("error");
    }

    @Test
    void v1RefusesRequestsWithoutAValidKey() throws Exception {
        String completion = "{\"prompt\":\"Keys\",\"max_tokens\":2}";
        for (String key : new String[] {null, "wrong", KEY + "x"}) {
            HttpResponse<String> r = post("/v1/completions", key, completion);
            assertThat(r.statusCode()).as("key %s", key).isEqualTo(401);
            assertThat(error(r).path("code").asText()).isEqualTo("invalid_api_key");
            assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            assertThat(r.body()).doesNotContain(KEY);
        }
        assertThat(get("/v1/models", null).statusCode()).isEqualTo(401);

        assertThat(get("/v1/models", KEY).statusCode()).isEqualTo(200);
        assertThat(get("/v1/models", "other-key").statusCode()).isEqualTo(200);
        HttpResponse<String> ok = post("/v1/completions", KEY, completion);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(TopicClient.JSON.readTree(ok.body()).path("object").asText()).isEqualTo("text_completion");
    }

    @Test
    void aBodyOverTheLimitGets413() throws Exception {
        String huge = "{\"prompt\":\"" + "a".repeat(2 * MAX_BODY) + "\",\"max_tokens\":1}";
        HttpResponse<String> declared = post("/v1/completions", KEY, huge);
        assertThat(declared.statusCode()).isEqualTo(413);
        assertThat(error(declared).path("code").asText()).isEqualTo("request_too_large");

        // No Content-Length (chunked): cut off while it is read.
        HttpRequest chunked = request("/v1/chat/completions", KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(huge))).build();
        HttpResponse<String> streamed = http.send(chunked, HttpResponse.BodyHandlers.ofString());
        assertThat(streamed.statusCode()).isEqualTo(413);
        assertThat(error(streamed).path("code").asText()).isEqualTo("request_too_large");

        // Just under the limit is read (and then judged on its content).
        String fits = "{\"prompt\":\"" + "a ".repeat(1000) + "\",\"max_tokens\":1}";
        assertThat(post("/v1/completions", KEY, fits).statusCode()).isEqualTo(200);
    }

    @Test
    void anHttpFloodGets429WhileAKafkaRequestStillCompletes() throws Exception {
        int clients = 16;
        AtomicBoolean flooding = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();
        AtomicReference<String> retryAfter = new AtomicReference<>();
        AtomicReference<String> refusal = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            for (int c = 0; c < clients; c++) {
                int seed = c;
                pool.submit(() -> {
                    while (flooding.get()) {
                        try {
                            HttpResponse<String> r = post("/v1/completions", KEY, "{\"prompt\":\"Flood " + seed
                                    + "\",\"max_tokens\":64,\"temperature\":1,\"seed\":" + seed + "}");
                            if (r.statusCode() == 200) ok.incrementAndGet();
                            else if (r.statusCode() == 429) {
                                refused.incrementAndGet();
                                retryAfter.set(r.headers().firstValue("Retry-After").orElse(null));
                                refusal.set(r.body());
                            } else other.incrementAndGet();
                        } catch (Exception e) {
                            if (flooding.get()) other.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> refused.get() > 20 && ok.get() > 0);

            // The flood goes on; a Kafka record still finds one of the slots HTTP cannot take.
            int heldMax = 0;
            String id = UUID.randomUUID().toString();
            client.send(topics.requests(), id, "{\"id\":\"" + id + "\",\"prompt\":\"Through Kafka\",\"max_tokens\":8}");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Streams.finished(client.events(topics.responses(), id)) && System.nanoTime() < deadline) {
                heldMax = Math.max(heldMax, (int) StreamingIT.metric(service, "herd_http_admission_held"));
                Thread.sleep(50);
            }
            List<JsonNode> stream = Streams.result(client.events(topics.responses(), id));
            assertThat(flooding.get()).isTrue();
            Streams.assertWellFormed(id, stream);
            assertThat(stream.getLast().path("type").asText()).isEqualTo("done");
            assertThat(heldMax).as("admission slots held by HTTP").isBetween(0, 2);
        } finally {
            flooding.set(false);
            pool.shutdown();
            assertThat(pool.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(other.get()).as("answers other than 200 and 429").isZero();
        assertThat(retryAfter.get()).isEqualTo("1");
        assertThat(TopicClient.JSON.readTree(refusal.get()).path("error").path("code").asText()).isEqualTo("rate_limit_exceeded");
        // The line drains: HTTP is served again once the flood is over.
        assertThat(post("/v1/completions", KEY, "{\"prompt\":\"After\",\"max_tokens\":2}").statusCode()).isEqualTo(200);
    }

    @Test
    void healthAndMetricsAreOnlyOnTheManagementPort() throws Exception {
        for (String path : List.of("/q/health/live", "/q/health/ready", "/q/health/started")) {
            assertThat(service.managementStatus(path)).as(path).isEqualTo(200);
            assertThat(service.httpStatus(path)).as(path + " on the API port").isEqualTo(404);
        }
        assertThat(service.management("/q/metrics").body()).contains("herd_http_admission_waiting", "herd_http_admission_held");
        assertThat(service.httpStatus("/q/metrics")).isEqualTo(404);
        assertThat(service.httpStatus("/q/health")).isEqualTo(404);
    }
}

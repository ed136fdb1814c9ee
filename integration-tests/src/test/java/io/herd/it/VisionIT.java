package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged service on the llama4-tiny-vision checkpoint (the shared fixture's files linked beside the real
 * tokenizer): data-URL images in chat content parts through Kafka and HTTP give Hugging Face's greedy ids, a repeat
 * hits the prefix cache, and a bad image is dead-lettered with its code; an image URL on an allowed host (a local
 * HTTP server) is fetched, one on another host is refused.
 */
class VisionIT {
    static TestKafka.Topics topics;
    static HerdService service;
    static TopicClient client;
    static Path fixture;
    static HttpServer images;

    @BeforeAll
    static void start() throws IOException {
        Path shared = Path.of(System.getProperty("herd.shared.dir", HerdService.PROJECT.resolve("../shared").toString()));
        fixture = shared.resolve("fixtures/llama4-tiny-vision").toAbsolutePath();
        Path model = HerdService.PROJECT.resolve("target/it-vision-model");
        Files.createDirectories(model);
        try (Stream<Path> files = Files.list(fixture)) {
            for (Path f : files.toList()) link(model.resolve(f.getFileName()), f);
        }
        link(model.resolve("tokenizer.json"), shared.resolve("llama4/tokenizer.json").toAbsolutePath());
        images = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        images.createContext("/", ex -> {
            Path file = fixture.resolve(ex.getRequestURI().getPath().substring(1)).normalize();
            byte[] body = file.startsWith(fixture.normalize()) && Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
            ex.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) try (var out = ex.getResponseBody()) {
                out.write(body);
            }
            ex.close();
        });
        images.start();
        topics = TestKafka.topics("vision-" + UUID.randomUUID().toString().substring(0, 8), 2);
        service = HerdService.start("vision", topics, HerdService.env("HERD_MODEL_DIR", model.toString(),
                "HERD_COMPUTE_BACKEND", "cpu", "HERD_IMAGE_URL_ALLOWED", "127.0.0.1", "HERD_IMAGE_URL_TIMEOUT", "PT5S"));
        client = new TopicClient(List.of(topics.responses(), topics.dlq()));
    }

    private static void link(Path link, Path target) throws IOException {
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, target);
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) client.close();
        if (service != null) assertThat(service.stop()).as("exit code after SIGTERM").isIn(0, 143);
        if (images != null) images.stop(0);
    }

    /** The fixture case's messages with its PNGs as data URLs. */
    static ArrayNode messages(JsonNode c) throws IOException {
        ArrayNode out = TopicClient.JSON.createArrayNode();
        int image = 0;
        for (JsonNode m : c.get("messages")) {
            ArrayNode parts = out.addObject().put("role", m.get("role").asText()).putArray("content");
            for (JsonNode p : m.get("content")) {
                if (p.get("type").asText().equals("text")) parts.add(p);
                else {
                    byte[] png = Files.readAllBytes(fixture.resolve(c.get("images").get(image++).get("file").asText()));
                    parts.addObject().put("type", "image_url").putObject("image_url")
                            .put("url", "data:image/png;base64," + Base64.getEncoder().encodeToString(png));
                }
            }
        }
        return out;
    }

    static JsonNode testCase(String name) {
        try {
            for (JsonNode c : TopicClient.JSON.readTree(fixture.resolve("expected.json").toFile()).get("cases"))
                if (c.get("name").asText().equals(name)) return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError(name);
    }

    static List<Integer> greedy(JsonNode c) {
        return c.get("greedy").findValues("id").stream().map(JsonNode::asInt).toList();
    }

    List<JsonNode> send(String id, ArrayNode messages, int maxTokens) throws Exception {
        ObjectNode r = TopicClient.JSON.createObjectNode().put("id", id).put("max_tokens", maxTokens).put("temperature", 0);
        r.set("messages", messages);
        client.send(topics.requests(), id, r.toString());
        await().atMost(Duration.ofSeconds(120)).until(() -> Streams.finished(client.events(topics.responses(), id)));
        return Streams.result(client.events(topics.responses(), id));
    }

    @Test
    void kafkaImageRequestsGiveHuggingFacesGreedyIdsAndRepeatsHitTheCache() throws Exception {
        JsonNode c = testCase("two-images");
        ArrayNode messages = messages(c);
        List<Integer> expected = greedy(c);
        List<JsonNode> first = send(UUID.randomUUID().toString(), messages, expected.size());
        assertThat(Streams.tokenIds(first)).isEqualTo(expected);
        JsonNode started = first.getFirst();
        assertThat(started.path("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
        assertThat(started.path("image_tokens").asInt()).isBetween(c.get("num_patch_tokens").asInt(), c.get("input_ids").size());
        List<JsonNode> again = send(UUID.randomUUID().toString(), messages, expected.size());
        assertThat(again.getFirst().path("cached_tokens").asInt()).isGreaterThan(300);
        assertThat(Streams.tokenIds(again)).isEqualTo(expected);
    }

    @Test
    void httpChatCompletionsTakeImagePartsAndRefuseFileUrls() throws IOException {
        JsonNode c = testCase("single-tile");
        ObjectNode body = TopicClient.JSON.createObjectNode().put("max_tokens", 8).put("temperature", 0);
        body.set("messages", messages(c));
        HttpResponse<String> ok = service.post("/v1/chat/completions", body.toString());
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        JsonNode usage = TopicClient.JSON.readTree(ok.body()).path("usage");
        assertThat(usage.path("prompt_tokens").asInt()).isEqualTo(c.get("input_ids").size());
        assertThat(usage.path("prompt_tokens_details").path("image_tokens").asInt()).isEqualTo(19);

        ((ObjectNode) body.get("messages").get(0).get("content").get(0).get("image_url")).put("url", "file:///etc/passwd");
        HttpResponse<String> refused = service.post("/v1/chat/completions", body.toString());
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("invalid_image");
    }

    @Test
    void anImageUrlOnAnAllowedHostIsFetchedAndOthersAreRefused() throws Exception {
        JsonNode c = testCase("single-tile");
        ArrayNode messages = messages(c);
        String file = c.get("images").get(0).get("file").asText();
        int port = images.getAddress().getPort();
        ((ObjectNode) messages.get(0).get("content").get(0).get("image_url")).put("url", "http://127.0.0.1:" + port + "/" + file);
        List<Integer> expected = greedy(c);
        List<JsonNode> fetched = send(UUID.randomUUID().toString(), messages, expected.size());
        assertThat(Streams.tokenIds(fetched)).as(fetched.toString()).isEqualTo(expected);
        assertThat(service.management("/q/metrics").body()).containsPattern("herd_image_encode_time_seconds_count [1-9]")
                .containsPattern("herd_image_encode_tiles_total [1-9]");

        String id = UUID.randomUUID().toString();
        ObjectNode r = TopicClient.JSON.createObjectNode().put("id", id).put("max_tokens", 4);
        r.putArray("messages").addObject().put("role", "user").putArray("content").addObject().put("type", "image_url")
                .putObject("image_url").put("url", "http://localhost:" + port + "/" + file);
        client.send(topics.requests(), id, r.toString());
        await().atMost(Duration.ofSeconds(60)).until(() -> !client.records(topics.dlq(), id).isEmpty());
        assertThat(client.records(topics.dlq(), id).getFirst().headers()).containsEntry("herd-dlq-code", "invalid_image");
    }

    @Test
    void aBrokenImageOnKafkaIsDeadLetteredAsInvalidImage() throws Exception {
        String id = UUID.randomUUID().toString();
        ObjectNode r = TopicClient.JSON.createObjectNode().put("id", id).put("max_tokens", 4);
        r.putArray("messages").addObject().put("role", "user").putArray("content").addObject().put("type", "image_url")
                .putObject("image_url").put("url", "data:image/png;base64,aGVsbG8=");
        client.send(topics.requests(), id, r.toString());
        await().atMost(Duration.ofSeconds(60)).until(() -> !client.records(topics.dlq(), id).isEmpty());
        assertThat(client.records(topics.dlq(), id).getFirst().headers()).containsEntry("herd-dlq-code", "invalid_image");
    }
}

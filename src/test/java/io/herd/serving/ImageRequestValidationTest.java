package io.herd.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.engine.EngineRequest;
import io.herd.image.ImageLimits;
import io.herd.image.Llama4ImageProcessor;
import io.herd.image.Llama4ImageProcessorConfig;
import io.herd.messaging.RequestCodec;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.vision.ImageEmbedder;
import io.herd.model.vision.Llama4VisionConfigParser;
import io.herd.model.vision.Llama4VisionWeights;
import io.herd.model.vision.VisionFixture;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Files;
import java.util.Base64;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * OpenAI content parts with data-URL images, decoded by the request codec and prepared by the validator over the
 * llama4-tiny-vision checkpoint: HF's prompt ids, features on the patch tokens, one cache span per image; and every
 * refusal with its code.
 */
class ImageRequestValidationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static SafetensorsCheckpoint checkpoint;
    private static Tokenizer tokenizer;
    private static ImagePrompts images;
    private final RequestCodec codec = new RequestCodec(JSON);

    @BeforeAll
    static void load() {
        checkpoint = SafetensorsCheckpoint.open(VisionFixture.dir());
        tokenizer = Tokenizer.fromHuggingFace(VisionFixture.sharedDir().resolve("llama4/tokenizer.json"));
        var vision = Llama4VisionConfigParser.parse(VisionFixture.dir()).orElseThrow();
        images = new VisionPromptBuilder(tokenizer, new ImageLimits(1 << 20, 1_000_000, 2, 40),
                new Llama4ImageProcessor(Llama4ImageProcessorConfig.parse(VisionFixture.dir())),
                new ImageEmbedder(Llama4VisionWeights.load(checkpoint, vision)),
                Llama4ConfigParser.parse(VisionFixture.dir()).dModel());
    }

    @AfterAll
    static void close() { checkpoint.close(); }

    private RequestValidator validator(ImagePrompts imagePrompts) {
        return new RequestValidator(new ServingLimits(4096, 16, 8, Set.of("vision"), 4),
                new TokenizerPromptCodec(tokenizer, new int[] {200001}), imagePrompts);
    }

    private static String dataUrl(String file) throws IOException {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(VisionFixture.dir().resolve(file)));
    }

    private static String request(String... partsJson) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode content = root.putArray("messages").addObject().put("role", "user").putArray("content");
        for (String p : partsJson) {
            try {
                content.add(JSON.readTree(p));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
        root.put("max_tokens", 4);
        return root.toString();
    }

    private static String image(String url) { return "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + url + "\"}}"; }

    private static String text(String t) { return "{\"type\":\"text\",\"text\":\"" + t + "\"}"; }

    @Test
    void contentPartsBecomeHuggingFacesIdsWithFeaturesOnThePatchTokens() throws IOException {
        JsonNode c = VisionFixture.testCase("two-images");
        EngineRequest er = validator(images).prepare(codec.decode("r1", request(text("Compare "),
                image(dataUrl("two-images-1.png")), text(" with "), image(dataUrl("two-images-2.png")), text(".")))).engineRequest();
        assertThat(er.promptTokens()).containsExactly(VisionFixture.ints(c.get("input_ids")));
        var rows = er.promptEmbeddings().compute();
        assertThat(rows.indices()).hasSize(c.get("num_patch_tokens").asInt());
        try (SafetensorsCheckpoint stages = VisionFixture.stages("two-images")) {
            double diff = VisionFixture.maxAbsDiff(rows.rows(), stages.tensor("projected_features").toFloatArray());
            assertThat(diff).isLessThanOrEqualTo(1e-4);
        }
        assertThat(er.multimodalSpans()).hasSize(2);
        assertThat(er.promptTokens()[er.multimodalSpans().get(0).start()]).isEqualTo(200080);
        assertThat(er.promptTokens()[er.multimodalSpans().get(1).end() - 1]).isEqualTo(200081);
        assertThat(er.multimodalSpans().get(0).contentHash()).isNotEqualTo(er.multimodalSpans().get(1).contentHash());
    }

    @Test
    void textOnlyPartsAreJoinedAsPlainContent() {
        EngineRequest parts = validator(images).prepare(codec.decode("p", request(text("Hello, "), text("world")))).engineRequest();
        EngineRequest plain = validator(images).prepare(codec.decode("s",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello, world\"}],\"max_tokens\":4}")).engineRequest();
        assertThat(parts.promptTokens()).containsExactly(plain.promptTokens());
        assertThat(parts.promptEmbeddings()).isNull();
    }

    @Test
    void everyBadImageIsRefusedWithItsCode() throws IOException {
        String png = dataUrl("single-tile.png");
        assertCode(validator(images), request(image("file:///etc/passwd")), "invalid_image");
        assertCode(validator(images), request(image("https://example.com/cat.png")), "invalid_image");
        assertCode(validator(images), request(image("data:image/png;base64,!!!notbase64")), "invalid_image");
        assertCode(validator(images), request(image("data:image/png;base64,aGVsbG8gd29ybGQ=")), "invalid_image");
        assertCode(validator(images), request(image(png), image(png), image(png)), "image_too_large");
        assertCode(validator(null), request(image(png)), "invalid_image");
        assertThatThrownBy(() -> codec.decode("x", request("{\"type\":\"audio\"}")))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_type"));
        assertThatThrownBy(() -> codec.decode("x", request("{\"type\":\"image_url\",\"image_url\":{}}")))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_type"));
    }

    @Test
    void anImageFetchedFromAnAllowedHostIsTheSameAsItsDataUrlAndItsEncodeTimeIsReported() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            byte[] body = Files.readAllBytes(VisionFixture.dir().resolve(ex.getRequestURI().getPath().substring(1)));
            ex.sendResponseHeaders(200, body.length);
            try (var out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/two-images-1.png";
            ImageLimits limits = new ImageLimits(1 << 20, 1_000_000, 2, 40);
            List<long[]> encoded = new ArrayList<>();
            var vision = Llama4VisionConfigParser.parse(VisionFixture.dir()).orElseThrow();
            ImagePrompts fetching = new VisionPromptBuilder(tokenizer, limits, new ImageUrlReader(limits.maxImageBytes(),
                    new HttpImageFetcher(ImageUrlAllowList.parse("127.0.0.1"), limits.maxImageBytes(), Duration.ofSeconds(2)),
                    Duration.ofSeconds(5)), (tiles, nanos) -> encoded.add(new long[] {tiles, nanos}),
                    new Llama4ImageProcessor(Llama4ImageProcessorConfig.parse(VisionFixture.dir())),
                    new ImageEmbedder(Llama4VisionWeights.load(checkpoint, vision)),
                    Llama4ConfigParser.parse(VisionFixture.dir()).dModel());
            EngineRequest viaHttp = validator(fetching).prepare(codec.decode("h", request(text("Look "), image(url)))).engineRequest();
            EngineRequest viaData = validator(images).prepare(codec.decode("d",
                    request(text("Look "), image(dataUrl("two-images-1.png"))))).engineRequest();
            assertThat(viaHttp.promptTokens()).containsExactly(viaData.promptTokens());
            assertThat(viaHttp.multimodalSpans()).isEqualTo(viaData.multimodalSpans());
            assertThat(encoded).isEmpty();
            viaHttp.promptEmbeddings().compute();
            assertThat(encoded).hasSize(1);
            int patch = 200092;
            long patchTokens = java.util.Arrays.stream(viaHttp.promptTokens()).filter(id -> id == patch).count();
            assertThat(encoded.get(0)[0] * vision.tokensPerTile()).isEqualTo(patchTokens);
            assertThat(encoded.get(0)[1]).isPositive();
            assertCode(validator(fetching), request(image("http://127.0.0.1:" + server.getAddress().getPort() + "/nothing.png")),
                    "invalid_image");
        } finally {
            server.stop(0);
        }
    }

    private void assertCode(RequestValidator v, String json, String code) {
        assertThatThrownBy(() -> v.prepare(codec.decode("bad", json)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo(code));
    }
}

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

import java.io.IOException;
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

    private void assertCode(RequestValidator v, String json, String code) {
        assertThatThrownBy(() -> v.prepare(codec.decode("bad", json)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo(code));
    }
}

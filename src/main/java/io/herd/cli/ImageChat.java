package io.herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.image.ImageLimits;
import io.herd.image.ImageRejectedException;
import io.herd.image.Llama4ImageProcessor;
import io.herd.image.Llama4ImageProcessorConfig;
import io.herd.messaging.RequestCodec;
import io.herd.model.Llama4Config;
import io.herd.model.vision.ImageEmbedder;
import io.herd.model.vision.Llama4VisionConfig;
import io.herd.model.vision.Llama4VisionConfigParser;
import io.herd.model.vision.Llama4VisionWeights;
import io.herd.serving.ImagePrompts;
import io.herd.serving.RequestRejectedException;
import io.herd.serving.VisionPromptBuilder;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.SafetensorsCheckpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code generate --chat FILE} with image content parts: the messages are read by the same codec as Kafka and HTTP
 * requests (data-URL images only) and turned into ids and image features by the same prompt builder.
 */
final class ImageChat {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ImageChat() {}

    /** Whether any message of the chat file has an {@code image_url} part. */
    static boolean hasImages(Path chatFile) {
        JsonNode messages = messages(chatFile);
        for (JsonNode m : messages)
            for (JsonNode p : m.path("content")) if ("image_url".equals(p.path("type").asText())) return true;
        return false;
    }

    static ImagePrompts.Encoded encode(Path chatFile, Path modelDir, Llama4Config config, Tokenizer tokenizer,
                                       SafetensorsCheckpoint checkpoint) {
        Llama4VisionConfig vision = Llama4VisionConfigParser.parse(modelDir).orElseThrow(() ->
                new IllegalArgumentException(chatFile + " has images but " + modelDir + " has no vision_config"));
        Path preprocessor = modelDir.resolve("preprocessor_config.json");
        if (!Files.isRegularFile(preprocessor))
            throw new IllegalArgumentException(chatFile + " has images but " + modelDir + " has no preprocessor_config.json");
        var builder = new VisionPromptBuilder(tokenizer, ImageLimits.DEFAULT,
                new Llama4ImageProcessor(Llama4ImageProcessorConfig.parse(preprocessor)),
                new ImageEmbedder(Llama4VisionWeights.load(checkpoint, vision)), config.dModel());
        ObjectNode request = JSON.createObjectNode().put("id", "generate");
        request.set("messages", messages(chatFile));
        try {
            return builder.encode(new RequestCodec(JSON).decode("generate", request.toString()).messages());
        } catch (RequestRejectedException | ImageRejectedException e) {
            throw new IllegalArgumentException(chatFile + ": " + e.getMessage(), e);
        }
    }

    /** The messages array of a chat file: the file itself, or its "messages" field. */
    private static JsonNode messages(Path file) {
        try {
            JsonNode root = JSON.readTree(file.toFile());
            JsonNode messages = root != null && root.isObject() ? root.path("messages") : root;
            if (messages == null || !messages.isArray())
                throw new IllegalArgumentException(file + ": expected an array of messages");
            return messages;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the chat file: " + e.getMessage(), e);
        }
    }
}

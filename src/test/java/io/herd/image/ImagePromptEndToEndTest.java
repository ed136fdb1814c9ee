package io.herd.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.herd.model.CpuForwardPass;
import io.herd.model.KvBlockCounts;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.SingleSequence;
import io.herd.model.WeightQuantization;
import io.herd.model.vision.ImageEmbedder;
import io.herd.model.vision.Llama4VisionConfig;
import io.herd.model.vision.Llama4VisionConfigParser;
import io.herd.model.vision.Llama4VisionWeights;
import io.herd.model.vision.PatchTokenRows;
import io.herd.model.vision.VisionFixture;
import io.herd.tokenizer.Role;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Chat messages + PNG files → prompt ids (real Llama 4 tokenizer) → pixels → vision tower → logits and greedy ids,
 * against Hugging Face on the llama4-tiny-vision fixture, with nothing taken from HF's intermediate tensors.
 */
class ImagePromptEndToEndTest {
    private static Tokenizer tokenizer;

    @BeforeAll
    static void loadTokenizer() {
        tokenizer = Tokenizer.fromHuggingFace(VisionFixture.sharedDir().resolve("llama4/tokenizer.json"));
    }

    static ImagePrompt prompt(JsonNode c, Llama4VisionConfig vision) throws IOException {
        var processor = new Llama4ImageProcessor(Llama4ImageProcessorConfig.parse(VisionFixture.dir()));
        var decoder = new ImageDecoder(ImageLimits.DEFAULT);
        var encoder = new ImagePromptEncoder(tokenizer, ImageTokenLayout.of(tokenizer, vision.tokensPerTile()));
        List<ImagePromptEncoder.Message> dialog = new ArrayList<>();
        int nextImage = 0;
        for (JsonNode m : c.get("messages")) {
            List<ContentPart> parts = new ArrayList<>();
            for (JsonNode p : m.get("content")) {
                if (p.get("type").asText().equals("text")) parts.add(new ContentPart.Text(p.get("text").asText()));
                else {
                    String file = c.get("images").get(nextImage++).get("file").asText();
                    RgbImage rgb = decoder.decode(Files.readAllBytes(VisionFixture.dir().resolve(file)));
                    parts.add(new ContentPart.Image(processor.process(rgb)));
                }
            }
            dialog.add(new ImagePromptEncoder.Message(Role.parse(m.get("role").asText()), parts));
        }
        return encoder.encode(dialog);
    }

    @Test
    void messagesAndPngsGiveHuggingFacesIdsLogitsAndGreedyTokens() throws IOException {
        Llama4Config text = Llama4ConfigParser.parse(VisionFixture.dir());
        Llama4VisionConfig vision = Llama4VisionConfigParser.parse(VisionFixture.dir()).orElseThrow();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(VisionFixture.dir())) {
            Llama4Weights weights = Llama4Weights.load(ckpt, text, WeightQuantization.NONE);
            ImageEmbedder embedder = new ImageEmbedder(Llama4VisionWeights.load(ckpt, vision));
            for (String name : VisionFixture.CASES) {
                JsonNode c = VisionFixture.testCase(name);
                ImagePrompt prompt = prompt(c, vision);
                assertThat(prompt.ids()).as("%s prompt ids", name).containsExactly(VisionFixture.ints(c.get("input_ids")));
                float[] rows = embedder.embed(prompt.pixels(), prompt.tiles());
                var embeddings = PatchTokenRows.place(prompt.ids(), vision.imageTokenId(), rows, text.dModel());
                JsonNode steps = c.get("greedy");
                try (SafetensorsCheckpoint stages = VisionFixture.stages(name);
                     CpuForwardPass fp = new CpuForwardPass(weights,
                             KvBlockCounts.forSingleSequence(text, prompt.ids().length + steps.size(), 4), Precision.F32, 2)) {
                    SingleSequence seq = new SingleSequence(fp);
                    float[] logits = seq.append(prompt.ids(), 1, embeddings);
                    double diff = VisionFixture.maxAbsDiff(logits, stages.tensor("last_logits").toFloatArray());
                    System.out.printf("[end to end vs HF] %s: %d ids equal, max |last logit diff| %.2e%n", name,
                            prompt.ids().length, diff);
                    assertThat(diff).isLessThanOrEqualTo(1e-3);
                    for (int i = 0; i < steps.size(); i++) {
                        int id = SingleSequence.argmax(logits);
                        assertThat(id).as("%s greedy step %d", name, i).isEqualTo(steps.get(i).get("id").asInt());
                        if (i + 1 < steps.size()) logits = seq.decode(id);
                    }
                }
            }
        }
    }

    @Test
    void layoutOfOneTileAndOfAGrid() {
        ImageTokenLayout layout = ImageTokenLayout.of(tokenizer, 2);
        assertThat(layout.run(new TilePlan(1, 1, 112, 84, 112)))
                .containsExactly(200080, 200090, 200092, 200092, 200081);
        assertThat(layout.run(new TilePlan(1, 2, 112, 100, 200)))
                .containsExactly(200080, 200092, 200092, 200084, 200092, 200092, 200085, 200090, 200092, 200092, 200081);
    }
}

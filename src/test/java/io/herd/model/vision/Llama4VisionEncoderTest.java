package io.herd.model.vision;

import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Every stage of the vision tower and the projector against Hugging Face, from the stored pixel values. */
class Llama4VisionEncoderTest {
    /** expected.json's tolerance for the vision stages (fp32 sums in another order). */
    private static final double TOLERANCE = 1e-4;

    @Test
    void everyStageMatchesHuggingFace() {
        Llama4VisionConfig config = Llama4VisionConfigParser.parse(VisionFixture.dir()).orElseThrow();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(VisionFixture.dir())) {
            Llama4VisionWeights weights = Llama4VisionWeights.load(ckpt, config);
            Llama4VisionEncoder encoder = new Llama4VisionEncoder(weights);
            PixelShuffleAdapter adapter = new PixelShuffleAdapter(weights);
            MultiModalProjector projector = new MultiModalProjector(weights);
            ImageEmbedder embedder = new ImageEmbedder(weights);
            for (String name : VisionFixture.CASES) {
                try (SafetensorsCheckpoint stages = VisionFixture.stages(name)) {
                    float[] pixels = stages.tensor("pixel_values").toFloatArray();
                    int nTiles = (int) stages.tensor("pixel_values").shape()[0];
                    float[] patchEmbeds = encoder.embedPatches(pixels, nTiles);
                    check(name, "patch_embeds", patchEmbeds, stages);
                    // Each later stage starts from HF's previous one, so a failure names the stage that differs.
                    check(name, "encoder_input", encoder.encoderInput(stages.tensor("patch_embeds").toFloatArray(), nTiles), stages);
                    check(name, "encoder_output", encoder.encodeLayers(stages.tensor("encoder_input").toFloatArray(), nTiles), stages);
                    check(name, "pixel_shuffled", adapter.pixelShuffle(stages.tensor("encoder_output").toFloatArray(), nTiles), stages);
                    check(name, "vision_features", adapter.adapt(stages.tensor("pixel_shuffled").toFloatArray(), nTiles), stages);
                    check(name, "projected_features", projector.project(stages.tensor("vision_features").toFloatArray(),
                            nTiles * config.tokensPerTile()), stages);
                    check(name, "projected_features (end to end)", embedder.embed(pixels, nTiles), stages);
                }
            }
        }
    }

    private static void check(String caseName, String stage, float[] actual, SafetensorsCheckpoint stages) {
        String tensor = stage.split(" ")[0];
        double diff = VisionFixture.maxAbsDiff(actual, stages.tensor(tensor).toFloatArray());
        System.out.printf("[vision vs HF] %s %s: max |diff| %.2e%n", caseName, stage, diff);
        assertThat(diff).as("%s %s max |diff|", caseName, stage).isLessThanOrEqualTo(TOLERANCE);
    }
}

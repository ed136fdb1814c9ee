package io.herd.model.vision;

import com.fasterxml.jackson.databind.JsonNode;
import io.herd.model.CpuForwardPass;
import io.herd.model.KvBlockCounts;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.SingleSequence;
import io.herd.model.WeightQuantization;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Prompt ids + HF's pixel values → vision tower → patch rows → the CPU text forward pass, against HF's last logits
 * (f32, within 1e-3) and greedy continuation; in one prefill and chunked across the image's tokens.
 */
class ImagePromptFidelityTest {
    private static final double LOGITS_TOLERANCE = 1e-3;

    @Test
    void logitsAndGreedyIdsMatchHuggingFace() {
        JsonNode expected = VisionFixture.expected();
        Llama4Config text = Llama4ConfigParser.parse(VisionFixture.dir());
        Llama4VisionConfig vision = Llama4VisionConfigParser.parse(VisionFixture.dir()).orElseThrow();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(VisionFixture.dir())) {
            Llama4Weights weights = Llama4Weights.load(ckpt, text, WeightQuantization.NONE);
            ImageEmbedder embedder = new ImageEmbedder(Llama4VisionWeights.load(ckpt, vision));
            for (String name : VisionFixture.CASES) {
                JsonNode c = VisionFixture.testCase(name);
                int[] ids = VisionFixture.ints(c.get("input_ids"));
                float[] hfLogits;
                float[] rows;
                try (SafetensorsCheckpoint stages = VisionFixture.stages(name)) {
                    hfLogits = stages.tensor("last_logits").toFloatArray();
                    var pv = stages.tensor("pixel_values");
                    rows = embedder.embed(pv.toFloatArray(), (int) pv.shape()[0]);
                }
                var embeddings = PatchTokenRows.place(ids, vision.imageTokenId(), rows, text.dModel());
                JsonNode steps = c.get("greedy");
                int[] greedy = new int[steps.size()];
                for (int i = 0; i < greedy.length; i++) greedy[i] = steps.get(i).get("id").asInt();
                try (CpuForwardPass fp = new CpuForwardPass(weights,
                        KvBlockCounts.forSingleSequence(text, ids.length + greedy.length, 4), Precision.F32, 2)) {
                    // Whole prompt in one call, then greedy decoding through the paged cache.
                    SingleSequence seq = new SingleSequence(fp);
                    float[] logits = seq.append(ids, 1, embeddings);
                    double diff = VisionFixture.maxAbsDiff(logits, hfLogits);
                    System.out.printf("[image prompt vs HF] %s: %d tokens, max |last logit diff| %.2e%n", name, ids.length, diff);
                    assertThat(diff).as("%s last logits", name).isLessThanOrEqualTo(LOGITS_TOLERANCE);
                    assertThat(decode(seq, logits, greedy.length)).as("%s greedy ids", name).containsExactly(greedy);

                    // Chunked prefill: pieces of 7 tokens cut across the image runs.
                    seq.reset();
                    float[] last = null;
                    for (int from = 0; from < ids.length; from += 7) {
                        int to = Math.min(ids.length, from + 7);
                        last = seq.append(Arrays.copyOfRange(ids, from, to), 1, embeddings.slice(from, to, text.dModel()));
                    }
                    double chunkedDiff = VisionFixture.maxAbsDiff(last, hfLogits);
                    System.out.printf("[image prompt vs HF] %s chunked by 7: max |last logit diff| %.2e%n", name, chunkedDiff);
                    assertThat(chunkedDiff).as("%s chunked last logits", name).isLessThanOrEqualTo(LOGITS_TOLERANCE);
                }
            }
        }
    }

    @Test
    void theImageMovesTheLogits() {
        // Without the patch rows (plain <|patch|> embeddings) the logits differ far beyond the tolerance, so the
        // comparison above does check the image path.
        JsonNode c = VisionFixture.testCase("single-tile");
        int[] ids = VisionFixture.ints(c.get("input_ids"));
        Llama4Config text = Llama4ConfigParser.parse(VisionFixture.dir());
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(VisionFixture.dir());
             SafetensorsCheckpoint stages = VisionFixture.stages("single-tile");
             CpuForwardPass fp = new CpuForwardPass(Llama4Weights.load(ckpt, text, WeightQuantization.NONE),
                     KvBlockCounts.forSingleSequence(text, ids.length, 4), Precision.F32, 2)) {
            float[] logits = new SingleSequence(fp).append(ids, 1);
            assertThat(VisionFixture.maxAbsDiff(logits, stages.tensor("last_logits").toFloatArray())).isGreaterThan(0.01);
        }
    }

    private static int[] decode(SingleSequence seq, float[] logits, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = SingleSequence.argmax(logits);
            if (i + 1 < n) logits = seq.decode(out[i]);
        }
        return out;
    }
}

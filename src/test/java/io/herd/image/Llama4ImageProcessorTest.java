package io.herd.image;

import com.fasterxml.jackson.databind.JsonNode;
import io.herd.model.vision.VisionFixture;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PNG files → pixel values, against Hugging Face's processor on the llama4-tiny-vision fixture. Tolerance: none;
 * every value is one of 256 bfloat16 results per channel and the resampler is reproduced in its fixed-point
 * arithmetic, so the values must be identical.
 */
class Llama4ImageProcessorTest {
    private final Llama4ImageProcessor processor =
            new Llama4ImageProcessor(Llama4ImageProcessorConfig.parse(VisionFixture.dir()));
    private final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);

    @Test
    void configAndCandidateGridsAreTheProcessors() {
        assertThat(processor.config().tileSize()).isEqualTo(112);
        assertThat(processor.config().maxPatches()).isEqualTo(16);
        JsonNode expected = VisionFixture.expected().get("preprocessing").get("supported_canvases_in_tiles");
        List<int[]> grids = TilePlanner.supportedGrids(16);
        assertThat(grids).hasSize(expected.size());
        for (int i = 0; i < grids.size(); i++)
            assertThat(grids.get(i)).as("candidate %d", i).containsExactly(expected.get(i).get(0).asInt(), expected.get(i).get(1).asInt());
    }

    @Test
    void normalisationTableIsTheProcessors() {
        JsonNode lut = VisionFixture.expected().get("preprocessing").get("normalize_lut");
        for (int v = 0; v < 256; v++)
            for (int c = 0; c < 3; c++)
                assertThat(processor.normalize(v, c)).as("v=%d c=%d", v, c).isEqualTo((float) lut.get(v).asDouble());
    }

    @Test
    void decodedPlannedAndTiledExactlyAsHuggingFace() throws Exception {
        for (String name : VisionFixture.CASES) {
            JsonNode c = VisionFixture.testCase(name);
            float[] pixels = new float[0];
            for (JsonNode img : c.get("images")) {
                byte[] png = Files.readAllBytes(VisionFixture.dir().resolve(img.get("file").asText()));
                RgbImage rgb = decoder.decode(png);
                assertThat(rgb.width()).isEqualTo(img.get("width").asInt());
                assertThat(rgb.height()).isEqualTo(img.get("height").asInt());
                assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(rgb.rgb())))
                        .as("%s decoded RGB", img.get("file").asText()).isEqualTo(img.get("rgb_sha256").asText());
                TilePlan plan = processor.plan(rgb);
                assertThat(new int[] {plan.rows(), plan.cols()}).containsExactly(VisionFixture.ints(img.get("grid")));
                assertThat(new int[] {plan.canvasHeight(), plan.canvasWidth()}).containsExactly(VisionFixture.ints(img.get("canvas")));
                assertThat(new int[] {plan.resizedHeight(), plan.resizedWidth()}).containsExactly(VisionFixture.ints(img.get("resized")));
                assertThat(plan.hasGlobalTile()).isEqualTo(img.get("global_tile").asBoolean());
                assertThat(plan.tiles()).isEqualTo(img.get("tiles").asInt());
                float[] p = processor.process(rgb).pixels();
                float[] joined = java.util.Arrays.copyOf(pixels, pixels.length + p.length);
                System.arraycopy(p, 0, joined, pixels.length, p.length);
                pixels = joined;
            }
            try (SafetensorsCheckpoint stages = VisionFixture.stages(name)) {
                float[] hf = stages.tensor("pixel_values").toFloatArray();
                int differing = 0;
                for (int i = 0; i < hf.length; i++) if (Float.compare(hf[i], pixels[i]) != 0) differing++;
                System.out.printf("[pixels vs HF] %s: %d values, %d differ%n", name, hf.length, differing);
                assertThat(pixels).as("%s pixel_values", name).hasSameSizeAs(hf);
                assertThat(differing).as("%s differing pixel values", name).isZero();
            }
        }
    }

    @Test
    void smallImagesAreEnlargedUntilOneSideReachesATileAndLargeOnesShrunk() {
        TilePlanner planner = new TilePlanner(processor.config());
        TilePlan tiny = planner.plan(10, 20);
        assertThat(new int[] {tiny.rows(), tiny.cols(), tiny.resizedHeight(), tiny.resizedWidth()}).containsExactly(1, 1, 56, 112);
        TilePlan huge = planner.plan(4000, 4000);
        assertThat(new int[] {huge.rows(), huge.cols(), huge.resizedHeight(), huge.resizedWidth()}).containsExactly(4, 4, 448, 448);
        assertThat(huge.tiles()).isEqualTo(17);
        TilePlan tall = planner.plan(10000, 50);
        assertThat(tall.rows() * tall.cols()).isLessThanOrEqualTo(16);
    }
}

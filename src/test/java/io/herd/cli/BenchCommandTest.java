package io.herd.cli;

import io.herd.model.Llama4Config;
import io.herd.model.WeightQuantization;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BenchCommandTest {
    private static String tinyScout() {
        Path shared = Path.of(System.getProperty("herd.shared.dir", "../shared"));
        return shared.resolve("fixtures/llama4-tiny-scout/config.json").toString();
    }

    @Test
    void parsesOptionsAndRejectsBadOnes() {
        var o = BenchCommand.Options.parse(new String[]{"--shape", "scout", "--layers", "2", "--quant", "q8", "--batch", "4", "--json"});
        assertThat(o.layers()).isEqualTo(2);
        assertThat(o.quant()).isEqualTo(WeightQuantization.Q8);
        assertThat(o.batch()).isEqualTo(4);
        assertThat(o.json()).isTrue();
        assertThatThrownBy(() -> BenchCommand.Options.parse(new String[]{"--layers", "2"})).hasMessageContaining("--shape is required");
        assertThatThrownBy(() -> BenchCommand.Options.parse(new String[]{"--shape", "scout", "--batch", "0"})).hasMessageContaining("--batch must be positive");
        assertThatThrownBy(() -> BenchCommand.Options.parse(new String[]{"--shape", "scout", "--frobnicate"})).hasMessageContaining("unknown option");
    }

    @Test
    void warmUpDecodesAfterItsPrefillWhateverThePromptLength() {
        // The default run (128-token prompt, 32 tokens) and one longer than the warm-up prefill both warm decode up.
        assertThat(BenchCommand.warmUpDecodeSteps(128, 32)).isEqualTo(BenchCommand.WARM_UP_DECODE_STEPS);
        assertThat(BenchCommand.warmUpDecodeSteps(4096, 2)).isEqualTo(BenchCommand.WARM_UP_DECODE_STEPS);
        // Only as many steps as the cache sized for the timed run holds after the warm-up prompt.
        assertThat(BenchCommand.warmUpDecodeSteps(16, 3)).isEqualTo(3);
    }

    @Test
    void cutsRealConfigsToTheRequestedLayersAndKnowsTheirSize() {
        Llama4Config scout = BenchCommand.config("scout", 2);
        assertThat(scout.nLayers()).isEqualTo(2);
        assertThat(scout.dModel()).isEqualTo(5120);
        assertThat(scout.vocabSize()).isEqualTo(202048);
        assertThat(scout.isMoeLayer(0) && scout.isMoeLayer(1)).isTrue();
        Llama4Config maverick = BenchCommand.config("maverick", 4);
        assertThat(maverick.isMoeLayer(0)).isNotEqualTo(maverick.isMoeLayer(1)); // every other layer is MoE
        // Scout, 2 layers, BF16: embedding + lm_head 2·202048·5120 and per layer attention, router, 16 experts, shared.
        long d = 5120, perLayer = d * (2 * 5120 + 2 * 1024) + 16 * d + 3L * 16 * 8192 * d + 3L * 8192 * d;
        assertThat(RandomWeights.residentBytes(scout, WeightQuantization.NONE, 0)).isEqualTo(2 * (2 * 202048 * d + 2 * perLayer));
        assertThatThrownBy(() -> BenchCommand.config("scout", 49)).hasMessageContaining("exceeds the 48 layers");
    }

    /**
     * On the tiny Scout-shaped config the counted bytes of one decoded token must be exactly what top-1 routing
     * reads: an embedding row, each layer's attention, router, one expert and the shared expert, and lm_head.
     */
    @Test
    void countsTheWeightBytesADecodedTokenReads() {
        var o = BenchCommand.Options.parse(new String[]{"--shape", tinyScout(), "--prompt-len", "5", "--gen-len", "3",
                "--bandwidth-mb", "16"});
        Map<String, Object> r = BenchCommand.runModel(o);
        Llama4Config c = BenchCommand.config(tinyScout(), null);
        long d = c.dModel(), bytes = 2 * d + 2 * c.vocabSize() * d;
        for (int i = 0; i < c.nLayers(); i++) {
            bytes += 2 * d * (2L * c.qDim() + 2L * c.kvDim());
            bytes += c.isMoeLayer(i) ? 2 * (c.nExperts() * d + 3L * c.dFf() * d + 3L * c.dFf() * d) : 2 * 3L * c.dFfMlp() * d;
        }
        assertThat(r.get("weightBytesPerDecodedToken")).isEqualTo(bytes);
        assertThat((Double) r.get("decodeTokensPerSecond")).isPositive();
        assertThat((Long) r.get("rssBytes")).isPositive();
    }

    /** Prefill is reported as the work its matmuls did over their time, against the FMA peak measured in the run. */
    @Test
    void reportsPrefillWorkAgainstTheMeasuredPeak() {
        var o = BenchCommand.Options.parse(new String[]{"--shape", tinyScout(), "--prompt-len", "48", "--gen-len", "2",
                "--bandwidth-mb", "16"});
        Map<String, Object> r = BenchCommand.runModel(o);
        Llama4Config c = BenchCommand.config(tinyScout(), null);
        // At the least every layer's attention for all 48 tokens and lm_head for one: 2 flops per multiply-add.
        double attention = 0;
        for (int i = 0; i < c.nLayers(); i++) attention += 2.0 * c.dModel() * (2L * c.qDim() + 2L * c.kvDim());
        double minimum = 48 * attention + 2.0 * c.vocabSize() * c.dModel();
        assertThat(((Number) r.get("prefillMatmulFlops")).doubleValue()).isGreaterThan(minimum);
        assertThat((Double) r.get("prefillMatmulFractionOfTime")).isBetween(0.0, 1.0);
        assertThat((Double) r.get("fmaPeakGflops")).isGreaterThan(1.0);
        assertThat((Double) r.get("prefillMatmulFractionOfPeak"))
                .isCloseTo((Double) r.get("prefillMatmulGflops") / (Double) r.get("fmaPeakGflops"), org.assertj.core.data.Offset.offset(0.01));
        // A tiny model's prefill reads a few megabytes: its bandwidth share rounds to zero, but it is reported.
        assertThat((Double) r.get("prefillFractionOfBandwidth")).isNotNegative();
        assertThat((Double) r.get("prefillWeightGBps")).isNotNegative();
    }

    /**
     * With --profile every decode matmul is listed by shape and token count, and the rows add up to the totals:
     * lm_head runs once per decoded token, and the listed bytes sum to what the tokens read.
     */
    @Test
    void profilesDecodeMatmulsByShape() {
        var o = BenchCommand.Options.parse(new String[]{"--shape", tinyScout(), "--prompt-len", "5", "--gen-len", "3",
                "--bandwidth-mb", "16", "--profile"});
        assertThat(o.profile()).isTrue();
        Map<String, Object> r = BenchCommand.runModel(o);
        Llama4Config c = BenchCommand.config(tinyScout(), null);
        @SuppressWarnings("unchecked")
        var decode = (java.util.List<Map<String, Object>>) r.get("decodeMatmuls");
        assertThat(decode).allSatisfy(row -> assertThat(row.get("tokens")).isEqualTo(1));
        assertThat(decode).filteredOn(row -> row.get("matrix").equals(c.vocabSize() + "x" + c.dModel()))
                .singleElement().satisfies(row -> assertThat(row.get("calls")).isEqualTo(3L));
        long calls = decode.stream().mapToLong(row -> (Long) row.get("calls")).sum();
        // per token: q, k, v, o per layer; router, expert gate-up and down, shared gate, up, down per MoE layer
        long perToken = 1;
        for (int i = 0; i < c.nLayers(); i++) perToken += 4 + (c.isMoeLayer(i) ? 6 : 3);
        assertThat(calls).isEqualTo(3 * perToken);
        @SuppressWarnings("unchecked")
        var prefill = (java.util.List<Map<String, Object>>) r.get("prefillMatmuls");
        assertThat(prefill).anySatisfy(row -> assertThat(row.get("tokens")).isEqualTo(5));
        assertThat(BenchCommand.runModel(BenchCommand.Options.parse(new String[]{"--shape", tinyScout(),
                "--prompt-len", "5", "--gen-len", "1", "--bandwidth-mb", "16"}))).doesNotContainKey("decodeMatmuls");
    }

    /**
     * The vision tower of a config's vision_config encodes random tiles: its matmuls do at least every layer's
     * q, k, v, o and MLP for every token of every tile, and the time is reported per tile.
     */
    @Test
    void reportsImageEncodeTimePerTile() {
        String config = io.herd.model.vision.VisionFixture.dir().resolve("config.json").toString();
        var o = BenchCommand.Options.parse(new String[]{"--shape", config, "--prompt-len", "4", "--gen-len", "1",
                "--bandwidth-mb", "16", "--vision-tiles", "2"});
        Map<String, Object> r = BenchCommand.runModel(o);
        var v = io.herd.model.vision.Llama4VisionConfigParser.parse(java.nio.file.Path.of(config)).orElseThrow();
        long h = v.hiddenSize(), tokens = 2L * (v.patchesPerTile() + 1);
        double minimum = 2.0 * tokens * v.nLayers() * (4 * h * h + 2 * h * v.intermediateSize());
        assertThat(((Number) r.get("visionMatmulFlops")).doubleValue()).isGreaterThan(minimum);
        assertThat(r.get("visionTiles")).isEqualTo(2);
        assertThat(r.get("visionTokensPerTile")).isEqualTo(v.tokensPerTile());
        assertThat((Double) r.get("visionEncodeSecondsPerTile")).isPositive()
                .isCloseTo((Double) r.get("visionEncodeSeconds") / 2, org.assertj.core.data.Offset.offset(0.002));
        assertThat(BenchCommand.Options.parse(new String[]{"--shape", "scout"}).visionTiles()).isEqualTo(1);
        assertThat(BenchCommand.Options.parse(new String[]{"--shape", config}).visionTiles()).isZero();
        assertThat(BenchCommand.visionConfig(BenchCommand.Options.parse(new String[]{"--shape", "scout",
                "--vision-layers", "3"}))).satisfies(c -> {
                    assertThat(c.nLayers()).isEqualTo(3);
                    assertThat(c.hiddenSize()).isEqualTo(1408);
                    assertThat(c.tokensPerTile()).isEqualTo(144);
                });
    }
}

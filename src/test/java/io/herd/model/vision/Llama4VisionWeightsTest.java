package io.herd.model.vision;

import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.WeightQuantization;
import io.herd.weights.CheckpointFormatException;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Llama4VisionWeightsTest {
    @Test
    void loadsVisionAndTextWeightsFromTheShardedConditionalGenerationCheckpoint() {
        Llama4VisionConfig config = Llama4VisionConfigParser.parse(VisionFixture.dir()).orElseThrow();
        assertThat(config.hiddenSize()).isEqualTo(32);
        assertThat(config.tokensPerTile()).isEqualTo(16);
        assertThat(config.patchElements()).isEqualTo(588);
        assertThat(config.textHiddenSize()).isEqualTo(16);
        assertThat(config.imageTokenId()).isEqualTo(200092);
        Llama4Config text = Llama4ConfigParser.parse(VisionFixture.dir());
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(VisionFixture.dir())) {
            assertThat(Llama4VisionWeights.present(ckpt)).isTrue();
            Llama4VisionWeights w = Llama4VisionWeights.load(ckpt, config);
            assertThat(w.layers()).hasSize(2);
            assertThat(w.positions()).hasSize(65 * 32);
            assertThat(w.projector().nOut()).isEqualTo(16);
            assertThat(w.projector().nIn()).isEqualTo(48);
            // bf16 storage is upcast exactly: the class embedding equals the raw tensor's values.
            assertThat(w.classEmbedding()[3]).isEqualTo(ckpt.tensor("vision_model.class_embedding").getFloat(3));
            Llama4Weights textWeights = Llama4Weights.load(ckpt, text, WeightQuantization.NONE);
            assertThat(textWeights.layers()).hasSize(4);
        }
    }

    @Test
    void textOnlyCheckpointsHaveNoVisionPart() {
        var dir = VisionFixture.sharedDir().resolve("fixtures/llama4-tiny-scout");
        assertThat(Llama4VisionConfigParser.parse(dir)).isEmpty();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            assertThat(Llama4VisionWeights.present(ckpt)).isFalse();
        }
    }

    @Test
    void wrongShapesAndUnsupportedSettingsAreRefusedByName() {
        Llama4VisionConfig config = Llama4VisionConfigParser.parse(VisionFixture.dir()).orElseThrow();
        Llama4VisionConfig wider = new Llama4VisionConfig(64, 2, 2, 256, 112, 14, 0.5f, 48, 10000, 16, 200092);
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(VisionFixture.dir())) {
            assertThatThrownBy(() -> Llama4VisionWeights.load(ckpt, wider))
                    .isInstanceOf(CheckpointFormatException.class).hasMessageContaining("vision_model.");
        }
        assertThat(config.nLayers()).isEqualTo(2);
        String base = "{\"text_config\":{\"hidden_size\":16},\"vision_config\":{\"hidden_size\":32,\"num_hidden_layers\":1,"
                + "\"num_attention_heads\":2,\"intermediate_size\":128,\"image_size\":112,\"patch_size\":14,"
                + "\"vision_output_dim\":48,\"projector_input_dim\":48,\"projector_output_dim\":48%s}}";
        assertThat(Llama4VisionConfigParser.parse(base.formatted(""), "c")).isPresent();
        assertThatThrownBy(() -> Llama4VisionConfigParser.parse(base.formatted(",\"hidden_act\":\"relu\""), "c"))
                .hasMessageContaining("hidden_act");
        assertThatThrownBy(() -> Llama4VisionConfigParser.parse(base.formatted(",\"vision_feature_layer\":-2"), "c"))
                .hasMessageContaining("vision_feature_layer");
        assertThatThrownBy(() -> Llama4VisionConfigParser.parse(base.formatted(",\"projector_output_dim\":64"), "c"))
                .hasMessageContaining("projector_input_dim");
        assertThatThrownBy(() -> Llama4VisionConfigParser.parse(base.formatted(",\"pixel_shuffle_ratio\":0.25"), "c"))
                .hasMessageContaining("pixel_shuffle_ratio");
        assertThatThrownBy(() -> Llama4VisionConfigParser.parse(base.formatted(",\"multi_modal_projector_bias\":true"), "c"))
                .hasMessageContaining("multi_modal_projector_bias");
    }
}

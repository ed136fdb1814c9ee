package io.herd.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Llama4ConfigParserTest {

    private static boolean[] flags(String bits) {
        boolean[] b = new boolean[bits.length()];
        for (int i = 0; i < b.length; i++) b[i] = bits.charAt(i) == '1';
        return b;
    }

    @Test
    void flatScoutFixture() {
        Llama4Config c = Llama4ConfigParser.parse(Fixtures.modelDir("llama4-tiny-scout"));
        assertThat(c.dModel()).isEqualTo(64);
        assertThat(c.nLayers()).isEqualTo(8);
        assertThat(c.nHeads()).isEqualTo(4);
        assertThat(c.nKvHeads()).isEqualTo(2);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.dFf()).isEqualTo(32);
        assertThat(c.dFfMlp()).isEqualTo(48);
        assertThat(c.nExperts()).isEqualTo(4);
        assertThat(c.nExpertsPerTok()).isEqualTo(1);
        assertThat(c.moeLayers()).containsExactly(flags("11111111"));
        // no_rope_layers: [] → derived with interval 4: layers 3 and 7 are NoPE.
        assertThat(c.ropeLayers()).containsExactly(flags("11101110"));
        assertThat(c.useQkNorm()).isTrue();
        assertThat(c.attentionChunkSize()).isEqualTo(8);
        assertThat(c.attnTemperatureTuning()).isTrue();
        assertThat(c.floorScale()).isEqualTo(4f);
        assertThat(c.attnScale()).isEqualTo(0.1f);
        assertThat(c.ropeTheta()).isEqualTo(500000f);
        assertThat(c.ropeScaling()).isEqualTo(new Llama4Config.RopeScaling(16f, 1f, 1f, 8192));
        assertThat(c.vocabSize()).isEqualTo(512);
        assertThat(c.eosTokenIds()).containsExactly(2);
        assertThat(c.bosTokenId()).isEqualTo(1);
    }

    @Test
    void nestedMaverickFixture() {
        Llama4Config c = Llama4ConfigParser.parse(Fixtures.modelDir("llama4-tiny-maverick").resolve("config.json"));
        assertThat(c.nExperts()).isEqualTo(8);
        assertThat(c.dFfMlp()).isEqualTo(96);
        // interleave_moe_layer_step 2 → odd layers MoE.
        assertThat(c.moeLayers()).containsExactly(flags("01010101"));
        assertThat(c.ropeLayers()).containsExactly(flags("11101110"));
        assertThat(c.useQkNorm()).isFalse();
        assertThat(c.ropeScaling()).isNull();
        assertThat(c.padTokenId()).isEqualTo(0);
    }

    @Test
    void publishedScoutAndMaverickSchedules() {
        Llama4Config scout = Llama4Config.scout(), maverick = Llama4Config.maverick();
        assertThat(scout.nNopeLayers()).isEqualTo(12);
        for (int i = 0; i < 48; i++) {
            assertThat(scout.isRopeLayer(i)).isEqualTo(i % 4 != 3);
            assertThat(scout.isMoeLayer(i)).isTrue();
            assertThat(maverick.isMoeLayer(i)).isEqualTo(i % 2 == 1);
        }
    }

    private static final String BASE = """
            "hidden_size": 32, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
            "intermediate_size": 16, "intermediate_size_mlp": 24, "num_local_experts": 4, "vocab_size": 100
            """;

    private static Llama4Config parse(String extra) {
        return Llama4ConfigParser.parse("{" + BASE + (extra.isEmpty() ? "" : ", " + extra) + "}", "test-config.json");
    }

    @Test
    void defaultsFollowHuggingFace() {
        Llama4Config c = parse("");
        assertThat(c.headDim()).isEqualTo(8);                         // hidden_size / num_attention_heads
        assertThat(c.moeLayers()).containsExactly(flags("1111"));     // step 1
        assertThat(c.ropeLayers()).containsExactly(flags("1110"));    // interval 4
        assertThat(c.attnTemperatureTuning()).isTrue();
        assertThat(c.useQkNorm()).isTrue();
        assertThat(c.ropeScaling()).isNull();
        assertThat(c.ropeTheta()).isEqualTo(500000f);
        assertThat(c.rmsNormEps()).isEqualTo(1e-5f);
        assertThat(c.nExpertsPerTok()).isEqualTo(1);
    }

    @Test
    void explicitHeadDimWins() {
        assertThat(parse("\"head_dim\": 16").headDim()).isEqualTo(16);
    }

    @Test
    void ropeParametersFormWithThetaInside() {
        Llama4Config c = parse("""
                "rope_parameters": {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}""");
        assertThat(c.ropeTheta()).isEqualTo(10000f);
        assertThat(c.ropeScaling()).isEqualTo(new Llama4Config.RopeScaling(8f, 1f, 4f, 8192));
        Llama4Config plain = parse("\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 250000.0}");
        assertThat(plain.ropeScaling()).isNull();
        assertThat(plain.ropeTheta()).isEqualTo(250000f);
        assertThat(parse("\"rope_scaling\": null").ropeScaling()).isNull();
    }

    @Test
    void unsupportedRopeTypeIsNamed() {
        assertThatThrownBy(() -> parse("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("test-config.json").hasMessageContaining("rope_scaling").hasMessageContaining("yarn");
    }

    @Test
    void explicitNoRopeLayersMeanOneIsRope() {
        assertThat(parse("\"no_rope_layers\": [0, 1, 1, 0]").ropeLayers()).containsExactly(flags("0110"));
        assertThat(parse("\"no_rope_layers\": [], \"no_rope_layer_interval\": 2").ropeLayers()).containsExactly(flags("1010"));
        // layer_types agreeing with the RoPE schedule (explicit or derived) is accepted.
        assertThat(parse("\"layer_types\": [\"chunked_attention\", \"chunked_attention\", \"chunked_attention\", \"full_attention\"]")
                .ropeLayers()).containsExactly(flags("1110"));
        assertThat(parse("\"no_rope_layers\": [0, 1, 1, 0], \"layer_types\": [\"full_attention\", \"chunked_attention\", "
                + "\"chunked_attention\", \"full_attention\"]").ropeLayers()).containsExactly(flags("0110"));
        assertThatThrownBy(() -> parse("\"no_rope_layers\": [1, 1, 0]"))
                .hasMessageContaining("no_rope_layers").hasMessageContaining("3 entries");
    }

    @Test
    void moeLayersListOrStep() {
        assertThat(parse("\"moe_layers\": [0, 3]").moeLayers()).containsExactly(flags("1001"));
        assertThat(parse("\"interleave_moe_layer_step\": 2").moeLayers()).containsExactly(flags("0101"));
        assertThat(parse("\"moe_layers\": null, \"interleave_moe_layer_step\": 4").moeLayers()).containsExactly(flags("0001"));
        assertThatThrownBy(() -> parse("\"moe_layers\": [4]")).hasMessageContaining("moe_layers").hasMessageContaining("0..3");
    }

    @Test
    void temperatureTuningAsIntOrBool() {
        assertThat(parse("\"attn_temperature_tuning\": 4").attnTemperatureTuning()).isTrue();
        assertThat(parse("\"attn_temperature_tuning\": 0").attnTemperatureTuning()).isFalse();
        assertThat(parse("\"attn_temperature_tuning\": false").attnTemperatureTuning()).isFalse();
        assertThatThrownBy(() -> parse("\"attn_temperature_tuning\": \"yes\"")).hasMessageContaining("attn_temperature_tuning");
    }

    @Test
    void eosAsIntOrList() {
        assertThat(parse("\"eos_token_id\": 7").eosTokenIds()).containsExactly(7);
        assertThat(parse("\"eos_token_id\": [200001, 200007, 200008]").eosTokenIds()).containsExactly(200001, 200007, 200008);
    }

    @Test
    void badFieldsAreNamed() {
        assertThatThrownBy(() -> Llama4ConfigParser.parse("{\"num_hidden_layers\": 2}", "cfg.json"))
                .hasMessageContaining("cfg.json").hasMessageContaining("hidden_size").hasMessageContaining("missing");
        assertThatThrownBy(() -> parse("\"num_key_value_heads\": 3")).hasMessageContaining("num_key_value_heads");
        assertThatThrownBy(() -> parse("\"num_experts_per_tok\": 5")).hasMessageContaining("num_experts_per_tok");
        assertThatThrownBy(() -> parse("\"hidden_act\": \"gelu\"")).hasMessageContaining("hidden_act");
        assertThatThrownBy(() -> Llama4ConfigParser.parse("[1]", "cfg.json")).hasMessageContaining("cfg.json");
    }

    /**
     * HF 5.18 takes RoPE/NoPE from no_rope_layers (or the interval when absent) and only the mask from layer_types: a
     * file with layer_types alone that departs from the interval schedule would run RoPE layers with a global mask,
     * which Herd cannot, so it is refused by name (an earlier version read the RoPE schedule from layer_types).
     */
    @Test
    void layerTypesDisagreeingWithTheRopeScheduleIsRefused() {
        assertThatThrownBy(() -> parse("\"layer_types\": [\"full_attention\", \"chunked_attention\", \"chunked_attention\", "
                + "\"full_attention\"]"))
                .hasMessageContaining("test-config.json").hasMessageContaining("layer_types").hasMessageContaining("layer 0")
                .hasMessageContaining("no_rope_layer_interval");
        assertThatThrownBy(() -> parse("\"no_rope_layers\": [1, 1, 1, 1], \"layer_types\": [\"chunked_attention\", "
                + "\"chunked_attention\", \"chunked_attention\", \"full_attention\"]"))
                .hasMessageContaining("layer 3");
        assertThatThrownBy(() -> parse("\"layer_types\": [\"sliding_attention\", \"chunked_attention\", \"chunked_attention\", "
                + "\"full_attention\"]")).hasMessageContaining("sliding_attention");
    }

    @Test
    void tiedEmbeddingsFlagReadFromTextConfigFirst() {
        assertThat(parse("").tieWordEmbeddings()).isFalse();
        assertThat(parse("\"tie_word_embeddings\": true").tieWordEmbeddings()).isTrue();
        // HF 5.x obeys text_config's flag for the nested layout, whatever the top level says.
        String nested = "{\"tie_word_embeddings\": %s, \"text_config\": {" + BASE + ", \"tie_word_embeddings\": %s}}";
        assertThat(Llama4ConfigParser.parse(nested.formatted("true", "false"), "n.json").tieWordEmbeddings()).isFalse();
        assertThat(Llama4ConfigParser.parse(nested.formatted("false", "true"), "n.json").tieWordEmbeddings()).isTrue();
    }

    /** The config.json files transformers 5.18 writes (rope_parameters with theta inside, layer_types, no_rope_layers). */
    @Test
    void huggingFaceWrittenCases() {
        Llama4Config dense = Llama4ConfigParser.parse(Fixtures.modelDir("hf-cases/chunk4-dense-llama3"));
        assertThat(dense.ropeTheta()).isEqualTo(10000f);
        assertThat(dense.ropeScaling()).isEqualTo(new Llama4Config.RopeScaling(8f, 1f, 4f, 64));
        assertThat(dense.moeLayers()).containsExactly(flags("0101"));
        assertThat(dense.attentionChunkSize()).isEqualTo(4);
        assertThat(dense.nKvHeads()).isEqualTo(dense.nHeads());
        assertThat(dense.headDim()).isEqualTo(12);

        Llama4Config top2 = Llama4ConfigParser.parse(Fixtures.modelDir("hf-cases/top2-16experts-3shards"));
        assertThat(top2.nExperts()).isEqualTo(16);
        assertThat(top2.nExpertsPerTok()).isEqualTo(2);
        assertThat(top2.ropeLayers()).containsExactly(flags("110"));

        Llama4Config f16 = Llama4ConfigParser.parse(Fixtures.modelDir("hf-cases/f16-noqknorm-temperature"));
        assertThat(f16.useQkNorm()).isFalse();
        assertThat(f16.attnTemperatureTuning()).isTrue();
        assertThat(f16.floorScale()).isEqualTo(2f);
        assertThat(f16.attnScale()).isEqualTo(0.5f);
        assertThat(f16.ropeScaling()).isNull();
        assertThat(f16.groupSize()).isEqualTo(4);

        assertThat(Llama4ConfigParser.parse(Fixtures.modelDir("hf-cases/tied-embeddings")).tieWordEmbeddings()).isTrue();
    }
}

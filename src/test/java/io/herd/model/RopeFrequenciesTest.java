package io.herd.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

class RopeFrequenciesTest {

    /** PyTorch's fp32 tables (SPEC §12, rope_inv_freq.json); Math.pow may differ by one ulp. */
    @Test
    void matchesPyTorchTablesForScoutAndMaverick() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Fixtures.sharedDir().resolve("llama4/rope_inv_freq.json").toFile());
        check(root.get("float32_hex_scout"), RopeFrequencies.inverseFrequencies(128, 500000f, Llama4Config.scout().ropeScaling()));
        check(root.get("float32_hex_maverick"), RopeFrequencies.inverseFrequencies(128, 500000f, null));
    }

    private static void check(JsonNode hex, float[] actual) {
        assertThat(actual).hasSize(hex.size());
        int exact = 0;
        for (int j = 0; j < actual.length; j++) {
            float expected = (float) Double.parseDouble(hex.get(j).asText());
            assertThat(Math.abs(actual[j] - expected)).as("ω_%d", j).isLessThanOrEqualTo(Math.ulp(expected));
            if (actual[j] == expected) exact++;
        }
        assertThat(exact).as("bit-exact entries").isGreaterThanOrEqualTo(actual.length - 8);
    }

    @Test
    void temperatureScaleFollowsSpecValues() {
        assertThat(RopeFrequencies.temperatureScale(8190, 8192, 0.1f)).isEqualTo(1f);
        assertThat((double) RopeFrequencies.temperatureScale(8191, 8192, 0.1f)).isCloseTo(1.0693147, org.assertj.core.data.Offset.offset(1e-6));
        assertThat((double) RopeFrequencies.temperatureScale(16383, 8192, 0.1f)).isCloseTo(1.1098612, org.assertj.core.data.Offset.offset(1e-6));
        assertThat((double) RopeFrequencies.temperatureScale(1048575, 8192, 0.1f)).isCloseTo(1.48598, org.assertj.core.data.Offset.offset(1e-5));
    }
}

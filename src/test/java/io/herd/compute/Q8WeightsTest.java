package io.herd.compute;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Q8WeightsTest {

    @Test
    void storedScalesDecodeExactlyForEveryNonNegativeFiniteHalf() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 0x7c00; // 0 up to the largest finite half, subnormals included
            var scales = arena.allocate(2L * n, 2);
            for (int h = 0; h < n; h++) scales.setAtIndex(Q8Weights.SCALE, h, (short) h);
            for (int h = 0; h < n; h++) {
                assertThat(Float.floatToRawIntBits(Q8Weights.scaleAt(scales, h)))
                        .as("half 0x%04x", h).isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat((short) h)));
            }
        }
    }

    @Test
    void scalesRoundToHalfAndValuesStayInRange() {
        try (Arena arena = Arena.ofConfined()) {
            Q8Weights q = Q8Weights.allocate(arena, 1, 64, 32);
            float[] row = new float[64];
            for (int i = 0; i < 64; i++) row[i] = (float) Math.sin(i * 0.7) * (i < 32 ? 0.013f : 3.1f);
            q.quantizeRow(0, row, 0);
            for (int g = 0; g < 2; g++) {
                float absMax = 0;
                for (int i = 32 * g; i < 32 * g + 32; i++) absMax = Math.max(absMax, Math.abs(row[i]));
                float scale = q.scale(0, g);
                assertThat(scale).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(absMax / 127f)));
                for (int i = 32 * g; i < 32 * g + 32; i++) {
                    assertThat(Math.abs(q.value(0, i))).isLessThanOrEqualTo(127);
                    // one int8 step plus the fp16 rounding of the scale
                    assertThat((double) Math.abs(q.get(0, i) - row[i])).isLessThanOrEqualTo(absMax / 254.0 + absMax * 1e-3);
                }
            }
            assertThat(q.byteSize()).isEqualTo(64 + 2 * 2);
        }
    }

    @Test
    void magnitudesBeyondTheHalfRangeAreRefused() {
        assertThat(Q8Weights.scaleOf(0f)).isZero();
        assertThatThrownBy(() -> Q8Weights.scaleOf(1e7f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fp16");
    }
}

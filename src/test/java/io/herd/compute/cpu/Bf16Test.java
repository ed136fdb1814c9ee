package io.herd.compute.cpu;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class Bf16Test {
    /** Nearest bf16 by exact decimal arithmetic, ties to the even pattern: the definition, independent of bit tricks. */
    private static float nearestEven(float v) {
        int bits = Float.floatToRawIntBits(v);
        float down = Float.intBitsToFloat(bits & 0xffff0000);
        float up = Float.intBitsToFloat((bits & 0xffff0000) + 0x10000);
        BigDecimal dDown = new BigDecimal(v).subtract(new BigDecimal(down)).abs();
        BigDecimal dUp = Float.isInfinite(up) ? null : new BigDecimal(up).subtract(new BigDecimal(v)).abs();
        if (Float.isInfinite(up)) {
            // Past the largest bf16 the halfway point to 2^128 rounds to infinity, as IEEE overflow does.
            BigDecimal max = new BigDecimal(down);
            BigDecimal half = max.add(new BigDecimal(Math.scalb(1.0, 127 - 8)).multiply(BigDecimal.valueOf(Math.signum(v))));
            return new BigDecimal(v).abs().compareTo(half.abs()) >= 0 ? Math.copySign(Float.POSITIVE_INFINITY, v) : down;
        }
        int c = dDown.compareTo(dUp);
        if (c < 0) return down;
        if (c > 0) return up;
        return ((bits >>> 16) & 1) == 0 ? down : up;
    }

    @Test
    void roundsToNearestEvenLikeTheDefinition() {
        Random rnd = new Random(7);
        float[] a = new float[10_003];
        for (int i = 0; i < a.length; i++) {
            a[i] = switch (i % 4) {
                case 0 -> (float) rnd.nextGaussian();
                case 1 -> Float.intBitsToFloat((rnd.nextInt(0x7f7f0000) & 0xffff0000) | 0x8000); // exact ties
                case 2 -> Float.intBitsToFloat(rnd.nextInt(0x7f7fffff)); // any finite magnitude
                default -> Float.intBitsToFloat(rnd.nextInt() & 0x007fffff); // subnormals
            };
        }
        float[] expected = new float[a.length];
        for (int i = 0; i < a.length; i++) expected[i] = nearestEven(a[i]);
        Bf16.round(a, 0, a.length);
        for (int i = 0; i < a.length; i++)
            assertThat(Float.floatToRawIntBits(a[i])).as("index %d", i).isEqualTo(Float.floatToRawIntBits(expected[i]));
    }

    @Test
    void keepsSpecialValues() {
        float[] a = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, Float.MAX_VALUE, 1f, 1f + 0x1p-8f};
        float[] b = new float[40];
        System.arraycopy(a, 0, b, 3, a.length);
        Bf16.round(b, 3, a.length);
        assertThat(b[3]).isNaN();
        assertThat(b[4]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(b[5]).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(Float.floatToRawIntBits(b[6])).isEqualTo(0x80000000);
        assertThat(b[7]).isEqualTo(Float.POSITIVE_INFINITY); // MAX_VALUE is above the largest bf16 + half an ulp
        assertThat(b[8]).isEqualTo(1f);
        assertThat(b[9]).isEqualTo(1f); // tie between 1 and 1+2^-7 goes to the even pattern, 1
        assertThat(Bf16.toFloat(Bf16.fromFloat(3.140625f))).isEqualTo(3.140625f);
    }
}

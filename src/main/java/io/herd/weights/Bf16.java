package io.herd.weights;

/** bfloat16 conversion: the upper 16 bits of the fp32 pattern after round-to-nearest-even (as PyTorch does). */
public final class Bf16 {
    private Bf16() {}

    /** The bf16 bit pattern of {@code f} (NaN stays a quiet NaN). */
    public static short bits(float f) {
        int b = Float.floatToRawIntBits(f);
        if ((b & 0x7fffffff) > 0x7f800000) return (short) ((b >>> 16) | 0x40);
        b += 0x7fff + ((b >>> 16) & 1);
        return (short) (b >>> 16);
    }

    /** {@code f} rounded to the nearest bf16 value, as a float. */
    public static float round(float f) {
        return Float.intBitsToFloat(bits(f) << 16);
    }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}

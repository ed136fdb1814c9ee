package io.herd.compute.cuda;

/**
 * How a weight matrix is stored in device memory (row-major [nOut, nIn], HF Linear orientation).
 * INT8 and INT4 are symmetric per-group quantizations with bf16 scales [nOut, nIn / group]:
 * INT8 holds one int8 per weight (scale = max|w| / 127); INT4 holds two offset-binary nibbles per byte
 * (value = nibble − 8, scale = max|w| / 7), the low nibble for the even column.
 */
public enum WeightFormat {
    F32("f32", 4, 4), BF16("bf16", 8, 2), INT8("int8", 16, 1), INT4("int4", 32, 1);

    /** Suffix of the kernels for this format (herd_linear_&lt;suffix&gt;). */
    public final String kernelSuffix;
    /** Weights one lane decodes per 16-byte load; nIn and the group size must be multiples of it. */
    public final int vector;
    private final int bytesNumerator;

    WeightFormat(String kernelSuffix, int vector, int bytesNumerator) {
        this.kernelSuffix = kernelSuffix;
        this.vector = vector;
        this.bytesNumerator = bytesNumerator;
    }

    public boolean quantized() {
        return this == INT8 || this == INT4;
    }

    /** Bytes of payload for one row of {@code nIn} weights. */
    public long rowBytes(int nIn) {
        return this == INT4 ? nIn / 2 : (long) nIn * bytesNumerator;
    }

    public static WeightFormat parse(String s) {
        for (WeightFormat f : values()) if (f.kernelSuffix.equalsIgnoreCase(s) || f.name().equalsIgnoreCase(s)) return f;
        throw new IllegalArgumentException("unknown weight format " + s + " (f32, bf16, int8, int4)");
    }
}

package io.herd.compute;

/**
 * Storage formats of weights and caches. Q8 is Herd's own load-time int8 quantization (per-group scales);
 * GGML_BLOCKS is one of ggml's block formats read from a GGUF file (the matrix names which), with no whole number of
 * bytes per element (its {@link #bytes} is 0: such matrices report their size by {@code bytesRead()}).
 */
public enum DType {
    F32(4), BF16(2), F16(2), Q8(1), GGML_BLOCKS(0);

    /** Bytes per element of the payload (Q8 scales are extra). */
    public final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    /** Parses a safetensors dtype tag ("F32", "BF16", "F16"). */
    public static DType fromSafetensors(String tag) {
        return switch (tag) {
            case "F32" -> F32;
            case "BF16" -> BF16;
            case "F16" -> F16;
            default -> throw new IllegalArgumentException("unsupported tensor dtype " + tag + " (F32, BF16, F16 are)");
        };
    }
}

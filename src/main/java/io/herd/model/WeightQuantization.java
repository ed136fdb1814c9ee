package io.herd.model;

/** How matrices are held after loading: as stored in the checkpoint, or re-quantized to Herd's Q8 at load time. */
public enum WeightQuantization {
    /** Views over the memory-mapped checkpoint in its own dtype (no copies). */
    NONE,
    /** Large matrices quantized to int8 with per-group scales (off-heap copies); router, norms, embedding kept. */
    Q8;

    /** Parses a CLI/config value: "none" or "q8". */
    public static WeightQuantization parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "none", "" -> NONE;
            case "q8" -> Q8;
            default -> throw new IllegalArgumentException("unknown quantization '" + s + "' (none, q8)");
        };
    }
}

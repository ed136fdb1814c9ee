package io.herd.model;

/** Numeric mode of a forward pass (SPEC §9). */
public enum Precision {
    /** fp32 math on the stored weights, no intermediate rounding: the correctness reference. */
    F32,
    /** fp32 compute rounded to bf16 at exactly the points listed in SPEC §9, as the bf16 references do. */
    BF16
}

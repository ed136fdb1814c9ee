package io.herd.compute;

import io.herd.compute.reference.ReferenceMatrix;

import java.lang.foreign.MemorySegment;

/**
 * Creates {@link Matrix} views over weight memory. The one place where storage layouts are chosen; callers (the
 * model loader, the benchmark) never name an implementation class.
 */
public final class Matrices {
    private Matrices() {}

    /** An HF Linear weight {@code [nOut, nIn]}, nIn contiguous. */
    public static Matrix rowMajor(MemorySegment data, DType dtype, int nOut, int nIn) {
        return ReferenceMatrix.rowMajor(data, dtype, nOut, nIn);
    }

    /** An input-major weight {@code [nIn, nOut]}, nOut contiguous (HF fused expert slices: y = x · W). */
    public static Matrix inputMajor(MemorySegment data, DType dtype, int nIn, int nOut) {
        return ReferenceMatrix.inputMajor(data, dtype, nIn, nOut);
    }
}

package io.herd.compute.cpu;

/** What the Vector API kernels run with on this CPU, for logs and benchmark records. */
public final class VectorInfo {
    private VectorInfo() {}

    /** Width of the float vectors the kernels use (512 with AVX-512, 256 with AVX2). */
    public static int floatVectorBits() {
        return Simd.F.vectorBitSize();
    }
}

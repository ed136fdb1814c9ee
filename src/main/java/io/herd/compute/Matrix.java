package io.herd.compute;

/**
 * A read-only weight matrix used as {@code y = x · Wᵀ}: {@code nOut} outputs, {@code nIn} inputs, whatever its
 * storage (an HF Linear [out, in] tensor, an input-major expert slice [in, out], a Q8 copy). Implementations are
 * views over memory-mapped or off-heap segments; none copies weights onto the Java heap.
 */
public interface Matrix {
    int nOut();

    int nIn();

    DType dtype();

    /** Bytes of weight data one full pass over this matrix reads (payload plus scales). */
    long bytesRead();

    /**
     * {@code y[t*nOut + o] = Σ_i x[t*nIn + i] · W(o, i)} for {@code t < nTokens}; fp32 accumulation.
     * Overwrites y. May run on several threads; callers pass distinct y arrays.
     */
    void matmul(float[] x, float[] y, int nTokens);

    /** One weight element, for tests and the scalar reference (slow). */
    float get(int out, int in);
}

package io.herd.compute.cuda;

/**
 * Device memory a model needs, computed before anything is allocated, against what the device has free.
 *
 * @param weightBytes     all weight matrices, embeddings, norms
 * @param kvBytes         the paged KV cache (both block groups, every layer)
 * @param activationBytes per-step buffers sized for the largest batch
 * @param reserveBytes    left free for cuBLAS workspaces, the context and fragmentation
 * @param freeBytes       what cudaMemGetInfo reported free before loading
 */
public record MemoryPlan(long weightBytes, long kvBytes, long activationBytes, long reserveBytes, long freeBytes) {
    /** Default reserve: 1 GiB. */
    public static final long DEFAULT_RESERVE = 1L << 30;

    public long totalBytes() {
        return weightBytes + kvBytes + activationBytes + reserveBytes;
    }

    public boolean fits() {
        return totalBytes() <= freeBytes;
    }

    /** Throws a message with every figure in GiB when the plan does not fit. */
    public void requireFits(String what) {
        if (!fits()) {
            throw new IllegalStateException(String.format(
                    "%s does not fit on the GPU: weights %.2f GiB + KV cache %.2f GiB + activations %.2f GiB + reserve"
                            + " %.2f GiB = %.2f GiB, but only %.2f GiB are free; lower the KV budget or quantize"
                            + " (int8/int4)", what, gib(weightBytes), gib(kvBytes), gib(activationBytes),
                    gib(reserveBytes), gib(totalBytes()), gib(freeBytes)));
        }
    }

    static double gib(long b) {
        return b / (double) (1L << 30);
    }
}

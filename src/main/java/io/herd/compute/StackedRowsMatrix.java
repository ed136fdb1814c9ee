package io.herd.compute;

/**
 * Two matrices over the same inputs as one: outputs {@code 0 … top.nOut−1} are {@code top}'s, the rest
 * {@code bottom}'s. GGUF files store a MoE expert's gate and up projections as two tensors where Herd's model takes
 * one fused gate|up matrix; this joins them without copying either.
 */
final class StackedRowsMatrix implements Matrix {
    private final Matrix top, bottom;

    StackedRowsMatrix(Matrix top, Matrix bottom) {
        if (top.nIn() != bottom.nIn())
            throw new IllegalArgumentException("stacked matrices need the same inputs, got " + top.nIn() + " and " + bottom.nIn());
        this.top = top;
        this.bottom = bottom;
    }

    @Override public int nOut() { return top.nOut() + bottom.nOut(); }
    @Override public int nIn() { return top.nIn(); }
    @Override public DType dtype() { return top.dtype() == bottom.dtype() ? top.dtype() : DType.GGML_BLOCKS; }
    @Override public long bytesRead() { return top.bytesRead() + bottom.bytesRead(); }

    @Override
    public void matmul(float[] x, float[] y, int nTokens) {
        int a = top.nOut(), b = bottom.nOut(), n = a + b;
        if (y.length < (long) nTokens * n)
            throw new IllegalArgumentException("y has " + y.length + " floats, need " + nTokens + " × " + n);
        float[] ya = new float[nTokens * a], yb = new float[nTokens * b];
        top.matmul(x, ya, nTokens);
        bottom.matmul(x, yb, nTokens);
        for (int t = 0; t < nTokens; t++) {
            System.arraycopy(ya, t * a, y, t * n, a);
            System.arraycopy(yb, t * b, y, t * n + a, b);
        }
    }

    @Override
    public float get(int out, int in) {
        return out < top.nOut() ? top.get(out, in) : bottom.get(out - top.nOut(), in);
    }
}

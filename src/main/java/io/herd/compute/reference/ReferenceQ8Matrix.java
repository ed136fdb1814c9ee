package io.herd.compute.reference;

import io.herd.compute.DType;
import io.herd.compute.Matrix;
import io.herd.compute.Q8Weights;

import java.lang.foreign.Arena;

/** Scalar twin of the Q8 kernels: quantizes element by element and multiplies with plain loops. */
public final class ReferenceQ8Matrix implements Matrix {
    private final Q8Weights weights;

    public ReferenceQ8Matrix(Q8Weights weights) {
        this.weights = weights;
    }

    /** Quantizes {@code source} (read through {@link Matrix#get}) into storage in {@code arena}; groupSize 0 = per row. */
    public static ReferenceQ8Matrix quantize(Matrix source, int groupSize, Arena arena) {
        if (groupSize < 0) throw new IllegalArgumentException("groupSize " + groupSize);
        Q8Weights q = Q8Weights.allocate(arena, source.nOut(), source.nIn(), groupSize);
        float[] row = new float[source.nIn()];
        for (int o = 0; o < source.nOut(); o++) {
            for (int i = 0; i < row.length; i++) row[i] = source.get(o, i);
            q.quantizeRow(o, row, 0);
        }
        return new ReferenceQ8Matrix(q);
    }

    public Q8Weights weights() { return weights; }

    @Override public int nOut() { return weights.nOut(); }
    @Override public int nIn() { return weights.nIn(); }
    @Override public DType dtype() { return DType.Q8; }
    @Override public long bytesRead() { return weights.byteSize(); }
    @Override public float get(int out, int in) { return weights.get(out, in); }

    @Override
    public void matmul(float[] x, float[] y, int nTokens) {
        int nOut = nOut(), nIn = nIn();
        for (int t = 0; t < nTokens; t++) {
            for (int o = 0; o < nOut; o++) {
                float acc = 0f;
                for (int i = 0; i < nIn; i++) acc += x[t * nIn + i] * get(o, i);
                y[t * nOut + o] = acc;
            }
        }
    }
}

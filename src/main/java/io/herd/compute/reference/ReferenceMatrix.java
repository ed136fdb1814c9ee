package io.herd.compute.reference;

import io.herd.compute.DType;
import io.herd.compute.Matrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Scalar matrix over a segment: the readable oracle every fast kernel is checked against. */
public final class ReferenceMatrix implements Matrix {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data;
    private final DType dtype;
    private final int nOut, nIn;
    private final boolean inputMajor;

    private ReferenceMatrix(MemorySegment data, DType dtype, int nOut, int nIn, boolean inputMajor) {
        if (dtype == DType.Q8 || dtype == DType.GGML_BLOCKS) throw new IllegalArgumentException(dtype + " has no plain segment layout");
        long need = (long) nOut * nIn * dtype.bytes;
        if (data.byteSize() < need)
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes is smaller than " + need);
        this.data = data;
        this.dtype = dtype;
        this.nOut = nOut;
        this.nIn = nIn;
        this.inputMajor = inputMajor;
    }

    public static ReferenceMatrix rowMajor(MemorySegment data, DType dtype, int nOut, int nIn) {
        return new ReferenceMatrix(data, dtype, nOut, nIn, false);
    }

    public static ReferenceMatrix inputMajor(MemorySegment data, DType dtype, int nIn, int nOut) {
        return new ReferenceMatrix(data, dtype, nOut, nIn, true);
    }

    @Override public int nOut() { return nOut; }
    @Override public int nIn() { return nIn; }
    @Override public DType dtype() { return dtype; }
    @Override public long bytesRead() { return (long) nOut * nIn * dtype.bytes; }

    @Override
    public float get(int out, int in) {
        long index = inputMajor ? (long) in * nOut + out : (long) out * nIn + in;
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, index);
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(I16, index) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16, index));
            case Q8, GGML_BLOCKS -> throw new AssertionError();
        };
    }

    @Override
    public void matmul(float[] x, float[] y, int nTokens) {
        for (int t = 0; t < nTokens; t++) {
            for (int o = 0; o < nOut; o++) {
                float acc = 0f;
                for (int i = 0; i < nIn; i++) acc += x[t * nIn + i] * get(o, i);
                y[t * nOut + o] = acc;
            }
        }
    }
}

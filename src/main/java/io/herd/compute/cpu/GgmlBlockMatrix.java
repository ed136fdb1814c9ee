package io.herd.compute.cpu;

import io.herd.compute.DType;
import io.herd.compute.GgmlBlockDecoder;
import io.herd.compute.GgmlType;
import io.herd.compute.Matrix;

import java.lang.foreign.MemorySegment;

/**
 * A row-major [nOut, nIn] matrix stored in one of ggml's block formats (Q8_0, Q4_0, Q4_1, Q5_0, Q4_K, Q5_K, Q6_K),
 * read in place from a memory-mapped GGUF tensor: each output row is {@code nIn / blockSize} consecutive blocks.
 * Blocks are widened to fp32 by {@link GgmlBlockKernels} on the Vector API (bit-identical to {@link GgmlBlockDecoder},
 * ggml's reference dequantization) and multiplied on the Vector API: one token streams each row once (decode a row, then a vector dot product), more
 * tokens go through the shared panel and token-lane GEMMs, which decode each weight panel once for all tokens.
 * So the products equal fp32 arithmetic over the dequantized weights, the exact reference for GGUF models.
 */
public final class GgmlBlockMatrix implements Matrix {
    private final MemorySegment data;
    private final GgmlType type;
    private final int nOut, nIn;
    private final long rowBytes;
    private final CpuThreadPool pool;
    private final StoredRows rows;
    /** One decoded row per thread, shared by every matrix (a per-matrix buffer would cost threads × matrices rows). */
    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[1][0]);

    public GgmlBlockMatrix(MemorySegment data, GgmlType type, int nOut, int nIn, CpuThreadPool pool) {
        if (!type.decodable() || type.blockSize == 1)
            throw new IllegalArgumentException(type + " is not a ggml block format Herd decodes");
        if (nOut <= 0 || nIn <= 0) throw new IllegalArgumentException("matrix shape " + nOut + "×" + nIn);
        if (nIn % type.blockSize != 0)
            throw new IllegalArgumentException(type + " rows need a multiple of " + type.blockSize + " inputs, got " + nIn);
        this.rowBytes = type.rowBytes(nIn);
        long need = rowBytes * nOut;
        if (data.byteSize() < need)
            throw new IllegalArgumentException(type + " [" + nOut + ", " + nIn + "] needs " + need + " bytes, segment has "
                    + data.byteSize());
        this.data = data;
        this.type = type;
        this.nOut = nOut;
        this.nIn = nIn;
        this.pool = pool;
        this.rows = this::decodeRun;
    }

    public GgmlType type() { return type; }

    @Override public int nOut() { return nOut; }
    @Override public int nIn() { return nIn; }
    @Override public DType dtype() { return DType.GGML_BLOCKS; }
    @Override public long bytesRead() { return rowBytes * nOut; }

    @Override
    public float get(int out, int in) {
        float[] block = new float[type.blockSize];
        int b = in / type.blockSize;
        GgmlBlockDecoder.decode(type, data, out * rowBytes + (long) b * type.blockBytes, 1, block, 0);
        return block[in % type.blockSize];
    }

    /** Output rows {@code [o0, o0+nRows)} as fp32, row after row, into dst (load-time requantization). */
    void decodeOutputs(int o0, int nRows, float[] dst) {
        for (int r = 0; r < nRows; r++)
            GgmlBlockKernels.decode(type, data, (o0 + r) * rowBytes, nIn / type.blockSize, dst, r * nIn);
    }

    /** Columns {@code [col0, col0+n)} of row {@code row}; whole blocks straight into dst, ragged ends through a block buffer. */
    private void decodeRun(int row, int col0, int n, float[] dst, int dstOff) {
        int bs = type.blockSize;
        long base = row * rowBytes;
        int col = col0, end = col0 + n;
        float[] partial = null;
        while (col < end) {
            int b = col / bs, inBlock = col - b * bs;
            int take = Math.min(bs - inBlock, end - col);
            if (inBlock == 0 && take == bs) {
                int whole = (end - col) / bs;
                GgmlBlockKernels.decode(type, data, base + (long) b * type.blockBytes, whole, dst, dstOff + col - col0);
                col += whole * bs;
            } else {
                if (partial == null) partial = new float[bs];
                GgmlBlockKernels.decode(type, data, base + (long) b * type.blockBytes, 1, partial, 0);
                System.arraycopy(partial, inBlock, dst, dstOff + col - col0, take);
                col += take;
            }
        }
    }

    @Override
    public void matmul(float[] x, float[] y, int nTokens) {
        PanelGemm.checkArgs(nOut, nIn, x, y, nTokens);
        if (nTokens == 1) {
            Gemv.byOutputRows(pool, nOut, bytesRead(), 1, (o0, o1) -> {
                float[][] holder = ROW.get();
                if (holder[0].length < nIn) holder[0] = new float[nIn];
                float[] w = holder[0];
                for (int o = o0; o < o1; o++) {
                    GgmlBlockKernels.decode(type, data, o * rowBytes, nIn / type.blockSize, w, 0);
                    y[o] = FloatOps.dot(x, 0, w, 0, nIn);
                }
            });
        } else if (TokenLaneGemm.suits(false, nOut, nIn, nTokens)) {
            TokenLaneGemm.matmul(rows, false, nOut, nIn, x, y, nTokens, pool);
        } else {
            PanelGemm.rowMajor(rows, nOut, nIn, x, y, nTokens, pool);
        }
    }
}

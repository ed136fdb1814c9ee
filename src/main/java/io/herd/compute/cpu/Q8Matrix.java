package io.herd.compute.cpu;

import io.herd.compute.DType;
import io.herd.compute.Matrix;
import io.herd.compute.Q8Weights;
import io.herd.ffi.CpuKernels;

import java.lang.foreign.Arena;

/**
 * Matmul over {@link Q8Weights}: int8 rows widened and scaled to fp32 per panel (Vector API). One-token products
 * (decode) take the native int8 kernel where {@link CpuKernels} runs: the Vector API's widening of every weight to
 * fp32 costs more than the memory stream hides, and it cannot prefetch; the native kernel multiplies int8 weights by
 * int16 activations in integer dot products and prefetches each row ahead. More tokens take its fp32 register tiles
 * there: 2-63 tokens straight from storage, more through widened panels ({@link NativeGemm}).
 */
public final class Q8Matrix implements Matrix {
    private final Q8Weights weights;
    private final CpuThreadPool pool;
    private final StoredRows rows;
    /** Null where the Vector API kernels do all the work. */
    private final CpuKernels kernels;

    public Q8Matrix(Q8Weights weights, CpuThreadPool pool) {
        this(weights, pool, CpuKernels.forQ8().orElse(null));
    }

    /** {@code kernels} null keeps every product on the Vector API (tests compare the two). */
    Q8Matrix(Q8Weights weights, CpuThreadPool pool, CpuKernels kernels) {
        this.weights = weights;
        this.pool = pool;
        this.kernels = kernels != null && kernels.q8() && CpuKernels.q8GemvSuits(weights.nIn(), weights.groupSize()) ? kernels : null;
        int nIn = weights.nIn(), groupSize = weights.groupSize(), nGroups = weights.nGroups();
        boolean flat = Simd.B != null && Integer.bitCount(groupSize) == 1 && groupSize % Simd.LANES == 0;
        int shift = Integer.numberOfTrailingZeros(groupSize);
        this.rows = (row, col0, n, dst, dstOff) -> {
            long rowBase = (long) row * nIn;
            long scaleBase = (long) row * nGroups;
            if (flat && col0 % Simd.LANES == 0) {
                WeightDecoder.q8Flat(weights.values(), rowBase, weights.scales(), scaleBase, shift, col0, n, dst, dstOff);
                return;
            }
            int col = col0, end = col0 + n;
            while (col < end) {
                int g = col / groupSize;
                int runEnd = Math.min(end, (g + 1) * groupSize);
                float scale = Q8Weights.scaleAt(weights.scales(), scaleBase + g);
                WeightDecoder.q8(weights.values(), rowBase + col, scale, dst, dstOff + col - col0, runEnd - col);
                col = runEnd;
            }
        };
    }

    /**
     * Quantizes any matrix (the per-group absmax rule of {@link Q8Weights}) into storage allocated in {@code arena},
     * in parallel over output rows. groupSize 0 means one scale per row.
     */
    public static Q8Matrix quantize(Matrix source, int groupSize, Arena arena, CpuThreadPool pool) {
        if (groupSize < 0) throw new IllegalArgumentException("groupSize " + groupSize);
        int nOut = source.nOut(), nIn = source.nIn();
        Q8Weights q = Q8Weights.allocate(arena, nOut, nIn, groupSize);
        // Input-major sources are read across their rows: 64 outputs give 128-byte runs instead of 32-byte ones.
        int rowsPerTask = source instanceof CpuMatrix cpu && cpu.inputMajor() ? 64 : 16;
        int nTasks = (nOut + rowsPerTask - 1) / rowsPerTask;
        pool.parallelFor(nTasks, task -> {
            int o0 = task * rowsPerTask, nRows = Math.min(rowsPerTask, nOut - o0);
            float[] buf = new float[nRows * nIn];
            if (source instanceof CpuMatrix cpu) {
                cpu.decodeOutputs(o0, nRows, buf);
            } else if (source instanceof GgmlBlockMatrix blocks) {
                blocks.decodeOutputs(o0, nRows, buf);
            } else {
                for (int r = 0; r < nRows; r++) for (int i = 0; i < nIn; i++) buf[r * nIn + i] = source.get(o0 + r, i);
            }
            for (int r = 0; r < nRows; r++) Q8Quantizer.quantizeRow(q, o0 + r, buf, r * nIn);
        });
        return new Q8Matrix(q, pool);
    }

    public Q8Weights weights() { return weights; }

    /** Whether one-token products run on the native kernel. */
    public boolean nativeDecode() { return kernels != null; }

    /** The same weights with every product on the Vector API kernels. */
    public Q8Matrix vectorApiOnly() { return new Q8Matrix(weights, pool, null); }

    @Override public int nOut() { return weights.nOut(); }
    @Override public int nIn() { return weights.nIn(); }
    @Override public DType dtype() { return DType.Q8; }
    @Override public long bytesRead() { return weights.byteSize(); }
    @Override public float get(int out, int in) { return weights.get(out, in); }

    @Override
    public void matmul(float[] x, float[] y, int nTokens) {
        int nOut = weights.nOut(), nIn = weights.nIn();
        if (nTokens == 1 && (kernels != null || GemvKernels.q8Supported(nIn, weights.groupSize()))) {
            if (x.length < nIn || y.length < nOut)
                throw new IllegalArgumentException("x has " + x.length + " floats, y " + y.length + "; need " + nIn + " and " + nOut);
            if (kernels != null) {
                // A few KB per call, small beside the GEMV it feeds.
                short[] xq = new short[nIn];
                float[] xs = new float[CpuKernels.activationScales(nIn)];
                kernels.quantizeActivations(x, nIn, xq, xs);
                Gemv.byOutputRows(pool, nOut, bytesRead(), 8, (o0, o1) -> kernels.q8Gemv(weights.values(),
                        weights.scales(), nIn, weights.groupSize(), xq, xs, y, o0, o1));
            } else {
                // Whole eight-row tiles per task.
                Gemv.byOutputRows(pool, nOut, bytesRead(), 8, (o0, o1) -> GemvKernels.q8RowMajor(weights.values(),
                        weights.scales(), nIn, weights.groupSize(), x, y, o0, o1));
            }
            return;
        }
        if (kernels != null && FewTokenRows.suitsNative(nOut, nIn, nTokens)) {
            PanelGemm.checkArgs(nOut, nIn, x, y, nTokens);
            Gemv.byOutputRows(pool, nOut, bytesRead(), 4, (o0, o1) -> kernels.q8RowsTokens(weights.values(),
                    weights.scales(), nOut, nIn, weights.groupSize(), x, nTokens, y, o0, o1));
        } else if (kernels != null && NativeGemm.suits(nOut, nIn, nTokens)) {
            NativeGemm.matmul(kernels, CpuKernels.GemmFormat.Q8_ROWS, weights.values(), weights.scales(),
                    weights.groupSize(), nOut, nIn, x, y, nTokens, bytesRead(), pool);
        } else if (FewTokenRows.suitsQ8(nOut, nIn, weights.groupSize(), nTokens)) FewTokenRows.q8(weights, x, y, nTokens, pool);
        else if (TokenLaneGemm.suits(false, nOut, nIn, nTokens)) TokenLaneGemm.matmul(rows, false, weights.nOut(), weights.nIn(), x, y, nTokens, pool);
        else PanelGemm.rowMajor(rows, weights.nOut(), weights.nIn(), x, y, nTokens, pool);
    }
}

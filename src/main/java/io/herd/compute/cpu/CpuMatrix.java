package io.herd.compute.cpu;

import io.herd.compute.DType;
import io.herd.compute.Matrix;
import io.herd.ffi.CpuKernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.herd.compute.cpu.Simd.LE;

/**
 * Vector API matrix over F32, BF16 or F16 weights in a segment (memory-mapped or off-heap), in either the HF Linear
 * layout [nOut, nIn] or the input-major layout [nIn, nOut]. Never copies the weights. BF16 products run on the native
 * kernels where {@link CpuKernels} has them: the same fp32 products, with each row's stream prefetched for decode,
 * and wider register tiles than the Vector API compiles well for 2 tokens and more.
 */
public final class CpuMatrix implements Matrix {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private final MemorySegment data;
    private final DType dtype;
    private final int nOut, nIn;
    private final boolean inputMajor;
    private final CpuThreadPool pool;
    private final StoredRows rows;
    /** Null where the Vector API kernels do all the work. */
    private final CpuKernels kernels;

    private CpuMatrix(MemorySegment data, DType dtype, int nOut, int nIn, boolean inputMajor, CpuThreadPool pool) {
        this(data, dtype, nOut, nIn, inputMajor, pool, CpuKernels.forBf16().orElse(null));
    }

    private CpuMatrix(MemorySegment data, DType dtype, int nOut, int nIn, boolean inputMajor, CpuThreadPool pool,
                      CpuKernels kernels) {
        if (dtype == DType.Q8 || dtype == DType.GGML_BLOCKS)
            throw new IllegalArgumentException(dtype + " weights are made by Matrices.quantizeQ8 or Matrices.ggml");
        if (nOut <= 0 || nIn <= 0) throw new IllegalArgumentException("matrix shape " + nOut + "×" + nIn);
        long need = (long) nOut * nIn * dtype.bytes;
        if (data.byteSize() < need)
            throw new IllegalArgumentException(dtype + " " + (inputMajor ? "[" + nIn + ", " + nOut + "]" : "[" + nOut
                    + ", " + nIn + "]") + " needs " + need + " bytes, segment has " + data.byteSize());
        this.data = data;
        this.dtype = dtype;
        this.nOut = nOut;
        this.nIn = nIn;
        this.inputMajor = inputMajor;
        this.pool = pool;
        long rowLength = inputMajor ? nOut : nIn;
        this.rows = (row, col0, n, dst, dstOff) ->
                WeightDecoder.decode(dtype, data, row * rowLength + col0, dst, dstOff, n);
        this.kernels = dtype == DType.BF16 && kernels != null && kernels.bf16() ? kernels : null;
    }

    /** Whether one-token products run on the native kernels. */
    public boolean nativeDecode() { return kernels != null; }

    /** The same weights with every product on the Vector API kernels. */
    public CpuMatrix vectorApiOnly() { return new CpuMatrix(data, dtype, nOut, nIn, inputMajor, pool, null); }

    /** An HF Linear weight {@code [nOut, nIn]}, nIn contiguous. */
    public static CpuMatrix rowMajor(MemorySegment data, DType dtype, int nOut, int nIn, CpuThreadPool pool) {
        return new CpuMatrix(data, dtype, nOut, nIn, false, pool);
    }

    /** An input-major weight {@code [nIn, nOut]}, nOut contiguous. */
    public static CpuMatrix inputMajor(MemorySegment data, DType dtype, int nIn, int nOut, CpuThreadPool pool) {
        return new CpuMatrix(data, dtype, nOut, nIn, true, pool);
    }

    @Override public int nOut() { return nOut; }
    @Override public int nIn() { return nIn; }
    @Override public DType dtype() { return dtype; }
    @Override public long bytesRead() { return (long) nOut * nIn * dtype.bytes; }

    public boolean inputMajor() { return inputMajor; }

    @Override
    public void matmul(float[] x, float[] y, int nTokens) {
        if (nTokens == 1 && dtype != DType.F16) {
            gemv(x, y);
            return;
        }
        if (kernels != null && !inputMajor && nIn % 32 == 0 && FewTokenRows.suitsNative(nOut, nIn, nTokens))
            fewTokensNative(x, y, nTokens);
        else if (kernels != null && inputMajor && FewTokenRows.suitsNative(nOut, nIn, nTokens))
            fewTokensInputMajor(x, y, nTokens);
        else if (kernels != null && NativeGemm.suits(nOut, nIn, nTokens))
            NativeGemm.matmul(kernels, inputMajor ? CpuKernels.GemmFormat.BF16_INPUT_MAJOR : CpuKernels.GemmFormat.BF16_ROWS,
                    data, null, 0, nOut, nIn, x, y, nTokens, bytesRead(), pool);
        else if (TokenLaneGemm.suits(inputMajor, nOut, nIn, nTokens)) TokenLaneGemm.matmul(rows, inputMajor, nOut, nIn, x, y, nTokens, pool);
        else if (!inputMajor && dtype == DType.BF16 && FewTokenRows.suitsBf16(nOut, nIn, nTokens))
            FewTokenRows.bf16(data, nOut, nIn, x, y, nTokens, pool);
        else if (inputMajor && nTokens < FEW_TOKENS && dtype != DType.F16 && (long) nOut * nIn >= TokenLaneGemm.MIN_WEIGHTS)
            fewTokensInputMajor(x, y, nTokens);
        else if (inputMajor) PanelGemm.inputMajor(rows, nOut, nIn, x, y, nTokens, pool);
        else PanelGemm.rowMajor(rows, nOut, nIn, x, y, nTokens, pool);
    }

    /** Decode: straight from the stored weights; row-major is split over the pool in equal ranges of outputs. */
    private void gemv(float[] x, float[] y) {
        if (x.length < nIn || y.length < nOut)
            throw new IllegalArgumentException("x has " + x.length + " floats, y " + y.length + "; need " + nIn + " and " + nOut);
        if (inputMajor) {
            gemvInputMajor(x, y);
            return;
        }
        if (kernels != null && nIn % 32 == 0) {
            float[] xPairs = GemvKernels.bf16Pairs(x, nIn, xPairsScratch(nIn));
            Gemv.byOutputRows(pool, nOut, bytesRead(), 8, (o0, o1) -> kernels.bf16Gemv(data, nIn, xPairs, y, o0, o1));
            return;
        }
        float[] xPairs = dtype == DType.BF16 && nIn % (2 * Simd.LANES) == 0
                ? GemvKernels.bf16Pairs(x, nIn, xPairsScratch(nIn)) : null;
        Gemv.byOutputRows(pool, nOut, bytesRead(), Simd.LANES,
                (o0, o1) -> GemvKernels.rowMajor(dtype, data, nIn, x, xPairs, y, o0, o1));
    }

    /** 2-63 tokens over row-major BF16 on the native kernel: each token's x split into pairs as for the GEMV. */
    private void fewTokensNative(float[] x, float[] y, int nTokens) {
        PanelGemm.checkArgs(nOut, nIn, x, y, nTokens);
        float[] xPairs = xPairsScratch(nTokens * nIn);
        for (int t = 0; t < nTokens; t++) GemvKernels.splitPairs(x, t * nIn, nIn, xPairs, t * nIn);
        Gemv.byOutputRows(pool, nOut, bytesRead(), 4, (o0, o1) -> kernels.bf16RowsTokens(data, nOut, nIn, xPairs,
                nTokens, y, o0, o1));
    }

    /** The split x of the BF16 GEMV, one per calling thread (read by the pool only while that call runs). */
    private static final ThreadLocal<float[]> X_PAIRS = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] xPairsScratch(int n) {
        float[] p = X_PAIRS.get();
        if (p.length < n) X_PAIRS.set(p = new float[n]);
        return p;
    }

    /** Scratch for the partial outputs, one per calling thread: decode would otherwise allocate it for every matmul. */
    private static final ThreadLocal<float[]> PARTIALS = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] partials(int n) {
        float[] p = PARTIALS.get();
        if (p.length < n) PARTIALS.set(p = new float[n]);
        return p;
    }

    /** Decode over [nIn, nOut]. */
    private void gemvInputMajor(float[] x, float[] y) {
        byStoredRowRanges(x, y, 1, Integer.MAX_VALUE);
    }

    /**
     * Below this many tokens streaming the weights once (60-70 GFLOP/s at 8-12 tokens) beats the panel path (50-60),
     * for matrices of real size: a small model's run on one thread and lost to the panels' two.
     */
    static final int FEW_TOKENS = Simd.LANES;

    /** 2 to {@link #FEW_TOKENS} - 1 tokens over [nIn, nOut], as decode does one; one task per thread. */
    private void fewTokensInputMajor(float[] x, float[] y, int nTokens) {
        PanelGemm.checkArgs(nOut, nIn, x, y, nTokens);
        byStoredRowRanges(x, y, nTokens, pool.parallelism());
    }

    /**
     * Input-major matmul split over the pool in ranges of stored rows, each task summing its rows into its own
     * partial [tokens, nOut], then the partials are added up. Whole rows keep every task's reads one contiguous run;
     * the partials (tasks × tokens × nOut floats) are a fraction of a percent of the weight bytes, and maxTasks
     * bounds them as the tokens grow.
     */
    private void byStoredRowRanges(float[] x, float[] y, int nTokens, int maxTasks) {
        int size = nTokens * nOut;
        int nTasks = Math.min(maxTasks, Gemv.tasks(pool, nIn, bytesRead()));
        int per = Simd.roundUp((nIn + nTasks - 1) / nTasks, 8);
        int nParts = (nIn + per - 1) / per;
        float[] partial = nParts == 1 ? y : partials(nParts * size);
        pool.parallelFor(nParts, task -> {
            int i0 = task * per, i1 = Math.min(nIn, i0 + per);
            java.util.Arrays.fill(partial, task * size, (task + 1) * size, 0f);
            if (nTokens == 1 && kernels != null) kernels.bf16Axpy(data, nOut, x, i0, i1, partial, task * size);
            else if (nTokens == 1) GemvKernels.inputMajor(dtype, data, nOut, x, i0, i1, partial, task * size);
            else if (kernels != null) kernels.bf16AxpyTokens(data, nOut, nIn, x, nTokens, i0, i1, partial, task * size);
            else GemvKernels.inputMajorTokens(dtype, data, nOut, x, nIn, nTokens, i0, i1, partial, task * size);
        });
        if (nParts == 1) return;
        int chunk = Simd.roundUp((size + pool.parallelism() - 1) / pool.parallelism(), Simd.LANES);
        pool.parallelFor((size + chunk - 1) / chunk, task -> {
            int o0 = task * chunk, o1 = Math.min(size, o0 + chunk);
            GemvKernels.sumParts(partial, nParts, size, y, o0, o1);
        });
    }

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

    /** Writes outputs {@code [o0, o0+nRows)} as fp32 rows of nIn values into dst (for quantization). */
    void decodeOutputs(int o0, int nRows, float[] dst) {
        if (!inputMajor) {
            for (int r = 0; r < nRows; r++) rows.decode(o0 + r, 0, nIn, dst, r * nIn);
            return;
        }
        float[] column = new float[nRows];
        for (int i = 0; i < nIn; i++) {
            rows.decode(i, o0, nRows, column, 0);
            for (int r = 0; r < nRows; r++) dst[r * nIn + i] = column[r];
        }
    }
}

package io.herd.compute.cuda;

import io.herd.ffi.Cublas;

/**
 * Typed launches of Herd's kernels and cuBLAS on one {@link CudaDevice}'s stream. Arguments are device addresses
 * (long) and sizes; activations are fp32. Every method only queues work; nothing here synchronises.
 */
public final class CudaOps {
    /** Token rows from which a dense F32 linear goes to cuBLAS (exact fp32 either way). */
    static final int CUBLAS_MIN_ROWS_F32 = 9;
    /**
     * Token rows from which a dense BF16 linear goes to cuBLAS with bf16-rounded inputs (tensor cores). Below it the
     * GEMV kernel keeps fp32 inputs: a GEMM of few rows is memory-bound anyway, and on small batches the bf16 input
     * rounding is what flips near-tied routers.
     */
    static final int CUBLAS_MIN_ROWS_BF16 = 64;
    private static final int ELEMENTWISE_BLOCKS = 1024;
    /** Weights per dequantized block: 16 MB of bf16, well inside an H100/H200 L2 (50 MB) for cuBLAS to read back. */
    static final long DEQUANT_BLOCK_ELEMENTS = 8L << 20;
    /**
     * Block sizes {@link DequantGemmCheck} times: the L2-sized one, one of 128 MB whose GEMMs are wide enough to
     * fill the GPU (a 64-row GEMM of a 1600-row block launches only a few tiles), and one of 256 MB that takes every
     * dense Scout-sized matrix except the LM head (up to 26176 × 5120) in a single dequantization and one GEMM.
     */
    static final long[] DEQUANT_BLOCK_CANDIDATES = {DEQUANT_BLOCK_ELEMENTS, 64L << 20, 128L << 20};
    /** Most key splits per (token, head) of the flash-decoding kernel. */
    public static final int MAX_ATTENTION_SPLITS = 16;
    /** Decode tokens per step from which the kernel chosen for large batches runs (see DecodeAttentionCheck). */
    public static final int MANY_DECODE_TOKENS = 16;

    private final CudaDevice device;
    private long bf16Scratch;
    private long bf16ScratchBytes;
    private long actQ, actScales, actSums;
    private long actRowsTimesIn;
    private long splitScratch;
    private long splitEntries;
    private long dequantScratch, dequantScratchBytes;
    private long dequantBlockElements = DEQUANT_BLOCK_ELEMENTS;
    private int dequantGemmMinRows = Integer.MAX_VALUE;
    private boolean fusedRouter;
    private boolean slicedArgmax;
    private boolean fusedQuantize;
    private long argmaxScratch, argmaxEntries;
    static final int MAX_ARGMAX_SLICES = 256;
    private DecodeAttentionKernel decodeAttention = DecodeAttentionKernel.WARP_PER_HEAD;
    private DecodeAttentionKernel decodeAttentionMany = DecodeAttentionKernel.WARP_PER_HEAD;
    private boolean tiledInt4;
    private boolean tiledInt4Wide;
    private boolean pipelinedInt4;
    private boolean pipelinedInt4Wide;
    private boolean singleRowInt4;
    /**
     * Most warps per block of the split-K kernel (one per 1024 inputs, each a share of the block's 4 rows). With 8 it
     * won the load-time check on an H100 and cut batch-1 Scout decode from 6.64 to 6.42 ms per step (run 12). A
     * device lab (L2-cold) preferred 2, but in place the check then timed it slower than the tiled kernel on
     * 16384 x 5120 (22.5 vs 22.3 µs, run 13), so it was not used.
     */
    static final int SPLIT_K_WARPS = 8;

    public CudaOps(CudaDevice device) {
        this.device = device;
    }

    public CudaDevice device() {
        return device;
    }

    // ---- linear layers --------------------------------------------------------------------------------------

    /**
     * {@code y[m] (+)= x[m] · Wᵀ} for {@code m < nRows} rows of fp32 x [nRows, nIn] into fp32 y [nRows, nOut].
     * Dense F32 matrices from 9 rows and BF16 ones from 64 rows go to cuBLAS (BF16: x rounded to bf16 first, FP32
     * accumulation); F32/BF16 below that run Herd's GEMV kernel on fp32 x; INT8/INT4 quantize x per 32 inputs to
     * int8 and run Herd's dp4a kernel, or from {@link #useDequantGemmFrom} rows go through {@link #dequantGemm}.
     */
    public void linear(DeviceMatrix w, long x, long y, int nRows, boolean accumulate) {
        linear(w, x, y, nRows, accumulate, false);
    }

    /**
     * As {@link #linear(DeviceMatrix, long, long, int, boolean)}; {@code inputQuantized}: the int8 activations of x
     * for w's format are already in the scratch (from {@link #rmsnormQuantized} or {@link #siluMulQuantized}), so
     * the GEMV path skips its quantization. Only valid where {@link #quantizedGemv} is true for w and nRows.
     */
    public void linear(DeviceMatrix w, long x, long y, int nRows, boolean accumulate, boolean inputQuantized) {
        if (nRows <= 0) return;
        if (inputQuantized && !quantizedGemv(w, nRows)) {
            throw new IllegalStateException("pre-quantized input, but " + w.format() + " at " + nRows
                    + " rows does not run the int8-activation GEMV");
        }
        if (w.nGroups() != 1) throw new IllegalArgumentException("grouped matrix needs linearGrouped");
        if (usesGemv(w, nRows)) {
            launchLinear(w, 1, x, y, nRows, nRows, nRows, 0L, accumulate, nRows > 4, inputQuantized);
        } else if (w.format() == WeightFormat.F32) {
            device.cublas().gemmRowMajorXWt(device.cublasHandle(), nRows, w.nOut(), w.nIn(), x, w.data(),
                    Cublas.R_32F, y, Cublas.R_32F, accumulate);
        } else if (w.format() == WeightFormat.BF16) {
            long xb = bf16Scratch((long) nRows * w.nIn());
            convertF32ToBf16(x, xb, (long) nRows * w.nIn());
            device.cublas().gemmRowMajorXWt(device.cublasHandle(), nRows, w.nOut(), w.nIn(), xb, w.data(),
                    Cublas.R_16BF, y, Cublas.R_32F, accumulate);
        } else {
            dequantGemm(w, x, y, nRows, accumulate);
        }
    }

    /** Whether {@link #linear} runs the int8-activation GEMV for w at nRows (dense; grouped quantized always do). */
    public boolean quantizedGemv(DeviceMatrix w, int nRows) {
        return w.format().quantized() && (w.nGroups() != 1 || usesGemv(w, nRows));
    }

    /**
     * Many-row INT8/INT4 linear on tensor cores: x is rounded to bf16 once, then the weight is dequantized to bf16
     * a block of output rows at a time into a scratch small enough to stay in L2, and each block goes through
     * cuBLAS (BF16 × BF16, FP32 accumulation) into its column slice of y. Reads the packed weight once, like the
     * GEMV kernel, but the multiply runs at tensor-core rate instead of the dp4a kernel's per-row cost.
     */
    private void dequantGemm(DeviceMatrix w, long x, long y, int nRows, boolean accumulate) {
        int nIn = w.nIn(), nOut = w.nOut();
        long xb = bf16Scratch((long) nRows * nIn);
        convertF32ToBf16(x, xb, (long) nRows * nIn);
        int block = dequantBlockRows(nIn, dequantBlockElements);
        long scratch = dequantScratch((long) Math.min(block, nOut) * nIn);
        String kernel = w.format() == WeightFormat.INT4 ? "herd_dequant_int4_bf16" : "herd_dequant_int8_bf16";
        for (int r0 = 0; r0 < nOut; r0 += block) {
            int rows = Math.min(block, nOut - r0);
            long first = r0;
            long vectors = (long) rows * nIn / 8;
            device.launch(kernel, (int) Math.min(ELEMENTWISE_BLOCKS * 8L, (vectors + 255) / 256), 1, 1, 256, 1,
                    a -> a.ptr(w.data()).ptr(w.scales()).ptr(scratch).i64(first).i32(rows).i32(nIn)
                            .i32(w.groupSize()));
            device.cublas().gemmRowMajorXWt(device.cublasHandle(), nRows, rows, nIn, xb, scratch, Cublas.R_16BF,
                    y + 4L * r0, nOut, Cublas.R_32F, accumulate);
        }
    }

    /** Output rows dequantized per block: about {@value #DEQUANT_BLOCK_ELEMENTS} weights, a multiple of 64 rows. */
    static int dequantBlockRows(int nIn) {
        return dequantBlockRows(nIn, DEQUANT_BLOCK_ELEMENTS);
    }

    /** Output rows per block of about {@code elements} weights, a multiple of 64 rows (at least 64). */
    static int dequantBlockRows(int nIn, long elements) {
        return (int) Math.max(64, Math.min(Integer.MAX_VALUE / 2, elements / nIn) / 64 * 64);
    }

    /** Weights per dequantized block from now on: one of {@link #DEQUANT_BLOCK_CANDIDATES}. */
    public void useDequantBlockElements(long elements) {
        boolean known = false;
        for (long c : DEQUANT_BLOCK_CANDIDATES) known |= c == elements;
        if (!known) throw new IllegalArgumentException("dequant block of " + elements + " weights is not a candidate");
        dequantBlockElements = elements;
    }

    public long dequantBlockElements() {
        return dequantBlockElements;
    }

    private long dequantScratch(long elements) {
        long bytes = elements * 2;
        if (bytes > dequantScratchBytes) {
            if (dequantScratch != 0) {
                device.synchronize();
                device.free(dequantScratch);
            }
            dequantScratch = device.alloc(bytes);
            dequantScratchBytes = bytes;
        }
        return dequantScratch;
    }

    /** Reserves the dequantization block for matrices of up to {@code maxIn} inputs (none inside a graph). */
    public void reserveDequantScratch(int maxIn) {
        dequantScratch(dequantScratchBytes(maxIn) / 2);
    }

    /** Bytes {@link #reserveDequantScratch} allocates for matrices of up to {@code maxIn} inputs. */
    public static long dequantScratchBytes(int maxIn) {
        // the largest candidate; a block is never above max(elements, 64 rows), whatever the input width
        long largest = 0;
        for (long c : DEQUANT_BLOCK_CANDIDATES) largest = Math.max(largest, c);
        return 2 * Math.max(largest, 64L * maxIn);
    }

    /**
     * Token rows from which dense INT8/INT4 linears take the dequantize + cuBLAS path ({@link Integer#MAX_VALUE}:
     * never, the default until {@link DequantGemmCheck} chose a threshold on this device).
     */
    public void useDequantGemmFrom(int minRows) {
        if (minRows < 1) throw new IllegalArgumentException("minRows must be positive, got " + minRows);
        dequantGemmMinRows = minRows;
    }

    public int dequantGemmMinRows() {
        return dequantGemmMinRows;
    }

    /** Whether {@link #linear} runs Herd's GEMV kernel for w at nRows (not cuBLAS, not dequantize + cuBLAS). */
    public boolean usesGemv(DeviceMatrix w, int nRows) {
        return switch (w.format()) {
            case F32 -> nRows < CUBLAS_MIN_ROWS_F32;
            case BF16 -> nRows < CUBLAS_MIN_ROWS_BF16;
            default -> nRows < dequantGemmMinRows;
        };
    }

    /**
     * Grouped (MoE) linear over {@code nRows} rows of x: group g's rows are {@code [offsets[g], offsets[g+1])}
     * (device int array of nGroups+1), multiplied by matrix g. Blocks are launched for at most nRows groups and
     * find the non-empty groups on the device, so a decode step with one routed token runs one expert's blocks.
     * {@code nGroups} ≤ w.nGroups() are routed (a stack may hold the shared expert as one group more, used only by
     * the steps that route to it); {@code maxRowsPerGroup} bounds any group's rows (1 picks the one-row kernel);
     * {@code wide} picks the kernel that shares one weight load among 16 rows (prefill) instead of 4 (decode).
     * {@code inputQuantized} as in {@link #linear(DeviceMatrix, long, long, int, boolean, boolean)}.
     */
    public void linearGrouped(DeviceMatrix w, int nGroups, long x, long y, long offsets, int nRows, int maxRowsPerGroup,
                              boolean wide, boolean accumulate, boolean inputQuantized) {
        if (nRows <= 0) return;
        if (nGroups < 1 || nGroups > w.nGroups()) {
            throw new IllegalArgumentException(nGroups + " groups routed, the stack has " + w.nGroups());
        }
        if (inputQuantized && !w.format().quantized()) {
            throw new IllegalStateException("pre-quantized input for a " + w.format() + " matrix");
        }
        launchLinear(w, nGroups, x, y, 0, nRows, maxRowsPerGroup, offsets, accumulate, wide, inputQuantized);
    }

    private void launchLinear(DeviceMatrix w, int nGroups, long x, long y, int m, int nRowsTotal, int maxRowsPerGroup,
                              long offsets, boolean accumulate, boolean wide, boolean inputQuantized) {
        boolean tiled = w.format() == WeightFormat.INT4 && (wide ? tiledInt4Wide : tiledInt4);
        // pipelined tiled variants: the wide one for more than 4 rows, the one-row one (MT = 1) for a single row;
        // or for a single row the split-K kernel (4 rows per block, the inputs over up to 8 warps)
        String single = singleRowInt4 ? "herd_linear_splitk_single_"
                : pipelinedInt4 ? "herd_linear_pipelined_single_" : "herd_linear_tiled_";
        String tiledName = wide ? (pipelinedInt4Wide ? "herd_linear_pipelined_wide_" : "herd_linear_tiled_wide_")
                : (maxRowsPerGroup == 1 ? single : "herd_linear_tiled_");
        String kernel = (tiled ? tiledName : (wide ? "herd_linear_wide_" : "herd_linear_")) + w.format().kernelSuffix;
        boolean splitK = kernel.startsWith("herd_linear_splitk_");
        // split-K: 4 rows per block, the inputs over SPLIT_K_WARPS warps; the tiled kernels: 4 rows per warp
        int warps = splitK ? Math.max(1, Math.min(SPLIT_K_WARPS, (w.nIn() + 1023) / 1024)) : 8;
        int rowsPerBlock = splitK ? 4 : tiled ? warps * 4 : warps;
        int gridX = (w.nOut() + rowsPerBlock - 1) / rowsPerBlock;
        int gridY = offsets == 0 ? 1 : Math.min(nGroups, nRowsTotal);
        int nGroupsTotal = offsets == 0 ? 0 : nGroups;
        if (w.format().quantized()) {
            if (!inputQuantized) quantizeActivations(x, nRowsTotal, w.nIn(), w.format() == WeightFormat.INT4);
            device.launch(kernel, gridX, gridY, 1, warps * 32, 1, a -> a
                    .ptr(actQ).ptr(actScales).ptr(actSums).ptr(y).ptr(w.data()).ptr(w.scales())
                    .i32(w.nOut()).i32(w.nIn()).i32(w.groupSize()).i32(m).ptr(offsets).i32(nGroupsTotal)
                    .i64(w.groupStrideBytes()).i64(w.groupStrideScales()).i32(accumulate ? 1 : 0));
        } else {
            device.launch(kernel, gridX, gridY, 1, warps * 32, 1, a -> a
                    .ptr(x).ptr(y).ptr(w.data()).i32(w.nOut()).i32(w.nIn()).i32(m).ptr(offsets).i32(nGroupsTotal)
                    .i64(w.groupStrideBytes()).i32(accumulate ? 1 : 0));
        }
    }

    /**
     * Uses the register-tiled int4 kernels (4 output rows per warp) for up to 4 rows ({@code narrow}) and for more
     * rows ({@code wide}) instead of the one-row-per-warp kernels; see {@link LinearKernelCheck}.
     */
    public void useTiledInt4(boolean narrow, boolean wide) {
        tiledInt4 = narrow;
        tiledInt4Wide = wide;
    }

    public boolean tiledInt4() {
        return tiledInt4;
    }

    public boolean tiledInt4Wide() {
        return tiledInt4Wide;
    }

    /**
     * Uses the software-pipelined one-row variant of the tiled int4 kernel (next weights loaded before the current
     * ones are multiplied, fewer registers; bit-identical results) where the narrow tiled kernel runs on a single
     * token row; see {@link LinearKernelCheck}.
     */
    public void usePipelinedInt4(boolean pipelined) {
        pipelinedInt4 = pipelined;
    }

    public boolean pipelinedInt4() {
        return pipelinedInt4;
    }

    /**
     * Uses the split-K int4 kernel (4 rows per block, the inputs spread over its warps; equal up to fp32 rounding)
     * where the narrow tiled kernel runs on single-row groups; takes precedence over {@link #usePipelinedInt4}. See
     * {@link LinearKernelCheck}.
     */
    public void useSingleRowInt4(boolean singleRow) {
        singleRowInt4 = singleRow;
    }

    public boolean singleRowInt4() {
        return singleRowInt4;
    }

    /** As {@link #usePipelinedInt4}, for the wide tiled kernel (more than 4 rows). */
    public void usePipelinedInt4Wide(boolean pipelined) {
        pipelinedInt4Wide = pipelined;
    }

    public boolean pipelinedInt4Wide() {
        return pipelinedInt4Wide;
    }

    /** The GEMV's own activation quantization of x (rows × nIn) into the scratch (for the on-device checks). */
    void quantizeForCheck(long x, int nRows, int nIn, boolean int4Order) {
        quantizeActivations(x, nRows, nIn, int4Order);
    }

    /** int8 activations (per 32 inputs) for the quantized kernels, into the reserved scratch. */
    private void quantizeActivations(long x, int nRows, int nIn, boolean int4Order) {
        if (nIn % 32 != 0) throw new IllegalArgumentException("quantized linear needs nIn % 32 == 0, got " + nIn);
        reserveActivationScratch(nRows, nIn);
        long nGroups = (long) nRows * nIn / 32;
        device.launch("herd_quantize_act_q8", (int) ((nGroups + 7) / 8), 1, 1, 256, 1, a -> a
                .ptr(x).ptr(actQ).ptr(actScales).ptr(actSums).i32(nIn).i32(int4Order ? 1 : 0).i64(nGroups));
    }

    /** Reserves int8 activation scratch for rows × nIn up front (no allocation inside a captured graph). */
    public void reserveActivationScratch(long rows, long nIn) {
        long n = rows * nIn;
        if (n <= actRowsTimesIn) return;
        if (actQ != 0) {
            device.synchronize();
            device.free(actQ);
            device.free(actScales);
            device.free(actSums);
        }
        actQ = device.alloc(n);
        actScales = device.alloc(n / 32 * 4 + 16);
        actSums = device.alloc(n / 32 * 4 + 16);
        actRowsTimesIn = n;
    }

    private long bf16Scratch(long elements) {
        long bytes = elements * 2;
        if (bytes > bf16ScratchBytes) {
            if (bf16Scratch != 0) {
                device.synchronize();
                device.free(bf16Scratch);
            }
            bf16Scratch = device.alloc(bytes);
            bf16ScratchBytes = bytes;
        }
        return bf16Scratch;
    }

    /** Reserves the bf16 staging buffer up front so no allocation happens inside a captured graph. */
    public void reserveBf16Scratch(long elements) {
        bf16Scratch(elements);
    }

    // ---- elementwise and norms ------------------------------------------------------------------------------

    public void convertF32ToBf16(long x, long y, long n) {
        device.launch("herd_convert_f32_bf16", blocks(n), 1, 1, 256, 1, a -> a.ptr(x).ptr(y).i64(n));
    }

    public void convertBf16ToF32(long x, long y, long n) {
        device.launch("herd_convert_bf16_f32", blocks(n), 1, 1, 256, 1, a -> a.ptr(x).ptr(y).i64(n));
    }

    /** y[r] = rmsnorm(x[rows ? rows[r] : r]) · g for r < nRows; g = 0 means no gain. */
    public void rmsnorm(long x, long gain, long y, int nRows, int dim, float eps, long rows) {
        device.launch("herd_rmsnorm_f32", nRows, 1, 1, Math.min(1024, roundUp(dim, 32)), 1,
                a -> a.ptr(x).ptr(gain).ptr(y).i32(dim).f32(eps).ptr(rows));
    }

    /** out[t] = table[ids[t]] as fp32; table is F32 or BF16 [vocab, dim]. */
    public void embed(long table, WeightFormat tableFormat, long ids, long out, int nTok, int dim) {
        String k = switch (tableFormat) {
            case F32 -> "herd_embed_f32";
            case BF16 -> "herd_embed_bf16";
            default -> throw new IllegalArgumentException("embedding table must be F32 or BF16, not " + tableFormat);
        };
        device.launch(k, nTok, 1, 1, 256, 1, a -> a.ptr(table).ptr(ids).ptr(out).i32(dim));
    }

    /**
     * y = rmsnorm as {@link #rmsnorm}, and its int8 activations for a following {@code format} (INT8/INT4) GEMV in
     * the scratch, in one launch. Bit-identical to rmsnorm + the GEMV's own quantization (see FusedQuantizeCheck).
     */
    public void rmsnormQuantized(long x, long gain, long y, int nRows, int dim, float eps, long rows,
                                 WeightFormat format) {
        if (!format.quantized() || dim % 32 != 0) {
            throw new IllegalArgumentException("fused quantization needs INT8/INT4 and dim % 32 == 0: " + format + ", " + dim);
        }
        reserveActivationScratch(nRows, dim);
        boolean int4 = format == WeightFormat.INT4;
        device.launch("herd_rmsnorm_quantize_f32", nRows, 1, 1, Math.min(1024, roundUp(dim, 32)), 1,
                a -> a.ptr(x).ptr(gain).ptr(y).i32(dim).f32(eps).ptr(rows).ptr(actQ).ptr(actScales).ptr(actSums)
                        .i32(int4 ? 1 : 0));
    }

    /**
     * The int8 activations of silu(h[t, j]) · h[t, F + j] for a following {@code format} GEMV, in the scratch,
     * without writing the f32 product (one launch instead of silu-mul + quantization, bit-identical).
     */
    public void siluMulQuantized(long h, int nRows, int f, WeightFormat format) {
        if (!format.quantized() || f % 32 != 0) {
            throw new IllegalArgumentException("fused quantization needs INT8/INT4 and F % 32 == 0: " + format + ", " + f);
        }
        reserveActivationScratch(nRows, f);
        long nGroups = (long) nRows * f / 32;
        boolean int4 = format == WeightFormat.INT4;
        device.launch("herd_quantize_act_q8_silu", (int) ((nGroups + 7) / 8), 1, 1, 256, 1, a -> a
                .ptr(h).i32(f).ptr(actQ).ptr(actScales).ptr(actSums).i32(int4 ? 1 : 0).i64(nGroups));
    }

    /** Uses {@link #rmsnormQuantized} and {@link #siluMulQuantized} where callers may (see FusedQuantizeCheck). */
    public void useFusedQuantize(boolean fused) {
        fusedQuantize = fused;
    }

    public boolean fusedQuantize() {
        return fusedQuantize;
    }

    /** Device addresses of the int8 activation scratch: values, scales, sums (for the on-device checks). */
    long[] activationScratch() {
        return new long[] {actQ, actScales, actSums};
    }

    /** a[t, j] = silu(h[t, j]) · h[t, F + j] for t < nRows. */
    public void siluMul(long h, long a, int nRows, int f) {
        long total = (long) nRows * f;
        device.launch("herd_silu_mul_f32", blocks(total), 1, 1, 256, 1, k -> k.ptr(h).ptr(a).i32(f).i64(total));
    }

    /**
     * out[r] = index of the largest of row r's vocab logits (lowest index on ties): one block per row, or with
     * {@link #useSlicedArgmax} the two-pass kernels that spread each row over up to 256 blocks.
     */
    public void argmax(long logits, int nRows, int vocab, long out) {
        if (nRows <= 0) return;
        int slices = argmaxSlices(nRows, vocab);
        if (slicedArgmax && (long) nRows * slices <= argmaxEntries) {
            long partV = argmaxScratch, partI = argmaxScratch + 4L * argmaxEntries;
            device.launch("herd_argmax_partial_f32", nRows, slices, 1, 256, 1,
                    a -> a.ptr(logits).i32(vocab).ptr(partV).ptr(partI));
            device.launch("herd_argmax_final", nRows, 1, 1, 256, 1,
                    a -> a.ptr(partV).ptr(partI).i32(slices).ptr(out));
        } else {
            device.launch("herd_argmax_f32", nRows, 1, 1, 256, 1, a -> a.ptr(logits).i32(vocab).ptr(out));
        }
    }

    /** Slices per row of the two-pass argmax: about two blocks per multiprocessor, ≥ 1024 entries each, ≤ 256. */
    int argmaxSlices(int nRows, int vocab) {
        int wanted = (2 * device.info().multiprocessors() + nRows - 1) / nRows;
        return Math.max(1, Math.min(Math.min(MAX_ARGMAX_SLICES, wanted), (vocab + 1023) / 1024));
    }

    /** Reserves the two-pass argmax's partial results for up to {@code maxRows} rows (none inside a graph). */
    public void reserveArgmaxScratch(int maxRows) {
        long entries = (long) maxRows * MAX_ARGMAX_SLICES;
        if (entries <= argmaxEntries) return;
        if (argmaxScratch != 0) {
            device.synchronize();
            device.free(argmaxScratch);
        }
        argmaxScratch = device.alloc(entries * 8);
        argmaxEntries = entries;
    }

    /** Uses the two-pass argmax (see {@link ArgmaxKernelCheck}); rows beyond the reserved scratch use one pass. */
    public void useSlicedArgmax(boolean sliced) {
        slicedArgmax = sliced;
    }

    public boolean slicedArgmax() {
        return slicedArgmax;
    }

    // ---- attention ------------------------------------------------------------------------------------------

    /** Paged-KV addressing of one step: per-token position and sequence, and the [nSeq, maxBlocks] table. */
    public record KvAddressing(long tokPos, long tokSeq, long blockTables, int maxBlocks, int blockSize) {}

    /**
     * RoPE (omega != 0), qk-norm, temperature tuning on the fused qkv [nTok, (nHeads + 2 nKv)·headDim], and the
     * write of k, v into the layer's cache (kvBf16: bf16 cache, else f32).
     */
    public void attnPrep(long qkv, long kCache, long vCache, boolean kvBf16, KvAddressing kv, int nTok, int nHeads,
                         int nKv, int headDim, long omega, boolean qkNorm, float eps, boolean tempTuning,
                         float attnScale, float floorScale) {
        // whole warps: the kernel's block reduction (qk-norm) shuffles across full warps
        int threads = Math.max(32, roundUp(headDim / 2, 32));
        device.launch(kvBf16 ? "herd_attn_prep_bf16" : "herd_attn_prep_f32", nTok, nHeads + nKv, 1, threads, 1,
                a -> a.ptr(qkv).ptr(kCache).ptr(vCache).ptr(kv.tokPos()).ptr(kv.tokSeq()).ptr(kv.blockTables())
                        .i32(kv.maxBlocks()).i32(kv.blockSize()).i32(nHeads).i32(nKv).i32(headDim).ptr(omega)
                        .i32(qkNorm ? 1 : 0).f32(eps).i32(tempTuning ? 1 : 0).f32(attnScale).f32(floorScale));
    }

    /**
     * Decode attention over the paged cache (chunkSize 0 = global causal) with the kernel chosen by
     * {@link #useDecodeAttention} (the warp-per-head kernel until then, and always for other head sizes).
     */
    public void attentionDecode(long qkv, long out, long kCache, long vCache, boolean kvBf16, KvAddressing kv,
                                int nTok, int nHeads, int nKv, int headDim, int chunkSize, float scale) {
        DecodeAttentionKernel k = nTok >= MANY_DECODE_TOKENS ? decodeAttentionMany : decodeAttention;
        attentionDecode(k.supports(headDim, nHeads, nKv) ? k : DecodeAttentionKernel.WARP_PER_HEAD,
                qkv, out, kCache, vCache, kvBf16, kv, nTok, nHeads, nKv, headDim, chunkSize, scale);
    }

    /** Decode attention with a given kernel (which must support headDim). */
    public void attentionDecode(DecodeAttentionKernel kernel, long qkv, long out, long kCache, long vCache,
                                boolean kvBf16, KvAddressing kv, int nTok, int nHeads, int nKv, int headDim,
                                int chunkSize, float scale) {
        if (!kernel.supports(headDim, nHeads, nKv)) {
            throw new IllegalArgumentException(kernel + " does not serve headDim " + headDim + " with " + nHeads
                    + " query heads over " + nKv + " KV heads");
        }
        switch (kernel) {
            case WARP_PER_HEAD -> attentionDecodeWarpPerHead(qkv, out, kCache, vCache, kvBf16, kv, nTok, nHeads, nKv,
                    headDim, chunkSize, scale);
            case BLOCK_PER_HEAD_HD128 -> device.launch(kvBf16 ? "herd_attention_decode_hd128_bf16"
                            : "herd_attention_decode_hd128_f32", nTok * nHeads, 1, 1, 128, 1,
                    a -> a.ptr(qkv).ptr(out).ptr(kCache).ptr(vCache).ptr(kv.tokPos()).ptr(kv.tokSeq())
                            .ptr(kv.blockTables()).i32(kv.maxBlocks()).i32(kv.blockSize()).i32(nHeads).i32(nKv)
                            .i32(chunkSize).f32(scale));
            case SPLIT_KEYS_HD128 -> {
                int heads = nTok * nHeads;
                int splits = attentionSplits(heads);
                if ((long) heads * splits > splitEntries) {
                    throw new IllegalStateException("split attention scratch holds " + splitEntries + " partial states, "
                            + heads + " heads x " + splits + " splits need more (reserveAttentionSplits)");
                }
                long pMax = splitScratch, pSum = splitScratch + 4L * splitEntries, pAcc = splitScratch + 8L * splitEntries;
                device.launch(kvBf16 ? "herd_attention_split_hd128_bf16" : "herd_attention_split_hd128_f32", heads,
                        splits, 1, 128, 1, a -> a.ptr(qkv).ptr(kCache).ptr(vCache).ptr(kv.tokPos()).ptr(kv.tokSeq())
                                .ptr(kv.blockTables()).i32(kv.maxBlocks()).i32(kv.blockSize()).i32(nHeads).i32(nKv)
                                .i32(chunkSize).f32(scale).ptr(pMax).ptr(pSum).ptr(pAcc));
                device.launch("herd_attention_merge_hd128", heads, 1, 1, 128, 1,
                        a -> a.ptr(pMax).ptr(pSum).ptr(pAcc).ptr(out).i32(splits));
            }
            case GQA_SPLIT_HD128 -> {
                int heads = nTok * nHeads;
                // blocks are per (token, KV head); the partial states per (token, query head) must fit the scratch
                int splits = (int) Math.min(gqaSplitsFor(nTok * nKv, device.info().multiprocessors()),
                        splitEntries / heads);
                if (splits < 1) {
                    throw new IllegalStateException("split attention scratch holds " + splitEntries
                            + " partial states, " + heads + " heads need more (reserveAttentionSplits)");
                }
                long pMax = splitScratch, pSum = splitScratch + 4L * splitEntries, pAcc = splitScratch + 8L * splitEntries;
                device.launch(kvBf16 ? "herd_attention_gqa_hd128_bf16" : "herd_attention_gqa_hd128_f32", nTok * nKv,
                        splits, 1, 128, 1, a -> a.ptr(qkv).ptr(kCache).ptr(vCache).ptr(kv.tokPos()).ptr(kv.tokSeq())
                                .ptr(kv.blockTables()).i32(kv.maxBlocks()).i32(kv.blockSize()).i32(nHeads).i32(nKv)
                                .i32(chunkSize).f32(scale).ptr(pMax).ptr(pSum).ptr(pAcc));
                device.launch("herd_attention_merge_hd128", heads, 1, 1, 128, 1,
                        a -> a.ptr(pMax).ptr(pSum).ptr(pAcc).ptr(out).i32(splits));
            }
        }
    }

    /** Chooses the kernel {@link #attentionDecode} uses for the head sizes it supports (any token count). */
    public void useDecodeAttention(DecodeAttentionKernel kernel) {
        useDecodeAttention(kernel, kernel);
    }

    /**
     * Chooses the decode attention kernels: {@code few} below {@value #MANY_DECODE_TOKENS} tokens per step,
     * {@code many} from there on (each falls back to the warp-per-head kernel for shapes it does not serve).
     */
    public void useDecodeAttention(DecodeAttentionKernel few, DecodeAttentionKernel many) {
        decodeAttention = few;
        decodeAttentionMany = many;
    }

    public DecodeAttentionKernel decodeAttentionMany() {
        return decodeAttentionMany;
    }

    public DecodeAttentionKernel decodeAttention() {
        return decodeAttention;
    }

    /**
     * Key splits per (token, head) of the flash-decoding kernel: enough blocks for two per multiprocessor, at
     * most {@value #MAX_ATTENTION_SPLITS}. Fixed for a given batch, so a captured graph stays valid as positions grow.
     */
    public int attentionSplits(int tokenHeads) {
        return splitsFor(tokenHeads, device.info().multiprocessors());
    }

    static int splitsFor(int tokenHeads, int multiprocessors) {
        if (tokenHeads <= 0) throw new IllegalArgumentException("tokenHeads must be positive, got " + tokenHeads);
        int target = 2 * multiprocessors;
        return Math.max(1, Math.min(MAX_ATTENTION_SPLITS, (target + tokenHeads - 1) / tokenHeads));
    }

    /**
     * Key splits per (token, KV head) block of the GQA kernel: enough blocks for four per multiprocessor. Each GQA
     * block reads the keys of a whole query-head group, so with one split per block a 64-token batch (512 blocks on
     * Scout) runs a few long blocks per SM and the longest sequences set the step time; twice the flash-decoding
     * target splits long contexts over more blocks (any split count is exact: the merge kernel combines the
     * partial softmax states). Fixed for a given batch, like {@link #splitsFor}, so captured graphs stay valid.
     */
    static int gqaSplitsFor(int tokenKvHeads, int multiprocessors) {
        return splitsFor(tokenKvHeads, 2 * multiprocessors);
    }

    /**
     * Reserves the flash-decoding scratch for up to {@code maxTokenHeads} (token, head) pairs up front (no
     * allocation inside a captured graph).
     */
    public void reserveAttentionSplits(long maxTokenHeads) {
        // the GQA kernel sizes its splits by (token, KV head) blocks against twice the SMs (gqaSplitsFor): up to
        // MAX_GQA_GROUP times the entries of that target
        long entries = splitEntriesFor(maxTokenHeads, 2 * device.info().multiprocessors())
                * DecodeAttentionKernel.MAX_GQA_GROUP;
        if (entries <= splitEntries) return;
        if (splitScratch != 0) {
            device.synchronize();
            device.free(splitScratch);
        }
        splitScratch = device.alloc(entries * (2 + 128) * 4);
        splitEntries = entries;
    }

    /** Partial states the flash-decoding kernel needs at most for up to maxTokenHeads pairs on that many SMs. */
    public static long splitEntriesFor(long maxTokenHeads, int multiprocessors) {
        // heads * ceil(2 SMs / heads) < 2 SMs + heads
        return maxTokenHeads + 2L * multiprocessors;
    }

    /** The general decode kernel (any even headDim up to 256): one warp per (token, head). */
    public void attentionDecodeWarpPerHead(long qkv, long out, long kCache, long vCache, boolean kvBf16,
                                           KvAddressing kv, int nTok, int nHeads, int nKv, int headDim, int chunkSize,
                                           float scale) {
        int warps = nTok * nHeads;
        device.launch(kvBf16 ? "herd_attention_decode_bf16" : "herd_attention_decode_f32", (warps + 3) / 4, 1, 1,
                128, 1, a -> a.ptr(qkv).ptr(out).ptr(kCache).ptr(vCache).ptr(kv.tokPos()).ptr(kv.tokSeq())
                        .ptr(kv.blockTables()).i32(kv.maxBlocks()).i32(kv.blockSize()).i32(nHeads).i32(nKv)
                        .i32(headDim).i32(chunkSize).f32(scale).i32(nTok));
    }

    /** Tiled prefill attention over nTiles tiles (tileStart/tileLen device arrays; ≤ 16 tokens each). */
    public void attentionPrefill(long qkv, long out, long kCache, long vCache, boolean kvBf16, KvAddressing kv,
                                 long tileStart, long tileLen, int nTiles, int nHeads, int nKv, int headDim,
                                 int chunkSize, float scale) {
        device.launch(kvBf16 ? "herd_attention_prefill_bf16" : "herd_attention_prefill_f32", nTiles, nHeads, 1, 128,
                1, a -> a.ptr(qkv).ptr(out).ptr(kCache).ptr(vCache).ptr(kv.tokPos()).ptr(kv.tokSeq())
                        .ptr(kv.blockTables()).i32(kv.maxBlocks()).i32(kv.blockSize()).i32(nHeads).i32(nKv)
                        .i32(headDim).i32(chunkSize).f32(scale).ptr(tileStart).ptr(tileLen));
    }

    // ---- mixture of experts ---------------------------------------------------------------------------------

    /**
     * Router logits {@code x · Wᵀ} (fp32 W [nExperts, nIn]) into {@code logits}, then top-k + sigmoid into ids and
     * scores: with the fused kernel (one launch, a warp per expert) once {@link #useFusedRouter} chose it, else the
     * verified F32 linear followed by {@link #routerTopkSigmoid}.
     */
    public void router(DeviceMatrix w, long x, long logits, int k, long ids, long scores, int nTok) {
        if (nTok <= 0) return;
        if (w.format() != WeightFormat.F32 || w.nGroups() != 1) {
            throw new IllegalArgumentException("router weights must be one dense F32 matrix, got " + w);
        }
        if (fusedRouter && w.nOut() <= 1024 && w.nIn() % 4 == 0) {  // the fused kernel loads float4
            int threads = Math.min(1024, 32 * w.nOut());
            device.launch("herd_router_fused_f32", nTok, 1, 1, threads, 1, a -> a.ptr(x).ptr(w.data()).ptr(logits)
                    .i32(w.nOut()).i32(w.nIn()).i32(k).ptr(ids).ptr(scores));
        } else {
            linear(w, x, logits, nTok, false);
            routerTopkSigmoid(logits, w.nOut(), k, ids, scores, nTok);
        }
    }

    /** Uses the fused router kernel in {@link #router} (see {@link RouterKernelCheck}). */
    public void useFusedRouter(boolean fused) {
        fusedRouter = fused;
    }

    public boolean fusedRouter() {
        return fusedRouter;
    }

    public void routerTopkSigmoid(long logits, int nExperts, int k, long ids, long scores, int nTok) {
        device.launch("herd_router_topk_sigmoid_f32", (nTok + 127) / 128, 1, 1, 128, 1,
                a -> a.ptr(logits).i32(nExperts).i32(k).ptr(ids).ptr(scores).i32(nTok));
    }

    /** Groups herd_moe_route can sort assignments into (its shared-memory counters): experts, plus the shared one. */
    public static final int MAX_ROUTED_GROUPS = 1024;

    /**
     * Groups the {@code nTok * (k + shared)} expert assignments by group into offsets (nExperts + shared + 1 ints),
     * posOfAssign and assignOfPos; {@code shared} = 1 routes every token to the shared expert too, as group
     * nExperts with score 1 (its rows come last).
     */
    public void moeRoute(long ids, int nTok, int k, int shared, int nExperts, long offsets, long posOfAssign,
                         long assignOfPos) {
        if (nExperts + shared > MAX_ROUTED_GROUPS) {
            throw new IllegalArgumentException("at most " + MAX_ROUTED_GROUPS + " routed groups, got " + (nExperts + shared));
        }
        device.launch("herd_moe_route", 1, 1, 1, 1024, 1, a -> a.ptr(ids).i32(nTok).i32(k).i32(shared).i32(nExperts)
                .ptr(offsets).ptr(posOfAssign).ptr(assignOfPos));
    }

    /** xp[row] = x[token of row's assignment] · its router score, for the {@code nRows} routed rows. */
    public void moePermute(long x, long assignOfPos, long scores, long xp, int nRows, int k, int shared, int dim) {
        device.launch("herd_moe_permute_f32", nRows, rowSlices(nRows, dim), 1, 256, 1,
                a -> a.ptr(x).ptr(assignOfPos).ptr(scores).ptr(xp).i32(k).i32(shared).i32(dim));
    }

    /**
     * {@link #moePermute} straight into the int8 activations of a grouped linear in {@code format} (bit-identical
     * to permuting, then quantizing; one launch and one f32 row write fewer). Needs dim % 32 == 0.
     */
    public void moePermuteQuantized(long x, long assignOfPos, long scores, int nRows, int k, int shared, int dim,
                                    WeightFormat format) {
        if (dim % 32 != 0) throw new IllegalArgumentException("fused quantization needs dim % 32 == 0, got " + dim);
        reserveActivationScratch(nRows, dim);
        long nGroups = (long) nRows * dim / 32;
        device.launch("herd_moe_permute_quantize_f32", (int) ((nGroups + 7) / 8), 1, 1, 256, 1, a -> a
                .ptr(x).ptr(assignOfPos).ptr(scores).i32(k).i32(shared).i32(dim).ptr(actQ).ptr(actScales)
                .ptr(actSums).i32(format == WeightFormat.INT4 ? 1 : 0).i64(nGroups));
    }

    /** h[t] += the sum of token t's {@code k + shared} expert output rows of yp. */
    public void moeUnpermuteAdd(long yp, long posOfAssign, long h, int nTok, int k, int shared, int dim) {
        device.launch("herd_moe_unpermute_add_f32", nTok, rowSlices(nTok, dim), 1, 256, 1,
                a -> a.ptr(yp).ptr(posOfAssign).ptr(h).i32(k).i32(shared).i32(dim));
    }

    // ---- weights: conversion, transposition, quantization, synthetic fills ----------------------------------

    /** dst[b] = src[b]ᵀ for {@code batch} matrices [rows, cols] (bf16 when elementBytes is 2, else f32). */
    public void transpose(long src, long dst, int rows, int cols, int batch, int elementBytes) {
        device.launch(elementBytes == 2 ? "herd_transpose_bf16" : "herd_transpose_f32", (cols + 31) / 32,
                (rows + 31) / 32, batch, 32, 8, a -> a.ptr(src).ptr(dst).i32(rows).i32(cols));
    }

    /** Quantizes rows×cols f32 or bf16 weights into {@code target} (INT8/INT4) with bf16 group scales. */
    public void quantize(long src, boolean srcBf16, WeightFormat target, long q, long scales, int rows, int cols,
                         int group) {
        String k = "herd_quantize_" + target.kernelSuffix + (srcBf16 ? "_bf16" : "_f32");
        long groups = (long) rows * (cols / group);
        device.launch(k, (int) ((groups + 255) / 256), 1, 1, 256, 1,
                a -> a.ptr(src).ptr(q).ptr(scales).i32(rows).i32(cols).i32(group));
    }

    public void fillRandomBytes(long p, long bytes, long seed) {
        device.launch("herd_fill_random_u8", blocks(bytes / 8 + 1), 1, 1, 256, 1, a -> a.ptr(p).i64(bytes).i64(seed));
    }

    public void fillRandomBf16(long p, long n, long seed, float amp) {
        device.launch("herd_fill_random_bf16", blocks(n), 1, 1, 256, 1, a -> a.ptr(p).i64(n).i64(seed).f32(amp));
    }

    public void fillRandomF32(long p, long n, long seed, float amp) {
        device.launch("herd_fill_random_f32", blocks(n), 1, 1, 256, 1, a -> a.ptr(p).i64(n).i64(seed).f32(amp));
    }

    public void fillBf16(long p, long n, float value) {
        device.launch("herd_fill_const_bf16", blocks(n), 1, 1, 256, 1, a -> a.ptr(p).i64(n).f32(value));
    }

    /** Blocks per row of a row-wise elementwise kernel: about two blocks per multiprocessor in all, ≥ 1. */
    private int rowSlices(int rows, int dim) {
        int perRow = (2 * device.info().multiprocessors() + rows - 1) / rows;
        return Math.max(1, Math.min(perRow, (dim + 255) / 256));
    }

    private static int blocks(long n) {
        return (int) Math.max(1, Math.min(ELEMENTWISE_BLOCKS * 8L, (n + 255) / 256));
    }

    private static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }
}

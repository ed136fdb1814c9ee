package io.herd.compute.cpu;

import static io.herd.compute.cpu.Simd.LANES;
import static io.herd.compute.cpu.Simd.roundUp;

/**
 * {@code y = x · Wᵀ} for any stored format, multi-threaded by splitting the outputs. Each task decodes a panel of
 * weights (sized for the L1 cache) to fp32 once and runs it against every token of a token block of up to
 * {@link #TOKEN_BLOCK} tokens, so a weight cache line comes from memory once per token block: for decode (one token)
 * this streams the weights at memory speed, for prefill and batched decode it turns into register-tiled GEMM.
 */
final class PanelGemm {
    private PanelGemm() {}

    /** Tokens whose accumulators one task keeps while it walks all of its weights. */
    static final int TOKEN_BLOCK = 64;
    /** Row-major: inputs decoded per panel row (4 rows × 2048 fp32 = 32 KiB, the L1 data cache). */
    static final int ROW_CHUNK = 2048;
    /** Row-major: values of one row decoded before moving to the next row of the group (a multiple of LANES). */
    static final int DECODE_PIECE = 256;
    /**
     * Input-major: most outputs per task. Long runs of one stored row (4 KiB of bf16, a page) keep the hardware
     * prefetchers streaming; short runs spread over thousands of rows ran at a quarter of the bandwidth.
     */
    static final int OUT_BLOCK = 2048;
    /** Input-major: stored rows (inputs) per panel, 8 × 2048 fp32 = 64 KiB. */
    static final int IN_CHUNK = 8;

    /** Per-thread panels and accumulators, reused across calls. */
    private static final class Scratch {
        final float[] panel = new float[Math.max(4 * ROW_CHUNK, IN_CHUNK * OUT_BLOCK)];
        final float[] acc = new float[TOKEN_BLOCK * OUT_BLOCK];
        final float[] sums = new float[16];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** W stored [nOut, nIn]: stored row o holds output o's weights. */
    static void rowMajor(StoredRows w, int nOut, int nIn, float[] x, float[] y, int nTokens, CpuThreadPool pool) {
        checkArgs(nOut, nIn, x, y, nTokens);
        // Kernels read x in whole vectors; a copy padded with zeros keeps ragged rows inside the array.
        int xStride = roundUp(nIn, LANES);
        float[] xs = x;
        if (xStride != nIn) {
            xs = new float[nTokens * xStride];
            for (int t = 0; t < nTokens; t++) System.arraycopy(x, t * nIn, xs, t * xStride, nIn);
        }
        final float[] xp = xs;
        int nGroups = (nOut + 3) / 4;
        int groupsPerTask = Math.clamp(nGroups / (8 * pool.parallelism()), 1, 64);
        int nTasks = (nGroups + groupsPerTask - 1) / groupsPerTask;
        pool.parallelFor(nTasks, task -> {
            Scratch s = SCRATCH.get();
            int gEnd = Math.min(nGroups, (task + 1) * groupsPerTask);
            for (int g = task * groupsPerTask; g < gEnd; g++) rowGroup(w, nOut, nIn, xp, xStride, y, nTokens, 4 * g, s);
        });
    }

    private static void rowGroup(StoredRows w, int nOut, int nIn, float[] x, int xStride, float[] y, int nTokens,
                                 int o0, Scratch s) {
        int nRows = Math.min(4, nOut - o0);
        float[] panel = s.panel, sums = s.sums;
        for (int tb = 0; tb < nTokens; tb += TOKEN_BLOCK) {
            int tEnd = Math.min(nTokens, tb + TOKEN_BLOCK);
            for (int t = tb; t < tEnd; t++) for (int r = 0; r < nRows; r++) y[t * nOut + o0 + r] = 0f;
            for (int k0 = 0; k0 < nIn; k0 += ROW_CHUNK) {
                int kc = Math.min(ROW_CHUNK, nIn - k0);
                int kcPad = roundUp(kc, LANES);
                // Round-robin pieces of the four rows: four streams in flight read faster than one row after another.
                for (int c = 0; c < kc; c += DECODE_PIECE) {
                    int n = Math.min(DECODE_PIECE, kc - c);
                    for (int r = 0; r < nRows; r++) w.decode(o0 + r, k0 + c, n, panel, r * ROW_CHUNK + c);
                }
                for (int r = 0; r < 4; r++) {
                    int off = r * ROW_CHUNK;
                    if (r < nRows) WeightDecoder.zero(panel, off + kc, off + kcPad);
                    else WeightDecoder.zero(panel, off, off + kcPad);
                }
                int t = tb;
                for (; t + 4 <= tEnd; t += 4) {
                    int xa = t * xStride + k0;
                    PanelKernels.rows4x4(panel, ROW_CHUNK, kcPad, x, xa, xa + xStride, xa + 2 * xStride,
                            xa + 3 * xStride, sums);
                    for (int r = 0; r < nRows; r++)
                        for (int j = 0; j < 4; j++) y[(t + j) * nOut + o0 + r] += sums[r * 4 + j];
                }
                for (; t < tEnd; t++) {
                    PanelKernels.rows4x1(panel, ROW_CHUNK, kcPad, x, t * xStride + k0, sums);
                    for (int r = 0; r < nRows; r++) y[t * nOut + o0 + r] += sums[r];
                }
            }
        }
    }

    /** W stored [nIn, nOut]: stored row i holds input i's weight to every output. */
    static void inputMajor(StoredRows w, int nOut, int nIn, float[] x, float[] y, int nTokens, CpuThreadPool pool) {
        checkArgs(nOut, nIn, x, y, nTokens);
        // At least one task per thread, equal sizes in whole 4-vector groups, none wider than OUT_BLOCK.
        int nTasks = Math.max(pool.parallelism(), (nOut + OUT_BLOCK - 1) / OUT_BLOCK);
        nTasks = (nTasks + pool.parallelism() - 1) / pool.parallelism() * pool.parallelism();
        int block = Math.min(OUT_BLOCK, roundUp((nOut + nTasks - 1) / nTasks, 4 * LANES));
        int nBlocks = (nOut + block - 1) / block;
        pool.parallelFor(nBlocks, task -> outputBlock(w, nOut, nIn, x, y, nTokens, task * block, block, SCRATCH.get()));
    }

    private static void outputBlock(StoredRows w, int nOut, int nIn, float[] x, float[] y, int nTokens, int o0,
                                    int block, Scratch s) {
        int nValid = Math.min(block, nOut - o0);
        int width = roundUp(nValid, 4 * LANES); // columns the kernels touch; the panel is zero beyond nValid
        float[] panel = s.panel, acc = s.acc;
        for (int tb = 0; tb < nTokens; tb += TOKEN_BLOCK) {
            int nT = Math.min(TOKEN_BLOCK, nTokens - tb);
            for (int t = 0; t < nT; t++) WeightDecoder.zero(acc, t * OUT_BLOCK, t * OUT_BLOCK + width);
            for (int i0 = 0; i0 < nIn; i0 += IN_CHUNK) {
                int kc = Math.min(IN_CHUNK, nIn - i0);
                for (int r = 0; r < kc; r++) {
                    w.decode(i0 + r, o0, nValid, panel, r * OUT_BLOCK);
                    WeightDecoder.zero(panel, r * OUT_BLOCK + nValid, r * OUT_BLOCK + width);
                }
                int t = 0;
                for (; t + 4 <= nT; t += 4) {
                    int xa = (tb + t) * nIn + i0;
                    for (int c = 0; c < width; c += 4 * LANES) {
                        int aa = t * OUT_BLOCK + c;
                        PanelKernels.cols4x4(panel, OUT_BLOCK, kc, c, x, xa, xa + nIn, xa + 2 * nIn, xa + 3 * nIn,
                                acc, aa, aa + OUT_BLOCK, aa + 2 * OUT_BLOCK, aa + 3 * OUT_BLOCK);
                    }
                }
                for (; t < nT; t++) {
                    int xa = (tb + t) * nIn + i0;
                    for (int c = 0; c < width; c += 4 * LANES)
                        PanelKernels.cols4x1(panel, OUT_BLOCK, kc, c, x, xa, acc, t * OUT_BLOCK + c);
                }
            }
            for (int t = 0; t < nT; t++) System.arraycopy(acc, t * OUT_BLOCK, y, (tb + t) * nOut + o0, nValid);
        }
    }

    static void checkArgs(int nOut, int nIn, float[] x, float[] y, int nTokens) {
        if (nTokens < 0) throw new IllegalArgumentException("nTokens " + nTokens);
        if (x.length < (long) nTokens * nIn)
            throw new IllegalArgumentException("x has " + x.length + " floats, need " + nTokens + " × " + nIn);
        if (y.length < (long) nTokens * nOut)
            throw new IllegalArgumentException("y has " + y.length + " floats, need " + nTokens + " × " + nOut);
    }
}

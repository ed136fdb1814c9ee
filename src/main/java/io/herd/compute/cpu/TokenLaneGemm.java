package io.herd.compute.cpu;

import jdk.incubator.vector.FloatVector;

import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.LANES;
import static io.herd.compute.cpu.Simd.roundUp;

/**
 * {@code y = x · Wᵀ} for many tokens (prefill), computed as {@code yᵀ = W · xᵀ} with tokens along the vector lanes:
 * each weight is broadcast from a decoded panel and multiplied into {@code 2·LANES} tokens at once, and a tile of
 * {@link #TILE_ROWS} outputs × 2 token vectors keeps its accumulators in registers for a whole panel of inputs, with
 * no horizontal reductions. x and y are transposed once per call, which is O(tokens · (nIn + nOut)) against the
 * O(tokens · nIn · nOut) of the product.
 *
 * <p>Lanes past the last token are zero and wasted, so {@link PanelGemm} keeps the small token counts.
 */
final class TokenLaneGemm {
    private TokenLaneGemm() {}

    /**
     * Outputs per register tile: 12 outputs × 2 token vectors = 24 accumulators, 2 token loads and 12 broadcasts per
     * 24 FMAs. Twelve ran 7-18% faster than eight (16 accumulators) from 32 to 256 tokens, bf16 and q8, row- and
     * input-major (alternating in-JVM runs), with the same sums in the same order.
     */
    static final int TILE_ROWS = 12;
    /** Inputs per panel: a tile's slice, 12 × 512 fp32 = 24 KiB, stays in L1 across the token vectors. */
    static final int K_CHUNK = 512;
    /** Row-major: outputs per task (one panel of 96 × 512 fp32 = 192 KiB, in L2), a multiple of the tile. */
    static final int ROW_BLOCK = 96;
    /** Input-major: outputs per task, a multiple of the tile; a stored row is decoded in runs of this many values. */
    static final int COL_BLOCK = 288;

    /**
     * Whether this product is worth the lanes. Tokens: below the threshold PanelGemm, which wastes none, is faster;
     * measured on 16 lanes, from 32 tokens for row-major weights (110-130 GFLOP/s against 80), only from 64 for
     * input-major ones, whose panel path already has no reductions. Size: under a million weights (a small model's
     * matrices) the two transposes and the thread hand-off cost more than the tiles save (batch-64 decode of a
     * 128-wide model ran 25% slower).
     */
    static boolean suits(boolean inputMajor, int nOut, int nIn, int nTokens) {
        return nTokens >= (inputMajor ? 4 * LANES : 2 * LANES) && (long) nOut * nIn >= MIN_WEIGHTS;
    }

    static final long MIN_WEIGHTS = 1 << 20;

    private static final class Scratch {
        final float[] panel = new float[Math.max(ROW_BLOCK, COL_BLOCK) * K_CHUNK];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** The calling thread's transposed x and y, grown to the largest call so far. */
    private static final class Transposed {
        private float[] x = new float[0], y = new float[0];

        float[] x(int n) {
            if (x.length < n) x = new float[n];
            return x;
        }

        float[] y(int n) {
            if (y.length < n) y = new float[n];
            return y;
        }
    }

    private static final ThreadLocal<Transposed> TRANSPOSED = ThreadLocal.withInitial(Transposed::new);

    /**
     * Tokens per pass: bounds the transposed buffers (a 2,048-token chunked prefill over a 16,384-wide matrix would
     * need 134 MB for yᵀ alone) while decoding each weight panel only once per 256 tokens.
     */
    static final int MAX_TOKENS_PER_PASS = 256;

    static void matmul(StoredRows w, boolean inputMajor, int nOut, int nIn, float[] x, float[] y, int nTokens,
                       CpuThreadPool pool) {
        PanelGemm.checkArgs(nOut, nIn, x, y, nTokens);
        for (int t0 = 0; t0 < nTokens; t0 += MAX_TOKENS_PER_PASS)
            pass(w, inputMajor, nOut, nIn, x, y, t0, Math.min(MAX_TOKENS_PER_PASS, nTokens - t0), pool);
    }

    /** Tokens [t0, t0+nT) of x into the same rows of y. */
    private static void pass(StoredRows w, boolean inputMajor, int nOut, int nIn, float[] x, float[] y, int t0, int nT,
                             CpuThreadPool pool) {
        int tPad = roundUp(nT, 2 * LANES);
        // Reused per calling thread: a prefill would otherwise hand the collector megabytes per matmul.
        Transposed scratch = TRANSPOSED.get();
        float[] xT = scratch.x(nIn * tPad);
        for (int i = 0; i < nIn; i++) {
            int row = i * tPad, xo = t0 * nIn + i;
            for (int t = 0; t < nT; t++) xT[row + t] = x[xo + t * nIn];
            for (int t = nT; t < tPad; t++) xT[row + t] = 0f; // padding lanes: zero, so they add nothing
        }
        int block = inputMajor ? COL_BLOCK : ROW_BLOCK;
        int nBlocks = (nOut + block - 1) / block;
        float[] yT = scratch.y(roundUp(nOut, TILE_ROWS) * tPad);
        pool.parallelFor(nBlocks, b -> {
            int o0 = b * block, rows = Math.min(block, nOut - o0);
            outputBlock(w, inputMajor, nIn, xT, yT, tPad, o0, rows, SCRATCH.get().panel);
        });
        for (int t = 0; t < nT; t++) {
            int yo = (t0 + t) * nOut;
            for (int o = 0; o < nOut; o++) y[yo + o] = yT[o * tPad + t];
        }
    }

    /**
     * Outputs [o0, o0+rows) for every token. Each input chunk's panel is decoded once and used by all tiles. The
     * layout follows the stored one, so decoding stays a run of one stored row: row-major panels are [row][K_CHUNK],
     * input-major ones [k][rowsPad]. Either way a tile's 8 weights for one input lie at constant offsets from one
     * index, which lets the JIT merge their bounds checks into one per input (8 checks ran 30% slower).
     */
    private static void outputBlock(StoredRows w, boolean inputMajor, int nIn, float[] xT, float[] yT, int tPad,
                                    int o0, int rows, float[] panel) {
        int rowsPad = roundUp(rows, TILE_ROWS);
        for (int k0 = 0; k0 < nIn; k0 += K_CHUNK) {
            int kc = Math.min(K_CHUNK, nIn - k0);
            boolean first = k0 == 0;
            if (inputMajor) {
                for (int k = 0; k < kc; k++) {
                    w.decode(k0 + k, o0, rows, panel, k * rowsPad);
                    for (int r = rows; r < rowsPad; r++) panel[k * rowsPad + r] = 0f;
                }
                for (int r0 = 0; r0 < rowsPad; r0 += TILE_ROWS)
                    for (int t = 0; t < tPad; t += 2 * LANES)
                        inputMajorTile(panel, r0, rowsPad, kc, xT, k0 * tPad + t, tPad, yT, (o0 + r0) * tPad + t, first);
            } else {
                for (int r = 0; r < rows; r++) w.decode(o0 + r, k0, kc, panel, r * K_CHUNK);
                java.util.Arrays.fill(panel, rows * K_CHUNK, rowsPad * K_CHUNK, 0f);
                for (int r0 = 0; r0 < rowsPad; r0 += TILE_ROWS)
                    for (int t = 0; t < tPad; t += 2 * LANES)
                        rowMajorTile(panel, r0 * K_CHUNK, kc, xT, k0 * tPad + t, tPad, yT, (o0 + r0) * tPad + t, first);
            }
        }
    }

    /**
     * yT[r][t..t+2·LANES) += Σ_k panel(r, k) · xT[k][t..] for the tile's 12 rows, panel(r, k) at p[pBase + r·K_CHUNK
     * + k]. Accumulators start from yT, or from zero for the first input chunk (so yT needs no clearing).
     * {@link #inputMajorTile} is the same with panel(r, k) at p[pBase + k·ks + r]: two copies, because the JIT keeps
     * the bounds checks merged only when the offsets between the rows are constants.
     */
    private static void rowMajorTile(float[] p, int pBase, int kc, float[] xT, int xBase, int tPad,
                                     float[] yT, int yBase, boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
        FloatVector a60, a61, a70, a71, a80, a81, a90, a91, a100, a101, a110, a111;
        if (first) {
            a00 = FloatVector.zero(F);
            a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00; a40 = a00; a41 = a00;
            a50 = a00; a51 = a00; a60 = a00; a61 = a00; a70 = a00; a71 = a00; a80 = a00; a81 = a00;
            a90 = a00; a91 = a00; a100 = a00; a101 = a00; a110 = a00; a111 = a00;
        } else {
            a00 = FloatVector.fromArray(F, yT, yBase); a01 = FloatVector.fromArray(F, yT, yBase + LANES);
            a10 = FloatVector.fromArray(F, yT, yBase + tPad); a11 = FloatVector.fromArray(F, yT, yBase + tPad + LANES);
            a20 = FloatVector.fromArray(F, yT, yBase + 2 * tPad); a21 = FloatVector.fromArray(F, yT, yBase + 2 * tPad + LANES);
            a30 = FloatVector.fromArray(F, yT, yBase + 3 * tPad); a31 = FloatVector.fromArray(F, yT, yBase + 3 * tPad + LANES);
            a40 = FloatVector.fromArray(F, yT, yBase + 4 * tPad); a41 = FloatVector.fromArray(F, yT, yBase + 4 * tPad + LANES);
            a50 = FloatVector.fromArray(F, yT, yBase + 5 * tPad); a51 = FloatVector.fromArray(F, yT, yBase + 5 * tPad + LANES);
            a60 = FloatVector.fromArray(F, yT, yBase + 6 * tPad); a61 = FloatVector.fromArray(F, yT, yBase + 6 * tPad + LANES);
            a70 = FloatVector.fromArray(F, yT, yBase + 7 * tPad); a71 = FloatVector.fromArray(F, yT, yBase + 7 * tPad + LANES);
            a80 = FloatVector.fromArray(F, yT, yBase + 8 * tPad); a81 = FloatVector.fromArray(F, yT, yBase + 8 * tPad + LANES);
            a90 = FloatVector.fromArray(F, yT, yBase + 9 * tPad); a91 = FloatVector.fromArray(F, yT, yBase + 9 * tPad + LANES);
            a100 = FloatVector.fromArray(F, yT, yBase + 10 * tPad); a101 = FloatVector.fromArray(F, yT, yBase + 10 * tPad + LANES);
            a110 = FloatVector.fromArray(F, yT, yBase + 11 * tPad); a111 = FloatVector.fromArray(F, yT, yBase + 11 * tPad + LANES);
        }
        for (int k = 0; k < kc; k++) {
            int xo = xBase + k * tPad, po = pBase + k;
            FloatVector x0 = FloatVector.fromArray(F, xT, xo), x1 = FloatVector.fromArray(F, xT, xo + LANES);
            FloatVector b = FloatVector.broadcast(F, p[po]);
            a00 = b.fma(x0, a00); a01 = b.fma(x1, a01);
            b = FloatVector.broadcast(F, p[po + K_CHUNK]);
            a10 = b.fma(x0, a10); a11 = b.fma(x1, a11);
            b = FloatVector.broadcast(F, p[po + 2 * K_CHUNK]);
            a20 = b.fma(x0, a20); a21 = b.fma(x1, a21);
            b = FloatVector.broadcast(F, p[po + 3 * K_CHUNK]);
            a30 = b.fma(x0, a30); a31 = b.fma(x1, a31);
            b = FloatVector.broadcast(F, p[po + 4 * K_CHUNK]);
            a40 = b.fma(x0, a40); a41 = b.fma(x1, a41);
            b = FloatVector.broadcast(F, p[po + 5 * K_CHUNK]);
            a50 = b.fma(x0, a50); a51 = b.fma(x1, a51);
            b = FloatVector.broadcast(F, p[po + 6 * K_CHUNK]);
            a60 = b.fma(x0, a60); a61 = b.fma(x1, a61);
            b = FloatVector.broadcast(F, p[po + 7 * K_CHUNK]);
            a70 = b.fma(x0, a70); a71 = b.fma(x1, a71);
            b = FloatVector.broadcast(F, p[po + 8 * K_CHUNK]);
            a80 = b.fma(x0, a80); a81 = b.fma(x1, a81);
            b = FloatVector.broadcast(F, p[po + 9 * K_CHUNK]);
            a90 = b.fma(x0, a90); a91 = b.fma(x1, a91);
            b = FloatVector.broadcast(F, p[po + 10 * K_CHUNK]);
            a100 = b.fma(x0, a100); a101 = b.fma(x1, a101);
            b = FloatVector.broadcast(F, p[po + 11 * K_CHUNK]);
            a110 = b.fma(x0, a110); a111 = b.fma(x1, a111);
        }
        a00.intoArray(yT, yBase); a01.intoArray(yT, yBase + LANES);
        a10.intoArray(yT, yBase + tPad); a11.intoArray(yT, yBase + tPad + LANES);
        a20.intoArray(yT, yBase + 2 * tPad); a21.intoArray(yT, yBase + 2 * tPad + LANES);
        a30.intoArray(yT, yBase + 3 * tPad); a31.intoArray(yT, yBase + 3 * tPad + LANES);
        a40.intoArray(yT, yBase + 4 * tPad); a41.intoArray(yT, yBase + 4 * tPad + LANES);
        a50.intoArray(yT, yBase + 5 * tPad); a51.intoArray(yT, yBase + 5 * tPad + LANES);
        a60.intoArray(yT, yBase + 6 * tPad); a61.intoArray(yT, yBase + 6 * tPad + LANES);
        a70.intoArray(yT, yBase + 7 * tPad); a71.intoArray(yT, yBase + 7 * tPad + LANES);
        a80.intoArray(yT, yBase + 8 * tPad); a81.intoArray(yT, yBase + 8 * tPad + LANES);
        a90.intoArray(yT, yBase + 9 * tPad); a91.intoArray(yT, yBase + 9 * tPad + LANES);
        a100.intoArray(yT, yBase + 10 * tPad); a101.intoArray(yT, yBase + 10 * tPad + LANES);
        a110.intoArray(yT, yBase + 11 * tPad); a111.intoArray(yT, yBase + 11 * tPad + LANES);
    }

    private static void inputMajorTile(float[] p, int pBase, int ks, int kc, float[] xT, int xBase, int tPad,
                                       float[] yT, int yBase, boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
        FloatVector a60, a61, a70, a71, a80, a81, a90, a91, a100, a101, a110, a111;
        if (first) {
            a00 = FloatVector.zero(F);
            a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00; a40 = a00; a41 = a00;
            a50 = a00; a51 = a00; a60 = a00; a61 = a00; a70 = a00; a71 = a00; a80 = a00; a81 = a00;
            a90 = a00; a91 = a00; a100 = a00; a101 = a00; a110 = a00; a111 = a00;
        } else {
            a00 = FloatVector.fromArray(F, yT, yBase); a01 = FloatVector.fromArray(F, yT, yBase + LANES);
            a10 = FloatVector.fromArray(F, yT, yBase + tPad); a11 = FloatVector.fromArray(F, yT, yBase + tPad + LANES);
            a20 = FloatVector.fromArray(F, yT, yBase + 2 * tPad); a21 = FloatVector.fromArray(F, yT, yBase + 2 * tPad + LANES);
            a30 = FloatVector.fromArray(F, yT, yBase + 3 * tPad); a31 = FloatVector.fromArray(F, yT, yBase + 3 * tPad + LANES);
            a40 = FloatVector.fromArray(F, yT, yBase + 4 * tPad); a41 = FloatVector.fromArray(F, yT, yBase + 4 * tPad + LANES);
            a50 = FloatVector.fromArray(F, yT, yBase + 5 * tPad); a51 = FloatVector.fromArray(F, yT, yBase + 5 * tPad + LANES);
            a60 = FloatVector.fromArray(F, yT, yBase + 6 * tPad); a61 = FloatVector.fromArray(F, yT, yBase + 6 * tPad + LANES);
            a70 = FloatVector.fromArray(F, yT, yBase + 7 * tPad); a71 = FloatVector.fromArray(F, yT, yBase + 7 * tPad + LANES);
            a80 = FloatVector.fromArray(F, yT, yBase + 8 * tPad); a81 = FloatVector.fromArray(F, yT, yBase + 8 * tPad + LANES);
            a90 = FloatVector.fromArray(F, yT, yBase + 9 * tPad); a91 = FloatVector.fromArray(F, yT, yBase + 9 * tPad + LANES);
            a100 = FloatVector.fromArray(F, yT, yBase + 10 * tPad); a101 = FloatVector.fromArray(F, yT, yBase + 10 * tPad + LANES);
            a110 = FloatVector.fromArray(F, yT, yBase + 11 * tPad); a111 = FloatVector.fromArray(F, yT, yBase + 11 * tPad + LANES);
        }
        for (int k = 0; k < kc; k++) {
            int xo = xBase + k * tPad, po = pBase + k * ks;
            FloatVector x0 = FloatVector.fromArray(F, xT, xo), x1 = FloatVector.fromArray(F, xT, xo + LANES);
            FloatVector b = FloatVector.broadcast(F, p[po]);
            a00 = b.fma(x0, a00); a01 = b.fma(x1, a01);
            b = FloatVector.broadcast(F, p[po + 1]);
            a10 = b.fma(x0, a10); a11 = b.fma(x1, a11);
            b = FloatVector.broadcast(F, p[po + 2]);
            a20 = b.fma(x0, a20); a21 = b.fma(x1, a21);
            b = FloatVector.broadcast(F, p[po + 3]);
            a30 = b.fma(x0, a30); a31 = b.fma(x1, a31);
            b = FloatVector.broadcast(F, p[po + 4]);
            a40 = b.fma(x0, a40); a41 = b.fma(x1, a41);
            b = FloatVector.broadcast(F, p[po + 5]);
            a50 = b.fma(x0, a50); a51 = b.fma(x1, a51);
            b = FloatVector.broadcast(F, p[po + 6]);
            a60 = b.fma(x0, a60); a61 = b.fma(x1, a61);
            b = FloatVector.broadcast(F, p[po + 7]);
            a70 = b.fma(x0, a70); a71 = b.fma(x1, a71);
            b = FloatVector.broadcast(F, p[po + 8]);
            a80 = b.fma(x0, a80); a81 = b.fma(x1, a81);
            b = FloatVector.broadcast(F, p[po + 9]);
            a90 = b.fma(x0, a90); a91 = b.fma(x1, a91);
            b = FloatVector.broadcast(F, p[po + 10]);
            a100 = b.fma(x0, a100); a101 = b.fma(x1, a101);
            b = FloatVector.broadcast(F, p[po + 11]);
            a110 = b.fma(x0, a110); a111 = b.fma(x1, a111);
        }
        a00.intoArray(yT, yBase); a01.intoArray(yT, yBase + LANES);
        a10.intoArray(yT, yBase + tPad); a11.intoArray(yT, yBase + tPad + LANES);
        a20.intoArray(yT, yBase + 2 * tPad); a21.intoArray(yT, yBase + 2 * tPad + LANES);
        a30.intoArray(yT, yBase + 3 * tPad); a31.intoArray(yT, yBase + 3 * tPad + LANES);
        a40.intoArray(yT, yBase + 4 * tPad); a41.intoArray(yT, yBase + 4 * tPad + LANES);
        a50.intoArray(yT, yBase + 5 * tPad); a51.intoArray(yT, yBase + 5 * tPad + LANES);
        a60.intoArray(yT, yBase + 6 * tPad); a61.intoArray(yT, yBase + 6 * tPad + LANES);
        a70.intoArray(yT, yBase + 7 * tPad); a71.intoArray(yT, yBase + 7 * tPad + LANES);
        a80.intoArray(yT, yBase + 8 * tPad); a81.intoArray(yT, yBase + 8 * tPad + LANES);
        a90.intoArray(yT, yBase + 9 * tPad); a91.intoArray(yT, yBase + 9 * tPad + LANES);
        a100.intoArray(yT, yBase + 10 * tPad); a101.intoArray(yT, yBase + 10 * tPad + LANES);
        a110.intoArray(yT, yBase + 11 * tPad); a111.intoArray(yT, yBase + 11 * tPad + LANES);
    }
}

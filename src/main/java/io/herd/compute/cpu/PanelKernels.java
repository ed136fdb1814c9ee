package io.herd.compute.cpu;

import jdk.incubator.vector.FloatVector;

import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.LANES;

/**
 * fp32 register tiles over a decoded weight panel. Each weight vector loaded from the panel feeds several tokens,
 * and each x vector several rows, so the FMA units, not the loads, set the pace once a batch is large enough.
 */
final class PanelKernels {
    private PanelKernels() {}

    /**
     * Row-major tile: 4 panel rows (stride ws) × 4 tokens (x offsets xa..xd), over kc values (a multiple of LANES).
     * Writes the 16 dot products to sums[r*4 + t].
     */
    static void rows4x4(float[] w, int ws, int kc, float[] x, int xa, int xb, int xc, int xd, float[] sums) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int k = 0; k < kc; k += LANES) {
            FloatVector x0 = FloatVector.fromArray(F, x, xa + k);
            FloatVector x1 = FloatVector.fromArray(F, x, xb + k);
            FloatVector x2 = FloatVector.fromArray(F, x, xc + k);
            FloatVector x3 = FloatVector.fromArray(F, x, xd + k);
            FloatVector w0 = FloatVector.fromArray(F, w, k);
            a00 = w0.fma(x0, a00); a01 = w0.fma(x1, a01); a02 = w0.fma(x2, a02); a03 = w0.fma(x3, a03);
            FloatVector w1 = FloatVector.fromArray(F, w, ws + k);
            a10 = w1.fma(x0, a10); a11 = w1.fma(x1, a11); a12 = w1.fma(x2, a12); a13 = w1.fma(x3, a13);
            FloatVector w2 = FloatVector.fromArray(F, w, 2 * ws + k);
            a20 = w2.fma(x0, a20); a21 = w2.fma(x1, a21); a22 = w2.fma(x2, a22); a23 = w2.fma(x3, a23);
            FloatVector w3 = FloatVector.fromArray(F, w, 3 * ws + k);
            a30 = w3.fma(x0, a30); a31 = w3.fma(x1, a31); a32 = w3.fma(x2, a32); a33 = w3.fma(x3, a33);
        }
        sums[0] = a00.reduceLanes(ADD); sums[1] = a01.reduceLanes(ADD); sums[2] = a02.reduceLanes(ADD); sums[3] = a03.reduceLanes(ADD);
        sums[4] = a10.reduceLanes(ADD); sums[5] = a11.reduceLanes(ADD); sums[6] = a12.reduceLanes(ADD); sums[7] = a13.reduceLanes(ADD);
        sums[8] = a20.reduceLanes(ADD); sums[9] = a21.reduceLanes(ADD); sums[10] = a22.reduceLanes(ADD); sums[11] = a23.reduceLanes(ADD);
        sums[12] = a30.reduceLanes(ADD); sums[13] = a31.reduceLanes(ADD); sums[14] = a32.reduceLanes(ADD); sums[15] = a33.reduceLanes(ADD);
    }

    /** Row-major tile for one token: 4 panel rows × x at xa; sums[r] = dot(row r, x). */
    static void rows4x1(float[] w, int ws, int kc, float[] x, int xa, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int k = 0;
        // Two accumulator sets hide the FMA latency: one token gives too few independent chains otherwise.
        for (; k + 2 * LANES <= kc; k += 2 * LANES) {
            FloatVector x0 = FloatVector.fromArray(F, x, xa + k);
            FloatVector x1 = FloatVector.fromArray(F, x, xa + k + LANES);
            a0 = FloatVector.fromArray(F, w, k).fma(x0, a0);
            a1 = FloatVector.fromArray(F, w, ws + k).fma(x0, a1);
            a2 = FloatVector.fromArray(F, w, 2 * ws + k).fma(x0, a2);
            a3 = FloatVector.fromArray(F, w, 3 * ws + k).fma(x0, a3);
            b0 = FloatVector.fromArray(F, w, k + LANES).fma(x1, b0);
            b1 = FloatVector.fromArray(F, w, ws + k + LANES).fma(x1, b1);
            b2 = FloatVector.fromArray(F, w, 2 * ws + k + LANES).fma(x1, b2);
            b3 = FloatVector.fromArray(F, w, 3 * ws + k + LANES).fma(x1, b3);
        }
        for (; k < kc; k += LANES) {
            FloatVector x0 = FloatVector.fromArray(F, x, xa + k);
            a0 = FloatVector.fromArray(F, w, k).fma(x0, a0);
            a1 = FloatVector.fromArray(F, w, ws + k).fma(x0, a1);
            a2 = FloatVector.fromArray(F, w, 2 * ws + k).fma(x0, a2);
            a3 = FloatVector.fromArray(F, w, 3 * ws + k).fma(x0, a3);
        }
        sums[0] = a0.add(b0).reduceLanes(ADD);
        sums[1] = a1.add(b1).reduceLanes(ADD);
        sums[2] = a2.add(b2).reduceLanes(ADD);
        sums[3] = a3.add(b3).reduceLanes(ADD);
    }

    /**
     * Input-major tile: panel rows are inputs (stride ps), 4 vectors of outputs from column c, × 4 tokens whose x
     * values for this panel start at xa..xd. Adds into acc rows at aa..ad (each already offset by c).
     */
    static void cols4x4(float[] p, int ps, int kc, int c, float[] x, int xa, int xb, int xc, int xd,
                        float[] acc, int aa, int ab, int ac, int ad) {
        FloatVector a00 = FloatVector.fromArray(F, acc, aa), a01 = FloatVector.fromArray(F, acc, aa + LANES);
        FloatVector a02 = FloatVector.fromArray(F, acc, aa + 2 * LANES), a03 = FloatVector.fromArray(F, acc, aa + 3 * LANES);
        FloatVector a10 = FloatVector.fromArray(F, acc, ab), a11 = FloatVector.fromArray(F, acc, ab + LANES);
        FloatVector a12 = FloatVector.fromArray(F, acc, ab + 2 * LANES), a13 = FloatVector.fromArray(F, acc, ab + 3 * LANES);
        FloatVector a20 = FloatVector.fromArray(F, acc, ac), a21 = FloatVector.fromArray(F, acc, ac + LANES);
        FloatVector a22 = FloatVector.fromArray(F, acc, ac + 2 * LANES), a23 = FloatVector.fromArray(F, acc, ac + 3 * LANES);
        FloatVector a30 = FloatVector.fromArray(F, acc, ad), a31 = FloatVector.fromArray(F, acc, ad + LANES);
        FloatVector a32 = FloatVector.fromArray(F, acc, ad + 2 * LANES), a33 = FloatVector.fromArray(F, acc, ad + 3 * LANES);
        for (int i = 0, row = c; i < kc; i++, row += ps) {
            FloatVector w0 = FloatVector.fromArray(F, p, row);
            FloatVector w1 = FloatVector.fromArray(F, p, row + LANES);
            FloatVector w2 = FloatVector.fromArray(F, p, row + 2 * LANES);
            FloatVector w3 = FloatVector.fromArray(F, p, row + 3 * LANES);
            FloatVector x0 = FloatVector.broadcast(F, x[xa + i]);
            a00 = w0.fma(x0, a00); a01 = w1.fma(x0, a01); a02 = w2.fma(x0, a02); a03 = w3.fma(x0, a03);
            FloatVector x1 = FloatVector.broadcast(F, x[xb + i]);
            a10 = w0.fma(x1, a10); a11 = w1.fma(x1, a11); a12 = w2.fma(x1, a12); a13 = w3.fma(x1, a13);
            FloatVector x2 = FloatVector.broadcast(F, x[xc + i]);
            a20 = w0.fma(x2, a20); a21 = w1.fma(x2, a21); a22 = w2.fma(x2, a22); a23 = w3.fma(x2, a23);
            FloatVector x3 = FloatVector.broadcast(F, x[xd + i]);
            a30 = w0.fma(x3, a30); a31 = w1.fma(x3, a31); a32 = w2.fma(x3, a32); a33 = w3.fma(x3, a33);
        }
        a00.intoArray(acc, aa); a01.intoArray(acc, aa + LANES); a02.intoArray(acc, aa + 2 * LANES); a03.intoArray(acc, aa + 3 * LANES);
        a10.intoArray(acc, ab); a11.intoArray(acc, ab + LANES); a12.intoArray(acc, ab + 2 * LANES); a13.intoArray(acc, ab + 3 * LANES);
        a20.intoArray(acc, ac); a21.intoArray(acc, ac + LANES); a22.intoArray(acc, ac + 2 * LANES); a23.intoArray(acc, ac + 3 * LANES);
        a30.intoArray(acc, ad); a31.intoArray(acc, ad + LANES); a32.intoArray(acc, ad + 2 * LANES); a33.intoArray(acc, ad + 3 * LANES);
    }

    /** Input-major tile for one token: 4 vectors of outputs from column c; adds into acc at aa (offset by c). */
    static void cols4x1(float[] p, int ps, int kc, int c, float[] x, int xa, float[] acc, int aa) {
        FloatVector a0 = FloatVector.fromArray(F, acc, aa), a1 = FloatVector.fromArray(F, acc, aa + LANES);
        FloatVector a2 = FloatVector.fromArray(F, acc, aa + 2 * LANES), a3 = FloatVector.fromArray(F, acc, aa + 3 * LANES);
        for (int i = 0, row = c; i < kc; i++, row += ps) {
            FloatVector x0 = FloatVector.broadcast(F, x[xa + i]);
            a0 = FloatVector.fromArray(F, p, row).fma(x0, a0);
            a1 = FloatVector.fromArray(F, p, row + LANES).fma(x0, a1);
            a2 = FloatVector.fromArray(F, p, row + 2 * LANES).fma(x0, a2);
            a3 = FloatVector.fromArray(F, p, row + 3 * LANES).fma(x0, a3);
        }
        a0.intoArray(acc, aa); a1.intoArray(acc, aa + LANES); a2.intoArray(acc, aa + 2 * LANES); a3.intoArray(acc, aa + 3 * LANES);
    }

    private static final jdk.incubator.vector.VectorOperators.Associative ADD = jdk.incubator.vector.VectorOperators.ADD;
}

package io.herd.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.LANES;

/**
 * Vector helpers over float arrays (and, for attention, KV-cache segments) for the model's per-token work (attention
 * scores, norms, residuals). All accumulate in fp32 vector lanes, so sums differ from a sequential loop by summation
 * order only.
 */
public final class FloatOps {
    private FloatOps() {}

    /** KV caches hold floats in native order (ValueLayout.JAVA_FLOAT); read here without alignment assumptions. */
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat NATIVE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Σ a[aOff+i]·b[bOff+i] for i < n. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        Objects.checkFromIndexSize(aOff, n, a.length);
        Objects.checkFromIndexSize(bOff, n, b.length);
        FloatVector acc = FloatVector.zero(F), acc2 = acc;
        int i = 0;
        for (; i + 2 * LANES <= n; i += 2 * LANES) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
            acc2 = FloatVector.fromArray(F, a, aOff + i + LANES).fma(FloatVector.fromArray(F, b, bOff + i + LANES), acc2);
        }
        for (; i + LANES <= n; i += LANES)
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        float sum = acc.add(acc2).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /**
     * Σ q[qOff+i]·S[i] for i < n, S the native-order floats of {@code seg} from {@code byteOffset}: a key read in
     * place from a KV cache.
     */
    public static float dot(float[] q, int qOff, MemorySegment seg, long byteOffset, int n) {
        Objects.checkFromIndexSize(qOff, n, q.length);
        FloatVector acc = FloatVector.zero(F), acc2 = acc;
        int i = 0;
        for (; i + 2 * LANES <= n; i += 2 * LANES) {
            acc = FloatVector.fromMemorySegment(F, seg, byteOffset + 4L * i, NATIVE).fma(FloatVector.fromArray(F, q, qOff + i), acc);
            acc2 = FloatVector.fromMemorySegment(F, seg, byteOffset + 4L * (i + LANES), NATIVE).fma(FloatVector.fromArray(F, q, qOff + i + LANES), acc2);
        }
        for (; i + LANES <= n; i += LANES)
            acc = FloatVector.fromMemorySegment(F, seg, byteOffset + 4L * i, NATIVE).fma(FloatVector.fromArray(F, q, qOff + i), acc);
        float sum = acc.add(acc2).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += q[qOff + i] * seg.get(NATIVE_FLOAT, byteOffset + 4L * i);
        return sum;
    }

    /**
     * y[yOff+c] = Σ_j p[j]·V_j[c] for c < n, V_j the native-order floats of {@code seg} from {@code byteOffsets[j]}
     * (values read in place from a KV cache). Each output is summed over j in order, a product then a sum, as the
     * scalar loop {@code y[c] += p[j] * v[j][c]} from zero: the same roundings, only in vector lanes.
     */
    public static void weightedSum(MemorySegment seg, long[] byteOffsets, float[] p, int nRows, float[] y, int yOff, int n) {
        Objects.checkFromIndexSize(yOff, n, y.length);
        Objects.checkFromIndexSize(0, nRows, p.length);
        Objects.checkFromIndexSize(0, nRows, byteOffsets.length);
        int c = 0;
        for (; c + LANES <= n; c += LANES) {
            FloatVector acc = FloatVector.zero(F);
            for (int j = 0; j < nRows; j++)
                acc = acc.add(FloatVector.fromMemorySegment(F, seg, byteOffsets[j] + 4L * c, NATIVE).mul(p[j]));
            acc.intoArray(y, yOff + c);
        }
        for (; c < n; c++) {
            float sum = 0f;
            for (int j = 0; j < nRows; j++) sum += p[j] * seg.get(NATIVE_FLOAT, byteOffsets[j] + 4L * c);
            y[yOff + c] = sum;
        }
    }

    /** y[yOff+i] += alpha·x[xOff+i] for i < n. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Objects.checkFromIndexSize(xOff, n, x.length);
        Objects.checkFromIndexSize(yOff, n, y.length);
        FloatVector a = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES)
            FloatVector.fromArray(F, x, xOff + i).fma(a, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** a[off+i] *= s for i < n. */
    public static void scale(float[] a, int off, int n, float s) {
        Objects.checkFromIndexSize(off, n, a.length);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES)
            FloatVector.fromArray(F, a, off + i).mul(s).intoArray(a, off + i);
        for (; i < n; i++) a[off + i] *= s;
    }

    /** Σ a[off+i]² for i < n. */
    public static float sumOfSquares(float[] a, int off, int n) {
        return dot(a, off, a, off, n);
    }

    /**
     * RMSNorm with gain: out[outOff+i] = x[xOff+i] / sqrt(mean(x²) + eps) · gain[i] for i < gain.length. The
     * model keeps its own version where it must round to bf16 between the two products.
     */
    public static void rmsNorm(float[] x, int xOff, float[] gain, float eps, float[] out, int outOff) {
        int n = gain.length;
        Objects.checkFromIndexSize(outOff, n, out.length);
        float inv = (float) (1.0 / Math.sqrt(sumOfSquares(x, xOff, n) / n + eps));
        FloatVector s = FloatVector.broadcast(F, inv);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES)
            FloatVector.fromArray(F, x, xOff + i).mul(s).mul(FloatVector.fromArray(F, gain, i)).intoArray(out, outOff + i);
        for (; i < n; i++) out[outOff + i] = x[xOff + i] * inv * gain[i];
    }

    /** In-place softmax of a[off..off+n): max-subtracted exponentials divided by their sum. */
    public static void softmax(float[] a, int off, int n) {
        Objects.checkFromIndexSize(off, n, a.length);
        if (n == 0) return;
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (n >= LANES) {
            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int bound = F.loopBound(n); i < bound; i += LANES) m = m.max(FloatVector.fromArray(F, a, off + i));
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, a[off + i]);
        FloatVector mv = FloatVector.broadcast(F, max), sv = FloatVector.zero(F);
        i = 0;
        for (int bound = F.loopBound(n); i < bound; i += LANES) {
            FloatVector e = FloatVector.fromArray(F, a, off + i).sub(mv).lanewise(VectorOperators.EXP);
            e.intoArray(a, off + i);
            sv = sv.add(e);
        }
        float sum = sv.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(a[off + i] - max);
            a[off + i] = e;
            sum += e;
        }
        scale(a, off, n, 1f / sum);
    }
}

package io.herd.compute.cpu;

import io.herd.compute.Q8Weights;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.ValueLayout;

import static io.herd.compute.cpu.Simd.B;
import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.I;
import static io.herd.compute.cpu.Simd.LANES;
import static io.herd.compute.cpu.Simd.LE;

/**
 * Vector twin of {@link Q8Weights#quantizeRow}: the same absmax, the same scale and the same per-value float
 * operations ({@link Q8Weights#quantize}), so it writes identical bytes, only faster (loading a model quantizes
 * billions of values).
 */
final class Q8Quantizer {
    private Q8Quantizer() {}

    static void quantizeRow(Q8Weights q, int out, float[] src, int srcOff) {
        if (B == null) {
            q.quantizeRow(out, src, srcOff);
            return;
        }
        int nIn = q.nIn(), groupSize = q.groupSize(), nGroups = q.nGroups();
        long base = (long) out * nIn;
        for (int g = 0; g < nGroups; g++) {
            int from = g * groupSize, to = Math.min(nIn, from + groupSize), n = to - from;
            int off = srcOff + from;
            float absMax = 0f;
            int i = 0;
            if (n >= LANES) {
                FloatVector m = FloatVector.zero(F);
                for (int bound = F.loopBound(n); i < bound; i += LANES)
                    m = m.max(FloatVector.fromArray(F, src, off + i).abs());
                absMax = m.reduceLanes(VectorOperators.MAX);
            }
            for (; i < n; i++) absMax = Math.max(absMax, Math.abs(src[off + i]));
            if (!Float.isFinite(absMax))
                throw new IllegalArgumentException("row " + out + " has a non-finite weight; cannot quantize to Q8");
            Q8Weights.setScaleAt(q.scales(), (long) out * nGroups + g, Q8Weights.scaleOf(absMax));
            float inverse = Q8Weights.inverseScaleOf(absMax);
            i = 0;
            for (int bound = F.loopBound(n); i < bound; i += LANES) {
                FloatVector v = FloatVector.fromArray(F, src, off + i);
                IntVector magnitude = ((IntVector) v.mul(inverse).abs().add(0.5f).convert(VectorOperators.F2I, 0))
                        .min(127);
                IntVector signed = magnitude.lanewise(VectorOperators.NEG, v.lt(0f).cast(I));
                ((ByteVector) signed.convertShape(VectorOperators.I2B, B, 0))
                        .intoMemorySegment(q.values(), base + from + i, LE);
            }
            for (; i < n; i++) q.values().set(ValueLayout.JAVA_BYTE, base + from + i, Q8Weights.quantize(src[off + i], inverse));
        }
    }
}

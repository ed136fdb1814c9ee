package io.herd.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.LANES;

/**
 * bfloat16 conversions. Rounding is round-to-nearest-even, as torch's {@code .to(torch.bfloat16)} does, so the
 * model can reproduce the reference's bf16 rounding points (SPEC §9) on fp32 activations; NaN stays NaN (quiet).
 */
public final class Bf16 {
    private Bf16() {}

    /** The bf16 bit pattern nearest to v (ties to even). */
    public static short fromFloat(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x0040);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    public static float toFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }

    /** v rounded to the nearest bf16 value, kept as a float. */
    public static float round(float v) {
        return toFloat(fromFloat(v));
    }

    /** Rounds {@code a[off..off+len)} in place to bf16 precision (values stay fp32). */
    public static void round(float[] a, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, a.length);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, a, off + i);
            IntVector bits = v.reinterpretAsInts();
            IntVector lsb = bits.lanewise(VectorOperators.LSHR, 16).and(1);
            IntVector rounded = bits.add(0x7fff).add(lsb).and(0xffff0000);
            VectorMask<Integer> nan = v.test(VectorOperators.IS_NAN).cast(Simd.I);
            rounded.blend(bits.or(0x00400000).and(0xffff0000), nan).reinterpretAsFloats().intoArray(a, off + i);
        }
        for (; i < len; i++) a[off + i] = round(a[off + i]);
    }

    /** Widens {@code len} bf16 values from src[srcOff] into dst[dstOff]. */
    public static void toFloat(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        java.util.Objects.checkFromIndexSize(srcOff, len, src.length);
        java.util.Objects.checkFromIndexSize(dstOff, len, dst.length);
        for (int i = 0; i < len; i++) dst[dstOff + i] = toFloat(src[srcOff + i]);
    }

    /** Rounds {@code len} floats from src[srcOff] to bf16 bit patterns in dst[dstOff] (ties to even). */
    public static void fromFloat(float[] src, int srcOff, short[] dst, int dstOff, int len) {
        java.util.Objects.checkFromIndexSize(srcOff, len, src.length);
        java.util.Objects.checkFromIndexSize(dstOff, len, dst.length);
        for (int i = 0; i < len; i++) dst[dstOff + i] = fromFloat(src[srcOff + i]);
    }
}

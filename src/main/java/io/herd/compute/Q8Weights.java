package io.herd.compute;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Herd's load-time int8 format: {@code values} int8 [nOut, nIn], nIn contiguous; {@code scales} IEEE fp16
 * [nOut, nGroups], one scale per run of {@code groupSize} inputs of a row (the last run of a row may be shorter).
 * Weight (o, i) is {@code values[o, i] · scales[o, i / groupSize]}. Symmetric: scale = absmax / 127 rounded to fp16,
 * values = round(w · 127 / absmax) in [-127, 127], half away from zero. The fp16 scale (as in ggml's Q8_0) makes
 * groups of 32 cost 1.0625 bytes per weight instead of 1.125; decode streams that many bytes. The segments live in
 * an arena owned by whoever quantized.
 */
public record Q8Weights(MemorySegment values, MemorySegment scales, int nOut, int nIn, int groupSize) {
    /** One stored scale: IEEE fp16, little-endian. */
    public static final ValueLayout.OfShort SCALE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final int SCALE_BYTES = 2;
    /** fp16's largest finite value: a group's absmax may be at most 127 times this. */
    private static final float MAX_SCALE = 65504f;

    /**
     * Scale number {@code index} of a scales segment, as a float. Scales are never negative, infinite or NaN, so the
     * fp16 bits shifted into a float's place and scaled by 2^112 give the value exactly (subnormals and 0 too). The
     * vector kernels write this expression out where they read a scale: there, a call to this method (or to
     * {@link Float#float16ToFloat}) shifted C2's inlining of the surrounding vector code, and Q8 decode ran at a
     * third of its speed.
     */
    public static float scaleAt(MemorySegment scales, long index) {
        return Float.intBitsToFloat((scales.getAtIndex(SCALE, index) & 0x7fff) << 13) * 0x1p112f;
    }

    /** Stores a scale that {@link #scaleOf} made (so fp16 holds it exactly). */
    public static void setScaleAt(MemorySegment scales, long index, float scale) {
        scales.setAtIndex(SCALE, index, Float.floatToFloat16(scale));
    }

    public Q8Weights {
        if (nOut <= 0 || nIn <= 0 || groupSize <= 0 || groupSize > nIn)
            throw new IllegalArgumentException("Q8 shape " + nOut + "×" + nIn + " group " + groupSize);
        if (values.byteSize() < (long) nOut * nIn)
            throw new IllegalArgumentException("Q8 values: " + values.byteSize() + " bytes < " + (long) nOut * nIn);
        if (scales.byteSize() < (long) nOut * groupsPerRow(nIn, groupSize) * SCALE_BYTES)
            throw new IllegalArgumentException("Q8 scales: " + scales.byteSize() + " bytes too small");
    }

    /** Allocates zeroed storage in {@code arena}; groupSize 0 means one scale per row. */
    public static Q8Weights allocate(Arena arena, int nOut, int nIn, int groupSize) {
        int g = groupSize == 0 ? nIn : Math.min(groupSize, nIn);
        MemorySegment values = arena.allocate((long) nOut * nIn, 64);
        MemorySegment scales = arena.allocate((long) nOut * groupsPerRow(nIn, g) * SCALE_BYTES, 64);
        return new Q8Weights(values, scales, nOut, nIn, g);
    }

    public static int groupsPerRow(int nIn, int groupSize) {
        return (nIn + groupSize - 1) / groupSize;
    }

    public int nGroups() {
        return groupsPerRow(nIn, groupSize);
    }

    public float scale(int out, int group) {
        return scaleAt(scales, (long) out * nGroups() + group);
    }

    public byte value(int out, int in) {
        return values.get(ValueLayout.JAVA_BYTE, (long) out * nIn + in);
    }

    public float get(int out, int in) {
        return value(out, in) * scale(out, in / groupSize);
    }

    public long byteSize() {
        return (long) nOut * nIn + (long) nOut * nGroups() * SCALE_BYTES;
    }

    /**
     * One value: |v·inverse| + 0.5 truncated (half away from zero), at most 127, with v's sign. Written with the
     * same float operations a vector loop can use (multiply, abs, add, truncating convert), so both agree exactly.
     */
    public static byte quantize(float v, float inverse) {
        int q = Math.min(127, (int) (Math.abs(v * inverse) + 0.5f));
        return (byte) (v < 0 ? -q : q);
    }

    /**
     * The scale of a group with this largest magnitude, rounded to fp16 (0 for an all-zero group), and below the
     * inverse the values are made with. Magnitudes past fp16's range (absmax above 8.3 million) are refused.
     */
    public static float scaleOf(float absMax) {
        float scale = absMax / 127f;
        if (!(scale <= MAX_SCALE))
            throw new IllegalArgumentException("weight magnitude " + absMax + " is beyond Q8's fp16 scale range");
        return Float.float16ToFloat(Float.floatToFloat16(scale));
    }

    public static float inverseScaleOf(float absMax) {
        return absMax == 0f ? 0f : 127f / absMax;
    }

    /**
     * Quantizes one row (fp32, nIn values from src[srcOff]) into row {@code out}: the written definition of the
     * format, shared by every quantizer so they agree bit for bit.
     */
    public void quantizeRow(int out, float[] src, int srcOff) {
        int nGroups = nGroups();
        for (int g = 0; g < nGroups; g++) {
            int from = g * groupSize, to = Math.min(nIn, from + groupSize);
            float absMax = 0f;
            for (int i = from; i < to; i++) absMax = Math.max(absMax, Math.abs(src[srcOff + i]));
            if (!Float.isFinite(absMax))
                throw new IllegalArgumentException("row " + out + " has a non-finite weight; cannot quantize to Q8");
            setScaleAt(scales, (long) out * nGroups + g, scaleOf(absMax));
            float inverse = inverseScaleOf(absMax);
            long base = (long) out * nIn;
            for (int i = from; i < to; i++) values.set(ValueLayout.JAVA_BYTE, base + i, quantize(src[srcOff + i], inverse));
        }
    }
}

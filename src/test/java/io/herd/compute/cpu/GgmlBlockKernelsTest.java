package io.herd.compute.cpu;

import io.herd.compute.GgmlBlockDecoder;
import io.herd.compute.GgmlType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Vector API block decoders give the scalar reference's values bit for bit, on random blocks of every format. */
class GgmlBlockKernelsTest {
    private static final Map<GgmlType, int[]> HALVES = Map.of(GgmlType.Q4_0, new int[] {0}, GgmlType.Q4_1, new int[] {0, 2},
            GgmlType.Q5_0, new int[] {0}, GgmlType.Q8_0, new int[] {0}, GgmlType.Q4_K, new int[] {0, 2},
            GgmlType.Q5_K, new int[] {0, 2}, GgmlType.Q6_K, new int[] {208});

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void bitIdenticalToTheScalarReference(GgmlType type) {
        int nBlocks = 64;
        Random rnd = new Random(type.id);
        byte[] bytes = new byte[nBlocks * type.blockBytes];
        rnd.nextBytes(bytes);
        for (int b = 0; b < nBlocks; b++)
            for (int off : HALVES.get(type)) {
                short h = Float.floatToFloat16((float) (rnd.nextGaussian() * Math.pow(2, -rnd.nextInt(12))));
                bytes[b * type.blockBytes + off] = (byte) h;
                bytes[b * type.blockBytes + off + 1] = (byte) (h >> 8);
            }
        MemorySegment s = MemorySegment.ofArray(bytes);
        float[] want = new float[nBlocks * type.blockSize + 3], got = new float[nBlocks * type.blockSize + 3];
        GgmlBlockDecoder.decode(type, s, type.blockBytes, nBlocks - 1, want, 3);
        GgmlBlockKernels.decode(type, s, type.blockBytes, nBlocks - 1, got, 3);
        for (int i = 0; i < want.length; i++)
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), type + " value " + i
                    + " (vector path " + (GgmlBlockKernels.VECTOR ? "on" : "off") + ")");
    }
}

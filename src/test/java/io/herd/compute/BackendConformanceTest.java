package io.herd.compute;

import io.herd.compute.cpu.CpuMatrix;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.compute.cpu.Q8Matrix;
import io.herd.compute.reference.ReferenceMatrix;
import io.herd.compute.reference.ReferenceQ8Matrix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every CPU kernel × dtype × layout × shape against the scalar reference. Shapes are chosen around the kernels'
 * block sizes: below one vector, ragged tails, more than one row chunk (2048 inputs), more than one output block
 * (512 outputs), and token counts that leave remainders of the 4-token tiles and span two 64-token blocks.
 */
class BackendConformanceTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final Arena ARENA = Arena.ofShared();
    /** Two threads even on a one-core runner, so the parallel split is always exercised. */
    private static final CpuThreadPool POOL = new CpuThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()));

    @AfterAll
    static void close() {
        POOL.close();
        ARENA.close();
    }

    static Stream<Arguments> cases() {
        // {1040, 1024}: past the 1M-weight size of the streaming few-token kernels, whole vectors, a ragged last tile
        int[][] shapes = {{1, 1}, {3, 5}, {4, 16}, {17, 33}, {64, 128}, {130, 1030}, {515, 2100}, {1040, 1024}};
        int[] tokens = {1, 3, 4, 5, 32, 67};
        List<Arguments> out = new ArrayList<>();
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16))
            for (boolean inputMajor : new boolean[]{false, true})
                for (int[] s : shapes)
                    for (int t : tokens)
                        if (s[0] * (long) s[1] * t <= 20_000_000L) out.add(Arguments.of(dtype, inputMajor, s[0], s[1], t));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} inputMajor={1} {2}x{3} tokens={4}")
    @MethodSource("cases")
    void plainMatmulMatchesReference(DType dtype, boolean inputMajor, int nOut, int nIn, int nTokens) {
        Random rnd = new Random(nOut * 31L + nIn * 7L + nTokens);
        MemorySegment w = randomWeights(dtype, (long) nOut * nIn, rnd);
        Matrix fast = inputMajor ? CpuMatrix.inputMajor(w, dtype, nIn, nOut, POOL) : CpuMatrix.rowMajor(w, dtype, nOut, nIn, POOL);
        Matrix ref = inputMajor ? ReferenceMatrix.inputMajor(w, dtype, nIn, nOut) : ReferenceMatrix.rowMajor(w, dtype, nOut, nIn);
        float[] x = gaussian(nTokens * nIn, rnd);
        float[] expected = new float[nTokens * nOut];
        float[] actual = new float[nTokens * nOut];
        java.util.Arrays.fill(actual, Float.NaN); // matmul must overwrite every output
        ref.matmul(x, expected, nTokens);
        fast.matmul(x, actual, nTokens);
        assertThat(Accuracy.nmse(expected, actual, expected.length)).isLessThan(NmseBounds.sameWeights(dtype));
        assertThat(fast.get(nOut - 1, nIn - 1)).isEqualTo(ref.get(nOut - 1, nIn - 1));
        if (fast instanceof CpuMatrix cpu && cpu.nativeDecode()) { // the Vector API twin, what other CPUs run
            float[] vectorApi = new float[nTokens * nOut];
            java.util.Arrays.fill(vectorApi, Float.NaN);
            cpu.vectorApiOnly().matmul(x, vectorApi, nTokens);
            assertThat(Accuracy.nmse(expected, vectorApi, expected.length)).isLessThan(NmseBounds.sameWeights(dtype));
        }
    }

    static Stream<Arguments> q8Cases() {
        List<Arguments> out = new ArrayList<>();
        for (int groupSize : new int[]{0, 32, 64})
            for (int[] s : new int[][]{{1, 1}, {7, 40}, {33, 100}, {41, 2048}, {130, 1030}, {300, 2100}, {1040, 1024}})
                for (int t : new int[]{1, 5, 67})
                    if (groupSize <= s[1] && s[0] * (long) s[1] * t <= 20_000_000L)
                        out.add(Arguments.of(groupSize, s[0], s[1], t));
        return out.stream();
    }

    @ParameterizedTest(name = "Q8 group={0} {1}x{2} tokens={3}")
    @MethodSource("q8Cases")
    void q8QuantizesLikeReferenceAndMatchesIt(int groupSize, int nOut, int nIn, int nTokens) {
        Random rnd = new Random(nOut * 131L + nIn + groupSize);
        MemorySegment w = randomWeights(DType.BF16, (long) nOut * nIn, rnd);
        // Quantize from the input-major view: the quantizer must transpose correctly too.
        MemorySegment transposed = transpose(w, nOut, nIn);
        Matrix source = CpuMatrix.inputMajor(transposed, DType.BF16, nIn, nOut, POOL);
        Q8Matrix fast = Q8Matrix.quantize(source, groupSize, ARENA, POOL);
        ReferenceQ8Matrix ref = ReferenceQ8Matrix.quantize(ReferenceMatrix.rowMajor(w, DType.BF16, nOut, nIn), groupSize, ARENA);
        assertThat(fast.weights().values().asByteBuffer()).isEqualTo(ref.weights().values().asByteBuffer());
        assertThat(fast.weights().scales().asByteBuffer()).isEqualTo(ref.weights().scales().asByteBuffer());

        float[] x = gaussian(nTokens * nIn, rnd);
        float[] expected = new float[nTokens * nOut];
        float[] actual = new float[nTokens * nOut];
        ref.matmul(x, expected, nTokens);
        fast.matmul(x, actual, nTokens);
        boolean int16Activations = nTokens == 1 && fast.nativeDecode();
        assertThat(Accuracy.nmse(expected, actual, expected.length)).isLessThan(
                int16Activations ? NmseBounds.Q8_INT16_ACTIVATIONS : NmseBounds.sameWeights(DType.Q8));
        // The Vector API kernels stay exact where the native one takes over, and are what other CPUs run.
        float[] vectorApi = new float[nTokens * nOut];
        fast.vectorApiOnly().matmul(x, vectorApi, nTokens);
        assertThat(Accuracy.nmse(expected, vectorApi, expected.length)).isLessThan(NmseBounds.sameWeights(DType.Q8));
    }

    /** The accuracy cost of Q8 against the fp32 weights it was made from, per-row and per 32-group scales. */
    @Test
    void q8CostAgainstF32IsBounded() {
        int nOut = 256, nIn = 2048, nTokens = 4;
        Random rnd = new Random(42);
        MemorySegment w = randomWeights(DType.F32, (long) nOut * nIn, rnd);
        Matrix f32 = CpuMatrix.rowMajor(w, DType.F32, nOut, nIn, POOL);
        float[] x = gaussian(nTokens * nIn, rnd);
        float[] exact = new float[nTokens * nOut];
        f32.matmul(x, exact, nTokens);
        double perRow = q8Nmse(f32, 0, x, exact, nTokens);
        double group32 = q8Nmse(f32, 32, x, exact, nTokens);
        System.out.printf("[Q8 vs F32] output NMSE: per-row scales %.2e, 32-value groups %.2e%n", perRow, group32);
        assertThat(perRow).isLessThan(NmseBounds.Q8_PER_ROW_VS_F32).isGreaterThan(1e-6);
        assertThat(group32).isLessThan(NmseBounds.Q8_GROUP32_VS_F32).isLessThan(perRow);
    }

    private static double q8Nmse(Matrix f32, int groupSize, float[] x, float[] exact, int nTokens) {
        Matrix q8 = Q8Matrix.quantize(f32, groupSize, ARENA, POOL);
        float[] y = new float[exact.length];
        q8.matmul(x, y, nTokens);
        return Accuracy.nmse(exact, y, y.length);
    }

    /**
     * The vector widening must agree with the scalar definition on every one of the 65536 16-bit patterns (Inf, NaN
     * and subnormals included), in both layouts and on both the decode (1 token) and the panel (5 tokens) paths.
     * Each pattern sits among zeros and meets an x of 1, so every output is exactly one decoded weight.
     */
    @ParameterizedTest(name = "{0} inputMajor={1} tokens={2}")
    @MethodSource("halfTypes")
    void everySixteenBitPatternDecodesLikeReference(DType dtype, boolean inputMajor, int nTokens) {
        int n = 1 << 16, width = 16;
        MemorySegment w = ARENA.allocate(2L * n * width, 64);
        Matrix fast, ref;
        float[] x;
        if (inputMajor) {
            // [width, n]: stored row 0 holds every pattern, the other rows zeros; x = (1, 0, 0, …).
            for (int o = 0; o < n; o++) w.setAtIndex(I16, o, (short) o);
            fast = CpuMatrix.inputMajor(w, dtype, width, n, POOL);
            ref = ReferenceMatrix.inputMajor(w, dtype, width, n);
            x = new float[nTokens * width];
            for (int t = 0; t < nTokens; t++) x[t * width] = 1f;
        } else {
            // [n, width]: row o holds pattern o in column o % width, zeros elsewhere; x = all ones.
            for (int o = 0; o < n; o++) w.setAtIndex(I16, (long) o * width + o % width, (short) o);
            fast = CpuMatrix.rowMajor(w, dtype, n, width, POOL);
            ref = ReferenceMatrix.rowMajor(w, dtype, n, width);
            x = new float[nTokens * width];
            java.util.Arrays.fill(x, 1f);
        }
        float[] y = new float[nTokens * n];
        fast.matmul(x, y, nTokens);
        for (int t = 0; t < nTokens; t++) {
            for (int o = 0; o < n; o++) {
                float expected = inputMajor ? ref.get(o, 0) : ref.get(o, o % width);
                float actual = y[t * n + o];
                if (Float.isNaN(expected)) assertThat(actual).as("pattern %04x", o).isNaN();
                else assertThat(actual).as("pattern %04x", o).isEqualTo(expected == 0f ? 0f : expected);
            }
        }
    }

    static Stream<Arguments> halfTypes() {
        List<Arguments> out = new ArrayList<>();
        for (DType dtype : List.of(DType.BF16, DType.F16))
            for (boolean inputMajor : new boolean[]{false, true})
                for (int t : new int[]{1, 5}) out.add(Arguments.of(dtype, inputMajor, t));
        return out.stream();
    }
    @Test
    void rejectsTooSmallSegmentAndArrays() {
        MemorySegment w = ARENA.allocate(10);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CpuMatrix.rowMajor(w, DType.BF16, 2, 8, POOL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 32 bytes");
        Matrix m = CpuMatrix.rowMajor(ARENA.allocate(64), DType.F32, 4, 4, POOL);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.matmul(new float[7], new float[8], 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x has 7 floats");
    }

    static MemorySegment randomWeights(DType dtype, long n, Random rnd) {
        MemorySegment seg = ARENA.allocate(n * dtype.bytes, 64);
        for (long i = 0; i < n; i++) {
            float v = (float) (rnd.nextGaussian() * 0.05);
            switch (dtype) {
                case F32 -> seg.setAtIndex(F32, i, v);
                case BF16 -> seg.setAtIndex(I16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                case F16 -> seg.setAtIndex(I16, i, Float.floatToFloat16(v));
                case Q8, GGML_BLOCKS -> throw new IllegalArgumentException();
            }
        }
        return seg;
    }

    private static MemorySegment transpose(MemorySegment w, int nOut, int nIn) {
        MemorySegment t = ARENA.allocate(w.byteSize(), 64);
        for (int o = 0; o < nOut; o++)
            for (int i = 0; i < nIn; i++) t.setAtIndex(I16, (long) i * nOut + o, w.getAtIndex(I16, (long) o * nIn + i));
        return t;
    }

    static float[] gaussian(int n, Random rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}

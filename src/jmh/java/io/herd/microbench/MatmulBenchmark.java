package io.herd.microbench;

import io.herd.compute.DType;
import io.herd.compute.Matrices;
import io.herd.compute.Matrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One matmul of a Llama 4-sized weight ([8192, 5120], the shared expert's gate) per dtype and layout, at 1 token
 * (decode: divide {@link #bytesRead} by the time for GB/s) and at 8 to 128 tokens (2·8192·5120·tokens flops per
 * call), which between them reach every CPU matmul path. Q8 is
 * quantized (64-value groups) from the BF16 matrix of the given layout; its storage is always [out, in]. One matrix
 * of 42–168 MB can stay partly in a large shared L3 between calls, so 1-token scores can exceed DRAM speed; for
 * memory-streaming decode numbers use {@code ./herd bench --kernels}, which cycles through 1 GB of copies. The
 * {@link #kernels} parameter sets the native decode kernels against their Vector API twins.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulBenchmark {
    static final int N_OUT = 8192, N_IN = 5120;

    @Param({"F32", "BF16", "F16", "Q8"})
    public String dtype;

    @Param({"rowMajor", "inputMajor"})
    public String layout;

    /** One per kernel path: GEMV, few-token streaming or panels, panels, token lanes (see CpuMatrix.matmul). */
    @Param({"1", "8", "16", "64", "128"})
    public int tokens;

    /** "native": the native decode kernels where this build and CPU have them; "vectorApi": Vector API only. */
    @Param({"native", "vectorApi"})
    public String kernels;

    /** Owner of the weight memory for one trial. */
    private Arena arena;
    private Matrix matrix;
    private float[] x, y;

    /** Weight bytes one call reads; reported once at setup so GB/s can be derived from the score. */
    public long bytesRead;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        DType d = DType.valueOf(dtype);
        DType stored = d == DType.Q8 ? DType.BF16 : d;
        MemorySegment w = random(stored, (long) N_OUT * N_IN, new SplittableRandom(1));
        Matrix m = layout.equals("rowMajor") ? Matrices.rowMajor(w, stored, N_OUT, N_IN)
                : Matrices.inputMajor(w, stored, N_IN, N_OUT);
        matrix = d == DType.Q8 ? Matrices.quantizeQ8(m, 64, arena) : m;
        if (kernels.equals("vectorApi")) matrix = Matrices.vectorApiOnly(matrix);
        bytesRead = matrix.bytesRead();
        x = new float[tokens * N_IN];
        y = new float[tokens * N_OUT];
        SplittableRandom rnd = new SplittableRandom(2);
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        System.out.printf("%n%s %s: %d weight bytes per call, native decode kernel: %s%n", dtype, layout, bytesRead,
                Matrices.nativeDecode(matrix));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        matrix.matmul(x, y, tokens);
        return y;
    }

    private MemorySegment random(DType d, long n, SplittableRandom rnd) {
        MemorySegment seg = arena.allocate(n * d.bytes, 64);
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextDouble(-0.05, 0.05);
            switch (d) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
                case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(v));
                case Q8, GGML_BLOCKS -> throw new IllegalArgumentException("Q8 is quantized from BF16");
            }
        }
        return seg;
    }
}

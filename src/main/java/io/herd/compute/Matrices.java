package io.herd.compute;

import io.herd.compute.cpu.CpuMatrix;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.compute.cpu.GgmlBlockMatrix;
import io.herd.compute.cpu.Q8Matrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Creates {@link Matrix} views over weight memory. The one place where storage layouts are chosen; callers (the
 * model loader, the benchmark) never name an implementation class. Matrices run on the Vector API kernels of
 * {@code compute.cpu} with {@link CpuThreadPool#shared()}; the scalar oracle is {@code compute.reference}.
 */
public final class Matrices {
    private Matrices() {}

    /** An HF Linear weight {@code [nOut, nIn]}, nIn contiguous. */
    public static Matrix rowMajor(MemorySegment data, DType dtype, int nOut, int nIn) {
        return CpuMatrix.rowMajor(data, dtype, nOut, nIn, CpuThreadPool.shared());
    }

    /** An input-major weight {@code [nIn, nOut]}, nOut contiguous (HF fused expert slices: y = x · W). */
    public static Matrix inputMajor(MemorySegment data, DType dtype, int nIn, int nOut) {
        return CpuMatrix.inputMajor(data, dtype, nIn, nOut, CpuThreadPool.shared());
    }

    /**
     * A row-major {@code [nOut, nIn]} GGUF tensor of any type Herd decodes ({@link GgmlType#decodable()}): the float
     * types on the same kernels as safetensors weights, the block formats on {@link GgmlBlockMatrix}.
     */
    public static Matrix ggml(MemorySegment data, GgmlType type, int nOut, int nIn) {
        return switch (type) {
            case F32 -> rowMajor(data, DType.F32, nOut, nIn);
            case F16 -> rowMajor(data, DType.F16, nOut, nIn);
            case BF16 -> rowMajor(data, DType.BF16, nOut, nIn);
            default -> new GgmlBlockMatrix(data, type, nOut, nIn, CpuThreadPool.shared());
        };
    }

    /** {@code top}'s outputs then {@code bottom}'s, over the same inputs (a fused gate|up from two tensors). */
    public static Matrix stackRows(Matrix top, Matrix bottom) {
        return new StackedRowsMatrix(top, bottom);
    }

    /**
     * An int8 copy of {@code source} with one fp16 scale per {@code groupSize} inputs of each output row
     * (groupSize 0: one scale per row), stored [nOut, nIn] in {@code arena}; the caller owns the arena and must keep
     * it open while the matrix is used. See {@link Q8Weights} for the format.
     */
    public static Matrix quantizeQ8(Matrix source, int groupSize, Arena arena) {
        return Q8Matrix.quantize(source, groupSize, arena, CpuThreadPool.shared());
    }

    /**
     * The same matrix with every product on the Vector API kernels, also where native ones would run (benchmarks
     * compare the two); other matrices as they are.
     */
    public static Matrix vectorApiOnly(Matrix m) {
        return switch (m) {
            case CpuMatrix cpu -> cpu.vectorApiOnly();
            case Q8Matrix q8 -> q8.vectorApiOnly();
            default -> m;
        };
    }

    /** Whether one-token products of {@code m} run on native CPU kernels. */
    public static boolean nativeDecode(Matrix m) {
        return switch (m) {
            case CpuMatrix cpu -> cpu.nativeDecode();
            case Q8Matrix q8 -> q8.nativeDecode();
            default -> false;
        };
    }
}

package io.herd.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * cuBLAS (libcublas): handle lifecycle, stream binding and the mixed-precision GEMMs Herd uses (BF16 or FP32 inputs,
 * FP32 compute). cuBLAS is column-major; {@link #gemmRowMajorXWt} states the row-major mapping once. One method
 * handle per C function; every status goes through {@link Ffi#check}.
 */
public final class Cublas {
    /** cudaDataType_t. */
    public static final int R_32F = 0, R_16F = 2, R_16BF = 14;
    /** cublasComputeType_t: FP32 accumulation (no TF32 unless the math mode allows it). */
    public static final int COMPUTE_32F = 68;
    /** cublasOperation_t. */
    public static final int OP_N = 0, OP_T = 1;
    /** cublasGemmAlgo_t CUBLAS_GEMM_DEFAULT. */
    public static final int GEMM_DEFAULT = -1;

    private final Path file;
    private final MethodHandle cublasCreate;
    private final MethodHandle cublasDestroy;
    private final MethodHandle cublasSetStream;
    private final MethodHandle cublasGetVersion;
    private final MethodHandle cublasGemmEx;
    private final MethodHandle cublasGemmStridedBatchedEx;

    private Cublas(Path file, SymbolLookup lib) {
        this.file = file;
        String l = file.getFileName().toString();
        cublasCreate = Ffi.downcallAny(lib, l, FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasCreate_v2", "cublasCreate");
        cublasDestroy = Ffi.downcallAny(lib, l, FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasDestroy_v2", "cublasDestroy");
        cublasSetStream = Ffi.downcallAny(lib, l, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cublasSetStream_v2",
                "cublasSetStream");
        cublasGetVersion = Ffi.downcallAny(lib, l, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cublasGetVersion_v2",
                "cublasGetVersion");
        cublasGemmEx = Ffi.downcall(lib, l, "cublasGemmEx", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        cublasGemmStridedBatchedEx = Ffi.downcall(lib, l, "cublasGemmStridedBatchedEx", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
    }

    /** Loads libcublas from the search path; it stays loaded while {@code arena} is open. */
    public static Cublas load(CudaLibraries libraries, Arena arena) {
        Path file = libraries.find("cublas").orElseThrow(() -> new UnsatisfiedLinkError(
                "libcublas.so not found in " + libraries.searchDirs()));
        return new Cublas(file, SymbolLookup.libraryLookup(file, arena));
    }

    public Path file() { return file; }

    public MemorySegment create() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cublasCreate.invokeExact(v), "cublasCreate_v2");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void destroy(MemorySegment handle) {
        try {
            Ffi.check((int) cublasDestroy.invokeExact(handle), "cublasDestroy_v2");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void setStream(MemorySegment handle, MemorySegment stream) {
        try {
            Ffi.check((int) cublasSetStream.invokeExact(handle, stream), "cublasSetStream_v2");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public int version(MemorySegment handle) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            Ffi.check((int) cublasGetVersion.invokeExact(handle, v), "cublasGetVersion_v2");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** cublasGemmEx, column-major: C(m×n) = alpha·op(A)·op(B) + beta·C, alpha/beta as host floats. */
    public void gemmEx(MemorySegment handle, int transA, int transB, int m, int n, int k, float alpha,
                       long a, int aType, int lda, long b, int bType, int ldb, float beta,
                       long c, int cType, int ldc, int computeType) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(JAVA_FLOAT, alpha), be = arena.allocateFrom(JAVA_FLOAT, beta);
            Ffi.check((int) cublasGemmEx.invokeExact(handle, transA, transB, m, n, k, al,
                    MemorySegment.ofAddress(a), aType, lda, MemorySegment.ofAddress(b), bType, ldb, be,
                    MemorySegment.ofAddress(c), cType, ldc, computeType, GEMM_DEFAULT), "cublasGemmEx");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** cublasGemmStridedBatchedEx, column-major, {@code batch} products with fixed strides (in elements). */
    public void gemmStridedBatchedEx(MemorySegment handle, int transA, int transB, int m, int n, int k, float alpha,
                                     long a, int aType, int lda, long strideA, long b, int bType, int ldb,
                                     long strideB, float beta, long c, int cType, int ldc, long strideC, int batch,
                                     int computeType) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(JAVA_FLOAT, alpha), be = arena.allocateFrom(JAVA_FLOAT, beta);
            Ffi.check((int) cublasGemmStridedBatchedEx.invokeExact(handle, transA, transB, m, n, k, al,
                    MemorySegment.ofAddress(a), aType, lda, strideA, MemorySegment.ofAddress(b), bType, ldb, strideB,
                    be, MemorySegment.ofAddress(c), cType, ldc, strideC, batch, computeType, GEMM_DEFAULT),
                    "cublasGemmStridedBatchedEx");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /**
     * Row-major {@code y[M, N] (+)= x[M, K] · W[N, K]ᵀ} (an HF Linear): in column-major terms
     * {@code yᵀ(N×M) = Wᵀ-view(N×K, op T of the K×N column-major W) · xᵀ(K×M)}.
     */
    public void gemmRowMajorXWt(MemorySegment handle, int m, int n, int k, long x, long w, int inType, long y,
                                int outType, boolean accumulate) {
        gemmRowMajorXWt(handle, m, n, k, x, w, inType, y, n, outType, accumulate);
    }

    /**
     * As {@link #gemmRowMajorXWt(MemorySegment, int, int, int, long, long, int, long, int, boolean)} into a column
     * slice of a wider y: row r of the result starts at {@code y + r * ldy} elements (ldy ≥ n), so a weight matrix
     * can be multiplied a block of output rows at a time.
     */
    public void gemmRowMajorXWt(MemorySegment handle, int m, int n, int k, long x, long w, int inType, long y,
                                int ldy, int outType, boolean accumulate) {
        gemmEx(handle, OP_T, OP_N, n, m, k, 1f, w, inType, k, x, inType, k, accumulate ? 1f : 0f, y, outType, ldy,
                COMPUTE_32F);
    }
}

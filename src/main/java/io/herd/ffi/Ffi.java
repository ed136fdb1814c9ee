package io.herd.ffi;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;

/** Status checking and downcall lookup shared by the bindings. */
public final class Ffi {
    private Ffi() {}

    private static final Map<Integer, String> DRIVER = Map.ofEntries(
            Map.entry(1, "CUDA_ERROR_INVALID_VALUE"), Map.entry(2, "CUDA_ERROR_OUT_OF_MEMORY"),
            Map.entry(3, "CUDA_ERROR_NOT_INITIALIZED"), Map.entry(4, "CUDA_ERROR_DEINITIALIZED"),
            Map.entry(34, "CUDA_ERROR_STUB_LIBRARY"), Map.entry(46, "CUDA_ERROR_DEVICE_UNAVAILABLE"),
            Map.entry(100, "CUDA_ERROR_NO_DEVICE"), Map.entry(101, "CUDA_ERROR_INVALID_DEVICE"),
            Map.entry(200, "CUDA_ERROR_INVALID_IMAGE"), Map.entry(201, "CUDA_ERROR_INVALID_CONTEXT"),
            Map.entry(209, "CUDA_ERROR_NO_BINARY_FOR_GPU"), Map.entry(218, "CUDA_ERROR_INVALID_PTX"),
            Map.entry(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"), Map.entry(400, "CUDA_ERROR_INVALID_HANDLE"),
            Map.entry(500, "CUDA_ERROR_NOT_FOUND"), Map.entry(600, "CUDA_ERROR_NOT_READY"),
            Map.entry(700, "CUDA_ERROR_ILLEGAL_ADDRESS"), Map.entry(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"),
            Map.entry(702, "CUDA_ERROR_LAUNCH_TIMEOUT"), Map.entry(719, "CUDA_ERROR_LAUNCH_FAILED"),
            Map.entry(803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"), Map.entry(999, "CUDA_ERROR_UNKNOWN"));

    private static final Map<Integer, String> RUNTIME = Map.ofEntries(
            Map.entry(1, "cudaErrorInvalidValue"), Map.entry(2, "cudaErrorMemoryAllocation"),
            Map.entry(3, "cudaErrorInitializationError"), Map.entry(34, "cudaErrorStubLibrary"),
            Map.entry(35, "cudaErrorInsufficientDriver"), Map.entry(46, "cudaErrorDevicesUnavailable"),
            Map.entry(100, "cudaErrorNoDevice"), Map.entry(101, "cudaErrorInvalidDevice"),
            Map.entry(209, "cudaErrorNoKernelImageForDevice"), Map.entry(218, "cudaErrorInvalidPtx"),
            Map.entry(222, "cudaErrorUnsupportedPtxVersion"), Map.entry(400, "cudaErrorInvalidResourceHandle"),
            Map.entry(600, "cudaErrorNotReady"), Map.entry(700, "cudaErrorIllegalAddress"),
            Map.entry(701, "cudaErrorLaunchOutOfResources"), Map.entry(719, "cudaErrorLaunchFailure"),
            Map.entry(803, "cudaErrorSystemDriverMismatch"), Map.entry(804, "cudaErrorCompatNotSupportedOnDevice"),
            Map.entry(999, "cudaErrorUnknown"));

    private static final Map<Integer, String> CUBLAS = Map.ofEntries(
            Map.entry(1, "CUBLAS_STATUS_NOT_INITIALIZED"), Map.entry(3, "CUBLAS_STATUS_ALLOC_FAILED"),
            Map.entry(7, "CUBLAS_STATUS_INVALID_VALUE"), Map.entry(8, "CUBLAS_STATUS_ARCH_MISMATCH"),
            Map.entry(11, "CUBLAS_STATUS_MAPPING_ERROR"), Map.entry(13, "CUBLAS_STATUS_EXECUTION_FAILED"),
            Map.entry(14, "CUBLAS_STATUS_INTERNAL_ERROR"), Map.entry(15, "CUBLAS_STATUS_NOT_SUPPORTED"),
            Map.entry(16, "CUBLAS_STATUS_LICENSE_ERROR"));

    /** Throws {@link NativeCallException} unless {@code status} is 0 (success in CUDA, cuBLAS and the driver). */
    public static void check(int status, String function) {
        if (status != 0) throw new NativeCallException(function, status, statusName(function, status));
    }

    /** The header name of a status, chosen by the function's library prefix (cublas…, cuda…, cu…). */
    public static String statusName(String function, int status) {
        if (status == 0) return "SUCCESS";
        Map<Integer, String> table = function.startsWith("cublas") ? CUBLAS
                : function.startsWith("cuda") ? RUNTIME
                : function.startsWith("cu") ? DRIVER
                : Map.of();
        return table.getOrDefault(status, "UNKNOWN_STATUS_" + status);
    }

    /** A downcall handle for {@code name}, failing with the library's name when the symbol is missing. */
    static MethodHandle downcall(SymbolLookup lookup, String library, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "symbol " + name + " not found in " + library));
        return Linker.nativeLinker().downcallHandle(symbol, descriptor);
    }

    /** A downcall handle for the first of {@code names} the library exports (versioned aliases such as _v2). */
    static MethodHandle downcallAny(SymbolLookup lookup, String library, FunctionDescriptor descriptor, String... names) {
        for (String name : names) {
            var symbol = lookup.find(name);
            if (symbol.isPresent()) return Linker.nativeLinker().downcallHandle(symbol.get(), descriptor);
        }
        throw new UnsatisfiedLinkError("none of " + java.util.Arrays.toString(names) + " found in " + library);
    }

    /** Rethrows what a downcall threw; MethodHandle.invokeExact declares Throwable. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("native call failed", t);
    }
}

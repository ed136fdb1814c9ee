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
 * The CUDA runtime API (libcudart): device memory, pinned host memory, async copies, streams, events, device
 * attributes and free memory. Device pointers are plain {@code long} addresses; streams and events are opaque
 * {@link MemorySegment} handles. One method handle per C function; every status goes through {@link Ffi#check}.
 */
public final class CudaRuntime {
    /** cudaMemcpyKind. */
    public static final int HOST_TO_DEVICE = 1, DEVICE_TO_HOST = 2, DEVICE_TO_DEVICE = 3;
    /** cudaStreamNonBlocking: the stream does not synchronise with the legacy default stream. */
    public static final int STREAM_NON_BLOCKING = 1;

    private final Path file;
    private final MethodHandle cudaGetDeviceCount;
    private final MethodHandle cudaSetDevice;
    private final MethodHandle cudaRuntimeGetVersion;
    private final MethodHandle cudaMalloc;
    private final MethodHandle cudaFree;
    private final MethodHandle cudaMallocHost;
    private final MethodHandle cudaFreeHost;
    private final MethodHandle cudaMemcpy;
    private final MethodHandle cudaMemcpyAsync;
    private final MethodHandle cudaMemsetAsync;
    private final MethodHandle cudaStreamCreateWithFlags;
    private final MethodHandle cudaStreamDestroy;
    private final MethodHandle cudaStreamSynchronize;
    private final MethodHandle cudaEventCreate;
    private final MethodHandle cudaEventRecord;
    private final MethodHandle cudaEventSynchronize;
    private final MethodHandle cudaEventElapsedTime;
    private final MethodHandle cudaEventDestroy;
    private final MethodHandle cudaDeviceGetAttribute;
    private final MethodHandle cudaMemGetInfo;
    private final MethodHandle cudaDeviceSynchronize;
    private final MethodHandle cudaGetLastError;
    private final MethodHandle cudaStreamBeginCapture;
    private final MethodHandle cudaStreamEndCapture;
    private final MethodHandle cudaGraphInstantiate;
    private final MethodHandle cudaGraphLaunch;
    private final MethodHandle cudaGraphExecDestroy;
    private final MethodHandle cudaGraphDestroy;

    private CudaRuntime(Path file, SymbolLookup lib) {
        this.file = file;
        String l = file.getFileName().toString();
        cudaGetDeviceCount = Ffi.downcall(lib, l, "cudaGetDeviceCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaSetDevice = Ffi.downcall(lib, l, "cudaSetDevice", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        cudaRuntimeGetVersion = Ffi.downcall(lib, l, "cudaRuntimeGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaMalloc = Ffi.downcall(lib, l, "cudaMalloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cudaFree = Ffi.downcall(lib, l, "cudaFree", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaMallocHost = Ffi.downcall(lib, l, "cudaMallocHost", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cudaFreeHost = Ffi.downcall(lib, l, "cudaFreeHost", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaMemcpy = Ffi.downcall(lib, l, "cudaMemcpy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        cudaMemcpyAsync = Ffi.downcall(lib, l, "cudaMemcpyAsync",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        cudaMemsetAsync = Ffi.downcall(lib, l, "cudaMemsetAsync",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        cudaStreamCreateWithFlags = Ffi.downcall(lib, l, "cudaStreamCreateWithFlags",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cudaStreamDestroy = Ffi.downcall(lib, l, "cudaStreamDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaStreamSynchronize = Ffi.downcall(lib, l, "cudaStreamSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaEventCreate = Ffi.downcall(lib, l, "cudaEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaEventRecord = Ffi.downcall(lib, l, "cudaEventRecord", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cudaEventSynchronize = Ffi.downcall(lib, l, "cudaEventSynchronize", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaEventElapsedTime = Ffi.downcall(lib, l, "cudaEventElapsedTime",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cudaEventDestroy = Ffi.downcall(lib, l, "cudaEventDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaDeviceGetAttribute = Ffi.downcall(lib, l, "cudaDeviceGetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cudaMemGetInfo = Ffi.downcall(lib, l, "cudaMemGetInfo", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cudaDeviceSynchronize = Ffi.downcall(lib, l, "cudaDeviceSynchronize", FunctionDescriptor.of(JAVA_INT));
        cudaGetLastError = Ffi.downcall(lib, l, "cudaGetLastError", FunctionDescriptor.of(JAVA_INT));
        cudaStreamBeginCapture = Ffi.downcall(lib, l, "cudaStreamBeginCapture",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cudaStreamEndCapture = Ffi.downcall(lib, l, "cudaStreamEndCapture",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cudaGraphInstantiate = Ffi.downcall(lib, l, "cudaGraphInstantiate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        cudaGraphLaunch = Ffi.downcall(lib, l, "cudaGraphLaunch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cudaGraphExecDestroy = Ffi.downcall(lib, l, "cudaGraphExecDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cudaGraphDestroy = Ffi.downcall(lib, l, "cudaGraphDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** Loads libcudart from the search path; it stays loaded while {@code arena} is open. */
    public static CudaRuntime load(CudaLibraries libraries, Arena arena) {
        Path file = libraries.find("cudart").orElseThrow(() -> new UnsatisfiedLinkError(
                "libcudart.so not found in " + libraries.searchDirs()));
        return new CudaRuntime(file, SymbolLookup.libraryLookup(file, arena));
    }

    public Path file() { return file; }

    /** Device count; 0 when the runtime reports cudaErrorNoDevice (not an error for a probe). */
    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            int status = (int) cudaGetDeviceCount.invokeExact(v);
            if (status == 100) return 0;
            Ffi.check(status, "cudaGetDeviceCount");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void setDevice(int ordinal) {
        try {
            Ffi.check((int) cudaSetDevice.invokeExact(ordinal), "cudaSetDevice");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public int runtimeVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            Ffi.check((int) cudaRuntimeGetVersion.invokeExact(v), "cudaRuntimeGetVersion");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Device memory of {@code bytes}; returns the device address. */
    public long malloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            int status = (int) cudaMalloc.invokeExact(v, bytes);
            if (status != 0) {
                throw new NativeCallException("cudaMalloc(" + bytes + " bytes)", status,
                        Ffi.statusName("cudaMalloc", status));
            }
            return v.get(ADDRESS, 0).address();
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void free(long address) {
        try {
            Ffi.check((int) cudaFree.invokeExact(MemorySegment.ofAddress(address)), "cudaFree");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Page-locked host memory (fast async copies), as a segment of {@code bytes}. */
    public MemorySegment mallocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cudaMallocHost.invokeExact(v, bytes), "cudaMallocHost");
            return v.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void freeHost(MemorySegment host) {
        try {
            Ffi.check((int) cudaFreeHost.invokeExact(host), "cudaFreeHost");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Synchronous copy between raw addresses (kind: HOST_TO_DEVICE, DEVICE_TO_HOST, DEVICE_TO_DEVICE). */
    public void memcpy(long dst, long src, long bytes, int kind) {
        try {
            Ffi.check((int) cudaMemcpy.invokeExact(MemorySegment.ofAddress(dst), MemorySegment.ofAddress(src), bytes,
                    kind), "cudaMemcpy");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void memcpyAsync(long dst, long src, long bytes, int kind, MemorySegment stream) {
        try {
            Ffi.check((int) cudaMemcpyAsync.invokeExact(MemorySegment.ofAddress(dst), MemorySegment.ofAddress(src),
                    bytes, kind, stream), "cudaMemcpyAsync");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void memsetAsync(long dst, int value, long bytes, MemorySegment stream) {
        try {
            Ffi.check((int) cudaMemsetAsync.invokeExact(MemorySegment.ofAddress(dst), value, bytes, stream),
                    "cudaMemsetAsync");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public MemorySegment streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cudaStreamCreateWithFlags.invokeExact(v, flags), "cudaStreamCreateWithFlags");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void streamDestroy(MemorySegment stream) {
        try {
            Ffi.check((int) cudaStreamDestroy.invokeExact(stream), "cudaStreamDestroy");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void streamSynchronize(MemorySegment stream) {
        try {
            Ffi.check((int) cudaStreamSynchronize.invokeExact(stream), "cudaStreamSynchronize");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public MemorySegment eventCreate() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cudaEventCreate.invokeExact(v), "cudaEventCreate");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        try {
            Ffi.check((int) cudaEventRecord.invokeExact(event, stream), "cudaEventRecord");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void eventSynchronize(MemorySegment event) {
        try {
            Ffi.check((int) cudaEventSynchronize.invokeExact(event), "cudaEventSynchronize");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Milliseconds between two recorded events. */
    public float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_FLOAT);
            Ffi.check((int) cudaEventElapsedTime.invokeExact(v, start, end), "cudaEventElapsedTime");
            return v.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void eventDestroy(MemorySegment event) {
        try {
            Ffi.check((int) cudaEventDestroy.invokeExact(event), "cudaEventDestroy");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** cudaDeviceGetAttribute (same numbering as the driver's CUdevice_attribute). */
    public int deviceAttribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            Ffi.check((int) cudaDeviceGetAttribute.invokeExact(v, attribute, device), "cudaDeviceGetAttribute");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Free and total device memory in bytes. */
    public MemInfo memGetInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG), total = a.allocate(JAVA_LONG);
            Ffi.check((int) cudaMemGetInfo.invokeExact(free, total), "cudaMemGetInfo");
            return new MemInfo(free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0));
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void deviceSynchronize() {
        try {
            Ffi.check((int) cudaDeviceSynchronize.invokeExact(), "cudaDeviceSynchronize");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Throws the sticky or last launch error, if any. */
    public void checkLastError() {
        try {
            Ffi.check((int) cudaGetLastError.invokeExact(), "cudaGetLastError");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** cudaStreamCaptureModeThreadLocal: only this thread's unsafe API calls are refused while capturing. */
    public static final int CAPTURE_MODE_THREAD_LOCAL = 1;

    public void streamBeginCapture(MemorySegment stream, int mode) {
        try {
            Ffi.check((int) cudaStreamBeginCapture.invokeExact(stream, mode), "cudaStreamBeginCapture");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Ends a capture and returns the captured cudaGraph_t. */
    public MemorySegment streamEndCapture(MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cudaStreamEndCapture.invokeExact(stream, v), "cudaStreamEndCapture");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Instantiates a graph into an executable graph (cudaGraphExec_t). */
    public MemorySegment graphInstantiate(MemorySegment graph) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cudaGraphInstantiate.invokeExact(v, graph, 0L), "cudaGraphInstantiate");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void graphLaunch(MemorySegment graphExec, MemorySegment stream) {
        try {
            Ffi.check((int) cudaGraphLaunch.invokeExact(graphExec, stream), "cudaGraphLaunch");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void graphExecDestroy(MemorySegment graphExec) {
        try {
            Ffi.check((int) cudaGraphExecDestroy.invokeExact(graphExec), "cudaGraphExecDestroy");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void graphDestroy(MemorySegment graph) {
        try {
            Ffi.check((int) cudaGraphDestroy.invokeExact(graph), "cudaGraphDestroy");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Free and total device memory. */
    public record MemInfo(long freeBytes, long totalBytes) {}
}

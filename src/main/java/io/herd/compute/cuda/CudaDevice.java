package io.herd.compute.cuda;

import io.herd.ffi.Cublas;
import io.herd.ffi.CudaDriver;
import io.herd.ffi.CudaLibraries;
import io.herd.ffi.CudaRuntime;
import io.herd.ffi.HerdKernels;
import io.herd.ffi.KernelArgs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One GPU as Herd uses it: the primary context, one persistent stream on which every kernel, copy and GEMM of a
 * step is queued, a cuBLAS handle bound to that stream, Herd's kernels, and the device allocations made through it
 * (freed on {@link #close()}). Owned by one platform thread (the engine thread); not thread-safe.
 *
 * <p>The shared arena {@code libraries} owns the loaded CUDA libraries and is closed last.
 */
public final class CudaDevice implements AutoCloseable {
    private final Arena libraries;
    private final CudaDriver driver;
    private final CudaRuntime runtime;
    private final Cublas cublas;
    private final int ordinal;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final MemorySegment cublasHandle;
    private final HerdKernels kernels;
    private final Map<Long, Allocation> allocations = new LinkedHashMap<>();
    private long allocationCounter;
    private final DeviceInfo info;

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        libraries = Arena.ofShared();
        try {
            CudaLibraries search = CudaLibraries.fromEnvironment();
            driver = CudaDriver.load(search, libraries);
            runtime = CudaRuntime.load(search, libraries);
            cublas = Cublas.load(search, libraries);
            driver.init();
            device = driver.device(ordinal);
            runtime.setDevice(ordinal);
            context = driver.retainPrimaryContext(device);
            driver.setCurrent(context);
            stream = runtime.streamCreate(CudaRuntime.STREAM_NON_BLOCKING);
            cublasHandle = cublas.create();
            cublas.setStream(cublasHandle, stream);
            kernels = HerdKernels.load(driver);
            info = new DeviceInfo(driver.deviceName(device), driver.totalMemory(device),
                    driver.attribute(device, CudaDriver.ATTR_MULTIPROCESSOR_COUNT),
                    driver.attribute(device, CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR),
                    driver.attribute(device, CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR),
                    driver.driverVersion(), runtime.runtimeVersion(), cublas.version(cublasHandle),
                    runtime.file().toString(), cublas.file().toString());
        } catch (RuntimeException | Error e) {
            libraries.close();
            throw e;
        }
    }

    /** Opens GPU {@code ordinal} (0 for the first). Call {@link io.herd.ffi.CudaAvailability#probe()} first. */
    public static CudaDevice open(int ordinal) {
        return new CudaDevice(ordinal);
    }

    public DeviceInfo info() { return info; }

    public CudaRuntime runtime() { return runtime; }

    public Cublas cublas() { return cublas; }

    public MemorySegment cublasHandle() { return cublasHandle; }

    public MemorySegment stream() { return stream; }

    /** Makes this device's context current on the calling thread (driver launches need it). */
    public void makeCurrent() {
        driver.setCurrent(context);
    }

    /** Device memory of {@code bytes}, freed by {@link #free} or on close. */
    public long alloc(long bytes) {
        long address = runtime.malloc(Math.max(bytes, 16));
        allocations.put(address, new Allocation(bytes, allocationCounter++));
        return address;
    }

    public void free(long address) {
        if (allocations.remove(address) == null) throw new IllegalStateException("not allocated here: " + address);
        runtime.free(address);
    }

    /** Bytes currently allocated through this device. */
    public long allocatedBytes() {
        long sum = 0;
        for (Allocation a : allocations.values()) sum += a.bytes();
        return sum;
    }

    /** A mark for {@link #freeSince}: owners of many buffers (a forward pass) free them all at once. */
    public long allocationMark() {
        return allocationCounter;
    }

    /** Frees every allocation made since {@code mark} (after finishing the stream's work). */
    public void freeSince(long mark) {
        synchronize();
        var it = allocations.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (e.getValue().sequence() >= mark) {
                runtime.free(e.getKey());
                it.remove();
            }
        }
    }

    private record Allocation(long bytes, long sequence) {}

    /** Queues a host→device copy on the stream; the host memory must stay valid until the stream is synchronised. */
    public void upload(MemorySegment host, long device, long bytes) {
        runtime.memcpyAsync(device, host.address(), bytes, CudaRuntime.HOST_TO_DEVICE, stream);
    }

    /** Queues a device→host copy. */
    public void download(long device, MemorySegment host, long bytes) {
        runtime.memcpyAsync(host.address(), device, bytes, CudaRuntime.DEVICE_TO_HOST, stream);
    }

    /** Copies {@code values} to device address {@code dst} in stream order and waits for the copy. */
    public void uploadInts(int[] values, long dst) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, values);
            upload(host, dst, host.byteSize());
            synchronize();  // the confined host copy must outlive the transfer
        }
    }

    /** Waits for the stream, then copies {@code n} floats from {@code src} into {@code dst[dstOffset…]}. */
    public void downloadFloats(long src, float[] dst, int dstOffset, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(n * 4L);
            download(src, host, n * 4L);
            synchronize();
            MemorySegment.copy(host, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, dst, dstOffset, n);
        }
    }

    /** Waits for the stream, then returns {@code n} ints from {@code src}. */
    public int[] downloadInts(long src, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(n * 4L);
            download(src, host, n * 4L);
            synchronize();
            return host.toArray(java.lang.foreign.ValueLayout.JAVA_INT);
        }
    }

    /**
     * Records what {@code work} queues on the stream (without running it) into an executable CUDA graph. The work
     * must not allocate or synchronise.
     */
    public Graph capture(Runnable work) {
        synchronize();
        runtime.streamBeginCapture(stream, CudaRuntime.CAPTURE_MODE_THREAD_LOCAL);
        MemorySegment exec;
        try {
            work.run();
        } finally {
            MemorySegment graph = runtime.streamEndCapture(stream);
            exec = runtime.graphInstantiate(graph);
            runtime.graphDestroy(graph);
        }
        return new Graph(exec);
    }

    /** An executable graph of this device; replayed on its stream. */
    public final class Graph implements AutoCloseable {
        private final MemorySegment exec;
        private boolean closed;

        private Graph(MemorySegment exec) {
            this.exec = exec;
        }

        public void launch() {
            if (closed) throw new IllegalStateException("graph closed");
            runtime.graphLaunch(exec, stream);
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                runtime.graphExecDestroy(exec);
            }
        }
    }

    public void copy(long dst, long src, long bytes) {
        runtime.memcpyAsync(dst, src, bytes, CudaRuntime.DEVICE_TO_DEVICE, stream);
    }

    public void zero(long device, long bytes) {
        runtime.memsetAsync(device, 0, bytes, stream);
    }

    public void synchronize() {
        runtime.streamSynchronize(stream);
    }

    /** Launches one of Herd's kernels on the stream. */
    public void launch(String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, Consumer<KernelArgs> args) {
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0) return;  // nothing to do (an empty batch)
        kernels.launch(kernel, gridX, gridY, gridZ, blockX, blockY, stream, args);
    }

    /** Milliseconds the stream spends on {@code work} (CUDA events around it; synchronises). */
    public float time(Runnable work) {
        MemorySegment start = runtime.eventCreate(), end = runtime.eventCreate();
        try {
            runtime.eventRecord(start, stream);
            work.run();
            runtime.eventRecord(end, stream);
            runtime.eventSynchronize(end);
            return runtime.eventElapsedMillis(start, end);
        } finally {
            runtime.eventDestroy(start);
            runtime.eventDestroy(end);
        }
    }

    @Override
    public void close() {
        try {
            makeCurrent();
            runtime.streamSynchronize(stream);
            for (long address : allocations.keySet()) runtime.free(address);
            allocations.clear();
            kernels.close();
            cublas.destroy(cublasHandle);
            runtime.streamDestroy(stream);
            driver.releasePrimaryContext(device);
        } finally {
            libraries.close();
        }
    }

    /** What the device and libraries report, for logs and benchmark records. */
    public record DeviceInfo(String name, long totalMemory, int multiprocessors, int ccMajor, int ccMinor,
                             int driverVersion, int runtimeVersion, int cublasVersion, String cudartFile,
                             String cublasFile) {}
}

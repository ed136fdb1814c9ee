package io.herd.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The CUDA driver API (libcuda): initialisation, devices, the primary context, modules and kernel launches. One
 * method handle per C function; every status goes through {@link Ffi#check}.
 */
public final class CudaDriver {
    /** CUdevice_attribute values used by Herd. */
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;

    private final MethodHandle cuInit;
    private final MethodHandle cuDriverGetVersion;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceTotalMem;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuDevicePrimaryCtxRelease;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuModuleLoadData;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuModuleUnload;
    private final MethodHandle cuLaunchKernel;

    private CudaDriver(SymbolLookup lib) {
        String l = "libcuda";
        cuInit = Ffi.downcall(lib, l, "cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        cuDriverGetVersion = Ffi.downcall(lib, l, "cuDriverGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuDeviceGetCount = Ffi.downcall(lib, l, "cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuDeviceGet = Ffi.downcall(lib, l, "cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetName = Ffi.downcall(lib, l, "cuDeviceGetName",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceTotalMem = Ffi.downcall(lib, l, "cuDeviceTotalMem_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetAttribute = Ffi.downcall(lib, l, "cuDeviceGetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDevicePrimaryCtxRetain = Ffi.downcall(lib, l, "cuDevicePrimaryCtxRetain",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDevicePrimaryCtxRelease = Ffi.downcall(lib, l, "cuDevicePrimaryCtxRelease_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        cuCtxSetCurrent = Ffi.downcall(lib, l, "cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuModuleLoadData = Ffi.downcall(lib, l, "cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuModuleGetFunction = Ffi.downcall(lib, l, "cuModuleGetFunction",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuModuleUnload = Ffi.downcall(lib, l, "cuModuleUnload", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cuLaunchKernel = Ffi.downcall(lib, l, "cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    /**
     * Loads libcuda.so.1 through the system loader (where the driver installs it), else from the search path.
     * The library stays loaded as long as {@code arena} is open.
     */
    public static CudaDriver load(CudaLibraries libraries, Arena arena) {
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup("libcuda.so.1", arena);
        } catch (IllegalArgumentException notOnLoaderPath) {
            Optional<Path> file = libraries.find("cuda");
            if (file.isEmpty()) throw new UnsatisfiedLinkError("libcuda.so.1 (the NVIDIA driver) not found");
            lookup = SymbolLookup.libraryLookup(file.get(), arena);
        }
        return new CudaDriver(lookup);
    }

    public void init() {
        try {
            Ffi.check((int) cuInit.invokeExact(0), "cuInit");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            Ffi.check((int) cuDriverGetVersion.invokeExact(v), "cuDriverGetVersion");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            Ffi.check((int) cuDeviceGetCount.invokeExact(v), "cuDeviceGetCount");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** The CUdevice handle of ordinal {@code ordinal}. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            Ffi.check((int) cuDeviceGet.invokeExact(v, ordinal), "cuDeviceGet");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(JAVA_BYTE, 256);
            Ffi.check((int) cuDeviceGetName.invokeExact(buf, 256, device), "cuDeviceGetName");
            return buf.getString(0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public long totalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            Ffi.check((int) cuDeviceTotalMem.invokeExact(v, device), "cuDeviceTotalMem_v2");
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public int attribute(int device, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            Ffi.check((int) cuDeviceGetAttribute.invokeExact(v, attribute, device), "cuDeviceGetAttribute");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Retains the device's primary context (the one the runtime API uses too). */
    public MemorySegment retainPrimaryContext(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cuDevicePrimaryCtxRetain.invokeExact(v, device), "cuDevicePrimaryCtxRetain");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void releasePrimaryContext(int device) {
        try {
            Ffi.check((int) cuDevicePrimaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease_v2");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Makes {@code context} current on the calling thread (driver calls need one). */
    public void setCurrent(MemorySegment context) {
        try {
            Ffi.check((int) cuCtxSetCurrent.invokeExact(context), "cuCtxSetCurrent");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Loads a fatbin/cubin/PTX image held in native memory. */
    public MemorySegment loadModule(MemorySegment image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cuModuleLoadData.invokeExact(v, image), "cuModuleLoadData");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public MemorySegment function(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            Ffi.check((int) cuModuleGetFunction.invokeExact(v, module, a.allocateFrom(name)), "cuModuleGetFunction");
            return v.get(ADDRESS, 0);
        } catch (NativeCallException e) {
            throw new NativeCallException("cuModuleGetFunction(" + name + ")", e.code(), e.name());
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    public void unloadModule(MemorySegment module) {
        try {
            Ffi.check((int) cuModuleUnload.invokeExact(module), "cuModuleUnload");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** cuLaunchKernel with packed arguments ({@link KernelArgs#pointers()}) on {@code stream}. */
    public void launch(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, MemorySegment stream, MemorySegment kernelParams) {
        try {
            Ffi.check((int) cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    sharedBytes, stream, kernelParams, MemorySegment.NULL), "cuLaunchKernel");
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }
}

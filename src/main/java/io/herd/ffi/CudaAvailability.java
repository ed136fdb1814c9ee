package io.herd.ffi;

import java.lang.foreign.Arena;

/**
 * Whether this process can use a CUDA GPU, and why not. {@link #probe()} never throws: every failure becomes the
 * reason string, so the caller logs one line and runs on the CPU.
 *
 * @param available true when a device, libcudart, libcublas and the bundled kernels are all there
 * @param reason    what is missing, or a one-line description of the device found
 */
public record CudaAvailability(boolean available, String reason) {

    public static CudaAvailability probe() {
        return probe(CudaLibraries.fromEnvironment());
    }

    public static CudaAvailability probe(CudaLibraries libraries) {
        if (!HerdKernels.bundled()) {
            return no("CUDA kernels are not in this build (it ran without nvcc)");
        }
        if (libraries.find("cudart").isEmpty()) return no("libcudart not found (searched " + libraries.searchDirs() + ")");
        if (libraries.find("cublas").isEmpty()) return no("libcublas not found (searched " + libraries.searchDirs() + ")");
        try (Arena arena = Arena.ofShared()) {
            CudaDriver driver;
            try {
                driver = CudaDriver.load(libraries, arena);
            } catch (UnsatisfiedLinkError e) {
                return no("no NVIDIA driver: " + e.getMessage());
            }
            try {
                driver.init();
            } catch (NativeCallException e) {
                return no("cuInit failed: " + e.name() + " (no usable GPU)");
            }
            int count = driver.deviceCount();
            if (count == 0) return no("the NVIDIA driver reports no GPU");
            int dev = driver.device(0);
            int major = driver.attribute(dev, CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR);
            int minor = driver.attribute(dev, CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR);
            if (major < 8) {
                return no("GPU " + driver.deviceName(dev) + " has compute capability " + major + "." + minor
                        + "; Herd's kernels need 8.0 or newer");
            }
            return new CudaAvailability(true, "GPU " + driver.deviceName(dev) + " (sm_" + major + minor + ", "
                    + (driver.totalMemory(dev) >> 20) + " MiB), driver " + driver.driverVersion());
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return no("CUDA probe failed: " + e.getMessage());
        }
    }

    private static CudaAvailability no(String reason) {
        return new CudaAvailability(false, reason);
    }
}

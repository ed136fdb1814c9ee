package io.herd.ffi;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Herd's own kernels (src/native/herd_kernels.cu), built into {@value #RESOURCE} and loaded with cuModuleLoadData.
 * Functions are looked up by their C names (herd_op_dtype) once and cached. Not thread-safe: one owner thread
 * launches (the engine thread of the CUDA backend).
 */
public final class HerdKernels implements AutoCloseable {
    /** Classpath location of the fatbin that the Maven build writes. */
    public static final String RESOURCE = "/native/herd_kernels.fatbin";
    /** File name looked up in the CUDA library directories first (a GPU image builds its kernels apart from the jar). */
    public static final String FILE_NAME = "herd_kernels.fatbin";

    private final CudaDriver driver;
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new HashMap<>();

    private HerdKernels(CudaDriver driver, MemorySegment module) {
        this.driver = driver;
        this.module = module;
    }

    /** True when this build carries the kernels (the build had nvcc). */
    public static boolean bundled() {
        return HerdKernels.class.getResource(RESOURCE) != null;
    }

    /** True when a fatbin is installed beside the CUDA libraries. */
    public static boolean installed() {
        return installedImage().isPresent();
    }

    /** A fatbin file in one of the CUDA library directories, if there is one. */
    static Optional<Path> installedImage() {
        return CudaLibraries.fromEnvironment().searchDirs().stream()
                .map(dir -> dir.resolve(FILE_NAME)).filter(Files::isRegularFile).findFirst();
    }

    /**
     * Reads the kernels: an installed {@value #FILE_NAME} beside the CUDA libraries wins, else the bundled one;
     * fails with a clear message when neither exists (the build ran without nvcc).
     */
    public static byte[] image() {
        Optional<Path> installed = installedImage();
        if (installed.isPresent()) {
            try {
                return Files.readAllBytes(installed.get());
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + installed.get(), e);
            }
        }
        try (InputStream in = HerdKernels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("CUDA kernels " + RESOURCE + " are not in this build (it ran without nvcc)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE, e);
        }
    }

    /** Loads the kernels into the context current on this thread. */
    public static HerdKernels load(CudaDriver driver) {
        byte[] image = image();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment native_ = a.allocate(image.length + 1L, 16);  // NUL-terminated in case it is PTX text
            MemorySegment.copy(image, 0, native_, ValueLayout.JAVA_BYTE, 0, image.length);
            return new HerdKernels(driver, driver.loadModule(native_));
        }
    }

    public MemorySegment function(String name) {
        return functions.computeIfAbsent(name, n -> driver.function(module, n));
    }

    /** Launches {@code name} on {@code stream}; {@code args} fills the parameters in declaration order. */
    public void launch(String name, int gridX, int gridY, int gridZ, int blockX, int blockY, MemorySegment stream,
                       Consumer<KernelArgs> args) {
        MemorySegment f = function(name);
        try (Arena a = Arena.ofConfined()) {
            KernelArgs packed = new KernelArgs(a);
            args.accept(packed);
            driver.launch(f, gridX, gridY, gridZ, blockX, blockY, 1, 0, stream, packed.pointers());
        }
    }

    @Override
    public void close() {
        driver.unloadModule(module);
        functions.clear();
    }
}

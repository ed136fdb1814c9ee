package io.herd.ffi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaLibrariesTest {
    @TempDir
    Path tmp;

    private Path touch(Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        return Files.createFile(dir.resolve(name));
    }

    @Test
    void highestMajorVersionWinsAndSiblingLibrariesAreNotConfused() throws IOException {
        Path dir = tmp.resolve("lib");
        touch(dir, "libcublas.so");
        touch(dir, "libcublas.so.12");
        Path newest = touch(dir, "libcublas.so.13");
        touch(dir, "libcublasLt.so.14");
        touch(dir, "libcublas.so.13.txt");
        assertThat(CudaLibraries.bestIn(dir, "cublas")).contains(newest);
        assertThat(CudaLibraries.bestIn(dir, "cublasLt")).contains(dir.resolve("libcublasLt.so.14"));
        assertThat(CudaLibraries.bestIn(dir, "cudart")).isEmpty();
    }

    @Test
    void versionParsing() {
        assertThat(CudaLibraries.version("libcublas.so.13.1.0")).containsExactly(13, 1, 0);
        assertThat(CudaLibraries.version("libcudart.so")).isEmpty();
    }

    @Test
    void configuredDirectoryComesFirstThenEnvironmentThenLdLibraryPath() throws IOException {
        Path configured = tmp.resolve("configured"), fromEnv = tmp.resolve("env"), ld = tmp.resolve("ld");
        touch(configured, "libcudart.so.13");
        touch(fromEnv, "libcudart.so.13");
        touch(ld, "libcudart.so.13");
        Map<String, String> env = Map.of(CudaLibraries.LIB_DIR_ENV, fromEnv.toString(), "LD_LIBRARY_PATH", ld + ":");
        assertThat(CudaLibraries.of(configured.toString(), env).find("cudart"))
                .contains(configured.resolve("libcudart.so.13"));
        assertThat(CudaLibraries.of(null, env).find("cudart")).contains(fromEnv.resolve("libcudart.so.13"));
        assertThat(CudaLibraries.of(null, Map.of("LD_LIBRARY_PATH", ld.toString())).find("cudart"))
                .contains(ld.resolve("libcudart.so.13"));
        assertThat(CudaLibraries.of(null, env).searchDirs()).startsWith(fromEnv, ld)
                .contains(Path.of("/usr/local/cuda/lib64"), Path.of("/usr/lib/x86_64-linux-gnu"));
    }

    @Test
    void pythonWheelFoldersOfTheActiveVirtualEnvAreSearched() throws IOException {
        Path venv = tmp.resolve("venv");
        Path wheelLib = venv.resolve("lib/python3.12/site-packages/nvidia/cublas/lib");
        Path lib = touch(wheelLib, "libcublas.so.13");
        CudaLibraries libs = CudaLibraries.of(null, Map.of("VIRTUAL_ENV", venv.toString()));
        assertThat(libs.searchDirs()).contains(wheelLib);
        // nothing earlier on this machine's toolkit path may shadow it only if the toolkit has cuBLAS; the wheel
        // folder itself resolves to the wheel's library
        assertThat(CudaLibraries.bestIn(wheelLib, "cublas")).contains(lib);
    }
}

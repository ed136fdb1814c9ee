package io.herd.ffi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class CudaAvailabilityTest {
    @Test
    void missingLibrariesGiveAReasonInsteadOfAnException() {
        CudaAvailability a = CudaAvailability.probe(new CudaLibraries(List.of(Path.of("/nonexistent-cuda-dir"))));
        assertThat(a.available()).isFalse();
        assertThat(a.reason()).containsAnyOf("libcudart not found", "kernels are not in this build");
    }

    @Test
    void probeOfThisMachineNeverThrows() {
        CudaAvailability a = CudaAvailability.probe();
        assertThat(a.reason()).isNotBlank();
    }
}

package io.herd.ffi;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Where the native CPU kernels do not run, the reason is named (bench reports it; the engine falls back). */
class CpuKernelsAvailabilityTest {
    @Test
    void saysWhyTheKernelsDoNotRun() {
        assertThat(CpuKernels.probe("false", "Linux", "amd64", null).kernels()).isEmpty();
        assertThat(CpuKernels.probe("FALSE", "Linux", "amd64", null).description())
                .startsWith("Vector API").contains("switched off").contains(CpuKernels.ENABLED_ENV);
        assertThat(CpuKernels.probe(null, "Mac OS X", "aarch64", null).description())
                .contains("x86-64 Linux only").contains("mac os x/aarch64");
        assertThat(CpuKernels.probe(null, "Linux", "amd64", null).description())
                .contains("not in this build").contains("C compiler");
    }

    @Test
    void thisProcessEitherHasTheKernelsOrSaysWhyNot() {
        CpuKernels.Availability availability = CpuKernels.availability();
        assertThat(availability.description()).startsWith(availability.kernels().isPresent() ? "native" : "Vector API");
    }
}

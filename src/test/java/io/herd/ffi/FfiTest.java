package io.herd.ffi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FfiTest {
    @Test
    void successPasses() {
        Ffi.check(0, "cublasGemmEx");
    }

    @Test
    void cublasStatusIsNamedAfterTheCublasHeader() {
        assertThatThrownBy(() -> Ffi.check(7, "cublasGemmEx"))
                .isInstanceOfSatisfying(NativeCallException.class, e -> {
                    assertThat(e.function()).isEqualTo("cublasGemmEx");
                    assertThat(e.code()).isEqualTo(7);
                    assertThat(e.name()).isEqualTo("CUBLAS_STATUS_INVALID_VALUE");
                    assertThat(e).hasMessage("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7)");
                });
    }

    @Test
    void runtimeAndDriverStatusesUseTheirOwnTables() {
        assertThat(Ffi.statusName("cudaMalloc", 2)).isEqualTo("cudaErrorMemoryAllocation");
        assertThat(Ffi.statusName("cuInit", 100)).isEqualTo("CUDA_ERROR_NO_DEVICE");
        assertThat(Ffi.statusName("cuModuleLoadData", 209)).isEqualTo("CUDA_ERROR_NO_BINARY_FOR_GPU");
        assertThat(Ffi.statusName("cudaLaunchKernel", 700)).isEqualTo("cudaErrorIllegalAddress");
        assertThat(Ffi.statusName("cublasCreate_v2", 3)).isEqualTo("CUBLAS_STATUS_ALLOC_FAILED");
    }

    @Test
    void unknownStatusKeepsItsCode() {
        assertThat(Ffi.statusName("cudaFree", 12345)).isEqualTo("UNKNOWN_STATUS_12345");
    }
}

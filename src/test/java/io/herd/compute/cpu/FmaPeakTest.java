package io.herd.compute.cpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FmaPeakTest {
    @Test
    void measuresAPlausibleRateOnEveryThread() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            double gflops = FmaPeak.measureGflops(pool, 200_000, 2);
            // Any CPU that runs the Vector API does well over a GFLOP/s per core, and none does a PFLOP/s.
            assertThat(gflops).isGreaterThan(1).isLessThan(1e6);
        }
    }

    @Test
    void rejectsEmptyRuns() {
        try (CpuThreadPool pool = new CpuThreadPool(1)) {
            assertThatThrownBy(() -> FmaPeak.measureGflops(pool, 0, 1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> FmaPeak.measureGflops(pool, 10, 0)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}

package io.herd.compute.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DeviceLayoutTest {
    @Test
    void payloadAndScaleSizesFollowTheFormats() {
        assertThat(WeightFormat.INT4.rowBytes(5120)).isEqualTo(2560);
        assertThat(WeightFormat.INT8.rowBytes(5120)).isEqualTo(5120);
        assertThat(WeightFormat.BF16.rowBytes(5120)).isEqualTo(10240);
        assertThat(WeightFormat.F32.rowBytes(5120)).isEqualTo(20480);
        // 16 experts of [16384, 5120] int4, group 128: payload + bf16 scales
        long payload = 16L * 16384 * 2560, scales = 16L * 16384 * 40 * 2;
        assertThat(DeviceMatrix.bytesFor(WeightFormat.INT4, 16, 16384, 5120, 128)).isEqualTo(payload + scales);
        DeviceMatrix m = new DeviceMatrix(WeightFormat.INT4, 16, 16384, 5120, 128, 1L << 20, 2L << 20);
        assertThat(m.groupStrideBytes()).isEqualTo(16384L * 2560);
        assertThat(m.groupStrideScales()).isEqualTo(16384L * 40);
        assertThat(m.bytes()).isEqualTo(payload + scales);
        assertThat(new DeviceMatrix(WeightFormat.BF16, 1, 8, 64, 0, 1, 0).scaleBytes()).isZero();
    }

    @Test
    void shapesTheKernelsCannotLoadAreRejected() {
        assertThatThrownBy(() -> new DeviceMatrix(WeightFormat.INT4, 1, 8, 48, 32, 1, 1))
                .hasMessageContaining("nIn % 32");
        assertThatThrownBy(() -> new DeviceMatrix(WeightFormat.INT8, 1, 8, 256, 24, 1, 1))
                .hasMessageContaining("group size 24");
        assertThat(WeightFormat.parse("int4")).isEqualTo(WeightFormat.INT4);
        assertThatThrownBy(() -> WeightFormat.parse("fp8")).hasMessageContaining("unknown weight format");
    }

    @Test
    void memoryPlanExplainsWhyAModelDoesNotFit() {
        long gib = 1L << 30;
        MemoryPlan ok = new MemoryPlan(50 * gib, 10 * gib, gib, gib, 79 * gib);
        assertThat(ok.fits()).isTrue();
        ok.requireFits("Scout");
        MemoryPlan tooBig = new MemoryPlan(200 * gib, 10 * gib, gib, gib, 79 * gib);
        assertThat(tooBig.fits()).isFalse();
        assertThatThrownBy(() -> tooBig.requireFits("Scout bf16"))
                .hasMessageContaining("Scout bf16 does not fit")
                .hasMessageContaining("weights 200.00 GiB")
                .hasMessageContaining("only 79.00 GiB are free");
    }
}

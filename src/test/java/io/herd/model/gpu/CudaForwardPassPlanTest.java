package io.herd.model.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.compute.cuda.WeightFormat;
import io.herd.model.Llama4Config;

import org.junit.jupiter.api.Test;

/** Memory planning needs no device: it is computed from the config before anything is allocated. */
class CudaForwardPassPlanTest {
    private static CudaForwardPass.Options options(WeightFormat f) {
        return new CudaForwardPass.Options(f, 128, true, 16, 1024, 1024, 64, 64, 64, 64, true);
    }

    @Test
    void scoutWeightBytesMatchTheParameterCountOfTheSpec() {
        // SPEC §2.1: 107,769,861,120 text parameters; embedding [202048, 5120]; router [16, 5120] per layer; 97 norms
        long total = 107_769_861_120L, embedding = 202_048L * 5120, router = 48L * 16 * 5120, norms = 97L * 5120;
        long quantized = total - embedding - router - norms;
        double expected = quantized * (0.5 + 2.0 / 128) + embedding * 2.0 + router * 4.0 + norms * 4.0;
        long estimate = CudaForwardPass.estimateWeightBytes(Llama4Config.scout(), options(WeightFormat.INT4),
                WeightFormat.BF16);
        assertThat((double) estimate).isCloseTo(expected, org.assertj.core.data.Percentage.withPercentage(0.01));
        // int4 Scout fits an 80 GB card; bf16 Scout does not
        assertThat(estimate).isLessThan(60L << 30);
        assertThat(CudaForwardPass.estimateWeightBytes(Llama4Config.scout(), options(WeightFormat.BF16),
                WeightFormat.BF16)).isGreaterThan(200L << 30);
    }

    @Test
    void batchOneDecodeReadsTheActiveParametersOnce() {
        // SPEC §2.1: 17,172,894,720 active parameters per token, embedding included (only one row of it is read)
        long active = 17_172_894_720L, embedding = 202_048L * 5120, router = 48L * 16 * 5120;
        double expected = (active - embedding - router) * (0.5 + 2.0 / 128) + router * 4.0;
        long bytes = GpuChecks.activeBytesPerToken(Llama4Config.scout(), options(WeightFormat.INT4));
        assertThat((double) bytes).isCloseTo(expected, org.assertj.core.data.Percentage.withPercentage(0.1));
    }
}

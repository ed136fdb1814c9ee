package io.herd.model.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.herd.compute.cuda.CudaDevice;
import io.herd.ffi.CudaAvailability;
import io.herd.model.ForwardPass.BlockTable;
import io.herd.model.ForwardPass.SequenceChunk;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.weights.SafetensorsCheckpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA forward pass and kernels on a real GPU. Skipped, with the probe's reason, on machines without one; on a
 * machine that has an NVIDIA GPU (a driver device node exists) an unusable CUDA setup fails instead of skipping,
 * so a GPU run can never pass with zero GPU tests executed.
 */
@Tag("gpu")
class CudaForwardPassGpuTest {
    private static CudaDevice device;

    @BeforeAll
    static void openDevice() {
        CudaAvailability probe = CudaAvailability.probe();
        boolean gpuPresent = Files.exists(Path.of("/dev/nvidia0")) || Files.exists(Path.of("/proc/driver/nvidia/version"));
        if (!probe.available()) {
            if (gpuPresent) throw new AssertionError("an NVIDIA GPU is present but CUDA is unusable: " + probe.reason());
            Assumptions.abort("no GPU: " + probe.reason());
        }
        device = CudaDevice.open(0);
    }

    @AfterAll
    static void closeDevice() {
        if (device != null) device.close();
    }

    private static Path fixture(String model) {
        String shared = System.getProperty("herd.shared.dir");
        Path dir = (shared != null ? Path.of(shared) : Path.of("../shared")).resolve("fixtures").resolve(model);
        if (!Files.isRegularFile(dir.resolve("config.json"))) throw new AssertionError("fixture missing: " + dir);
        return dir;
    }

    @Test
    void linearKernelsMatchTheHostReferenceForEveryFormat() {
        Map<String, Object> result = GpuChecks.kernelChecks(device);
        assertThat(result.get("pass")).as(result.toString()).isEqualTo(true);
    }

    @Test
    void tinyScoutPromptLogitsMatchHuggingFace() throws Exception {
        Path dir = fixture("llama4-tiny-scout");
        Llama4Config config = Llama4ConfigParser.parse(dir.resolve("config.json"));
        var expected = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("expected.json").toFile());
        var c = expected.get("cases").get(2);
        int[] prompt = new int[c.get("prompt_ids").size()];
        for (int i = 0; i < prompt.length; i++) prompt[i] = c.get("prompt_ids").get(i).asInt();
        int[] blocks = new int[16];
        for (int b = 0; b < blocks.length; b++) blocks[b] = 15 - b;
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir);
             CudaForwardPass gpu = CudaForwardPass.load(device, config, ckpt,
                     new CudaForwardPass.Options(null, 32, false, 4, 16, 16, 64, 4, 16, 64, true))) {
            float[] logits = gpu.forward(List.of(new SequenceChunk(prompt, 0, new BlockTable(blocks, blocks.clone()),
                    prompt.length))).getFirst();
            double max = 0;
            for (int t = 0; t < prompt.length; t++) {
                for (int v = 0; v < config.vocabSize(); v++) {
                    double ref = c.get("prompt_logits").get(t).get(v).asDouble();
                    max = Math.max(max, Math.abs(ref - logits[t * config.vocabSize() + v]));
                }
            }
            assertThat(max).isLessThan(1e-3);
        }
    }
}

package io.herd.app;

import io.herd.compute.GgmlType;
import io.herd.engine.EngineWarmUp;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Precision;
import io.herd.model.TinyGgufExport;
import io.herd.model.WeightQuantization;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What {@code serve} does with {@code HERD_MODEL_DIR} pointing at a .gguf file: a CPU engine that runs requests. */
class EngineAssemblyGgufTest {
    @TempDir
    Path dir;

    private static EngineAssembly.Settings settings(EngineAssembly.Backend backend) {
        return new EngineAssembly.Settings(16 << 20, 256, 4, 64, 16, Precision.F32, WeightQuantization.NONE, backend, "stored");
    }

    @Test
    void servesAGgufFileOnTheCpu() throws Exception {
        Path hf = Path.of(System.getProperty("herd.shared.dir", "../shared")).resolve("fixtures/llama4-tiny-scout");
        Path file = dir.resolve("tiny-q8_0.gguf");
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(hf)) {
            TinyGgufExport.write(st, Llama4ConfigParser.parse(hf), GgmlType.Q8_0, false, true, file);
        }
        try (EngineAssembly a = EngineAssembly.open(file, "tiny", settings(EngineAssembly.Backend.AUTO))) {
            assertThat(a.backendDescription()).startsWith("cpu");
            assertThat(a.config().attentionChunkSize()).isEqualTo(8192);
            assertThat(a.tokenizer().vocabSize()).isEqualTo(512);
            assertThat(a.tokenizer().bosId()).isEqualTo(256);
            EngineWarmUp.Result r = EngineWarmUp.run(a.engine(), a.config().vocabSize(), 60_000);
            assertThat(r.error()).isNull();
            assertThat(r.completed()).isEqualTo(r.submitted()).isPositive();
        }
        assertThatThrownBy(() -> EngineAssembly.open(file, "tiny", settings(EngineAssembly.Backend.CUDA)))
                .hasMessageContaining("CPU backend only");
    }
}

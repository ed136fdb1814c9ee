package io.herd.model;

import io.herd.compute.DType;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A weight that Q8 cannot hold fails the {@code --quant q8} load with the file and the tensor named. */
class Q8LoadErrorTest {
    @TempDir Path dir;

    @Test
    void aWeightBeyondTheFp16ScalesNamesItsTensor() throws IOException {
        Llama4Config config = GeneratedCheckpointFidelityTest.CONFIG;
        Llama4TensorNames names = Llama4TensorNames.CAUSAL_LM;
        RandomLlama4Checkpoint.write(dir, config, DType.F32, 7, names, 1);
        String target = names.qProj(1);
        byte[] head;
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            var data = ckpt.tensor(target).data();
            head = new byte[32];
            for (int i = 0; i < head.length; i++) head[i] = data.get(ValueLayout.JAVA_BYTE, i);
            // the untouched checkpoint quantizes
            assertThat(Llama4Weights.load(ckpt, config, WeightQuantization.Q8)).isNotNull();
        }
        Path file;
        try (Stream<Path> files = Files.list(dir)) {
            file = files.filter(p -> p.toString().endsWith(".safetensors")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(file);
        int at = indexOf(bytes, head);
        assertThat(at).as("tensor bytes found once").isPositive().isEqualTo(lastIndexOf(bytes, head));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 1e9f), at);
        }
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            assertThatThrownBy(() -> Llama4Weights.load(ckpt, config, WeightQuantization.Q8))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(target).hasMessageContaining("fp16");
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static int lastIndexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = hay.length - needle.length; i >= 0; i--) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}

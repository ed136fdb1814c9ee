package io.herd.weights;

import io.herd.compute.DType;
import io.herd.compute.cpu.Bf16;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsCheckpointTest {
    @TempDir Path dir;

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i - n / 2f) * 0.37f;
        return v;
    }

    @Test
    void roundTripsAllDtypesAsViews() {
        Path file = dir.resolve("a.safetensors");
        new SafetensorsWriter()
                .add("f32", DType.F32, new long[] {2, 3}, ramp(6))
                .add("bf16", DType.BF16, new long[] {3, 2}, ramp(6))
                .add("f16", DType.F16, new long[] {6}, ramp(6))
                .metadata("format", "pt")
                .write(file);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            assertThat(c.names()).containsExactly("f32", "bf16", "f16");
            assertThat(c.metadata().get(file)).containsEntry("format", "pt");
            TensorView f32 = c.tensor("f32").requireShape(2, 3);
            TensorView bf16 = c.tensor("bf16").requireShape(3, 2);
            TensorView f16 = c.tensor("f16").requireShape(6);
            assertThat(f32.dtype()).isEqualTo(DType.F32);
            assertThat(bf16.dtype()).isEqualTo(DType.BF16);
            assertThat(bf16.data().byteSize()).isEqualTo(12);
            float[] expected = ramp(6);
            for (int i = 0; i < 6; i++) {
                assertThat(f32.getFloat(i)).isEqualTo(expected[i]);
                assertThat(bf16.getFloat(i)).isEqualTo(Bf16.round(expected[i]));
                assertThat(f16.getFloat(i)).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(expected[i])));
            }
            assertThat(f32.data().isReadOnly()).isTrue();
        }
    }

    @Test
    void viewsDieWithTheCheckpoint() {
        Path file = dir.resolve("a.safetensors");
        new SafetensorsWriter().add("w", DType.F32, new long[] {4}, ramp(4)).write(file);
        SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file);
        TensorView w = c.tensor("w");
        c.close();
        assertThatThrownBy(() -> w.getFloat(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void truncatedFileNamesFileAndTensor() throws IOException {
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter().add("first", DType.F32, new long[] {8}, ramp(8))
                .add("last", DType.F32, new long[] {8}, ramp(8)).write(file);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() - 5);
        }
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("last").hasMessageContaining("truncated");
    }

    @Test
    void fileShorterThanItsHeaderIsTruncated() throws IOException {
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter().add("w", DType.F32, new long[] {8}, ramp(8)).write(file);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(20);
        }
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("truncated");
    }

    @Test
    void absurdHeaderLengthIsRejected() throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array());
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("header length");
    }

    @Test
    void headerThatIsNotJsonIsRejected() throws IOException {
        Path file = rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], ", 8);
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("JSON");
    }

    @Test
    void offsetsInconsistentWithShapeNameTheTensor() throws IOException {
        Path file = rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8);
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("tensor w").hasMessageContaining("needs 12");
    }

    @Test
    void offsetsOutsideTheFileNameTheTensor() throws IOException {
        Path file = rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [4, 20]}}", 16);
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(file))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("tensor w").hasMessageContaining("beyond");
    }

    @Test
    void missingDtypeAndUnsupportedDtypeNameTheTensor() throws IOException {
        Path noDtype = rawFile("{\"w\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8);
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(noDtype))
                .isInstanceOf(CheckpointFormatException.class).hasMessageContaining("tensor w").hasMessageContaining("dtype");
        Path i64 = rawFile("{\"ids\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(i64)) {
            assertThatThrownBy(() -> c.tensor("ids"))
                    .isInstanceOf(CheckpointFormatException.class).hasMessageContaining(i64.toString())
                    .hasMessageContaining("ids").hasMessageContaining("I64");
        }
    }

    @Test
    void missingTensorAndWrongShapeNameFileAndTensor() {
        Path file = dir.resolve("m.safetensors");
        new SafetensorsWriter().add("w", DType.BF16, new long[] {2, 4}, ramp(8)).write(file);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            assertThatThrownBy(() -> c.tensor("nope"))
                    .isInstanceOf(CheckpointFormatException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("nope").hasMessageContaining("missing");
            assertThatThrownBy(() -> c.tensor("w").requireShape(4, 2))
                    .isInstanceOf(CheckpointFormatException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("w").hasMessageContaining("[2, 4]")
                    .hasMessageContaining("[4, 2]");
        }
    }

    @Test
    void shardedCheckpointResolvesEveryTensorAndChecksTheIndex() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        for (int i = 0; i < 5; i++) w.add("t" + i, DType.F32, new long[] {i + 1}, ramp(i + 1));
        w.writeSharded(dir, 2);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.names()).containsExactlyInAnyOrder("t0", "t1", "t2", "t3", "t4");
            assertThat(c.tensor("t4").file().getFileName().toString()).isEqualTo("model-00002-of-00002.safetensors");
            assertThat(c.tensor("t4").getFloat(4)).isEqualTo(ramp(5)[4]);
        }
        Path index = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
        Files.writeString(index, Files.readString(index).replace("\"t4\"", "\"t9\""));
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir))
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining("t9").hasMessageContaining("model-00002-of-00002.safetensors");
    }

    @Test
    void directoryWithoutCheckpointIsReported() {
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir))
                .isInstanceOf(CheckpointFormatException.class).hasMessageContaining(dir.toString());
    }

    /** A file with the given header text and {@code dataBytes} zero bytes of data. */
    private Path rawFile(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        Path file = dir.resolve("raw" + System.nanoTime() + ".safetensors");
        Files.write(file, buf.array());
        return file;
    }
}

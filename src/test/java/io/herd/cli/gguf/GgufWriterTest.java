package io.herd.cli.gguf;

import io.herd.compute.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufWriterTest {
    @TempDir
    Path dir;

    private static GgufWriter.TensorData bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed);
        // In two pieces, to check that a tensor may arrive in several writes.
        return sink -> {
            sink.write(MemorySegment.ofArray(b).asSlice(0, n / 2));
            sink.write(MemorySegment.ofArray(b).asSlice(n / 2));
        };
    }

    @Test
    void writesHeaderMetadataTensorInfosAndAlignedData() {
        Path file = dir.resolve("t.gguf");
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama4")
                .putUint32("llama4.block_count", 4_000_000_000L)
                .putFloat32("llama4.rope.freq_base", 500000f)
                .putBool("tokenizer.ggml.add_bos_token", true)
                .putStringArray("tokenizer.ggml.tokens", List.of("a", "Ġb", "<|eot|>"))
                .putInt32Array("tokenizer.ggml.token_type", new int[] {1, 1, 3})
                // 3 f32 values: 12 bytes, so the next tensor has to be padded to offset 32.
                .addTensor("norm.weight", GgmlType.F32, new long[] {3}, bytes(12, 1))
                .addTensor("w.weight", GgmlType.BF16, new long[] {5, 3}, bytes(30, 2))
                .addTensor("q.weight", GgmlType.Q8_0, new long[] {64, 2}, bytes(4 * 34, 3));
        w.write(file);
        GgufTestReader r = new GgufTestReader(file);

        assertEquals(3, r.version);
        assertEquals(List.of("general.architecture", "llama4.block_count", "llama4.rope.freq_base",
                "tokenizer.ggml.add_bos_token", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type"),
                List.copyOf(r.metadata.keySet()));
        assertEquals("llama4", r.metadata.get("general.architecture"));
        assertEquals(4_000_000_000L, r.metadata.get("llama4.block_count"));
        assertEquals(500000f, r.metadata.get("llama4.rope.freq_base"));
        assertEquals(true, r.metadata.get("tokenizer.ggml.add_bos_token"));
        assertEquals(List.of("a", "Ġb", "<|eot|>"), r.metadata.get("tokenizer.ggml.tokens"));
        assertEquals(List.of(1, 1, 3), r.metadata.get("tokenizer.ggml.token_type"));

        assertEquals(List.of("norm.weight", "w.weight", "q.weight"), List.copyOf(r.tensors.keySet()));
        var norm = r.tensors.get("norm.weight");
        var bf16 = r.tensors.get("w.weight");
        var q8 = r.tensors.get("q.weight");
        assertArrayEquals(new long[] {5, 3}, bf16.ne());
        assertEquals(0, norm.typeId());
        assertEquals(30, bf16.typeId());
        assertEquals(8, q8.typeId());
        assertEquals(0, norm.offset());
        assertEquals(32, bf16.offset());
        assertEquals(64, q8.offset());
        assertEquals(0, r.dataStart % GgufWriter.ALIGNMENT);
        assertEquals(r.dataStart + 64 + 4 * 34, r.fileSize());
        assertEquals(w.fileBytes(), r.fileSize());
        for (int i = 0; i < 30; i++) assertEquals((byte) (i * 31 + 2), r.data("w.weight", 30).get(i));
        for (int i = 0; i < 4 * 34; i++) assertEquals((byte) (i * 31 + 3), r.data("q.weight", 4 * 34).get(i));
    }

    @Test
    void tensorDataOfTheWrongSizeFailsAndLeavesNoFile() {
        Path file = dir.resolve("short.gguf");
        GgufWriter w = new GgufWriter().addTensor("w.weight", GgmlType.BF16, new long[] {4, 2}, bytes(14, 0));
        var e = assertThrows(IllegalStateException.class, () -> w.write(file));
        assertTrue(e.getMessage().contains("w.weight"), e.getMessage());
        assertFalse(Files.exists(file));
        GgufWriter tooMuch = new GgufWriter().addTensor("x.weight", GgmlType.F32, new long[] {2}, bytes(12, 0));
        assertThrows(IllegalStateException.class, () -> tooMuch.write(file));
        assertFalse(Files.exists(file));
    }

    @Test
    void rejectsDuplicatesAndPartialBlocks() {
        GgufWriter w = new GgufWriter().putUint32("k", 1).addTensor("t", GgmlType.F32, new long[] {1}, bytes(4, 0));
        assertThrows(IllegalArgumentException.class, () -> w.putString("k", "again"));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", GgmlType.F32, new long[] {1}, bytes(4, 0)));
        var e = assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("q", GgmlType.Q8_0, new long[] {48, 2}, bytes(0, 0)));
        assertTrue(e.getMessage().contains("q") && e.getMessage().contains("32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.putUint32("neg", -1));
    }

    @Test
    void typeSizesFollowGgml() {
        assertEquals(4 * 6, GgmlType.F32.bytes(new long[] {3, 2}));
        assertEquals(2 * 6, GgmlType.BF16.bytes(new long[] {3, 2}));
        assertEquals(34L * 3 * 5, GgmlType.Q8_0.bytes(new long[] {96, 5}));
        assertEquals(GgmlType.BF16, GgmlType.ofId(30));
    }
}

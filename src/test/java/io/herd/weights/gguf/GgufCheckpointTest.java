package io.herd.weights.gguf;

import io.herd.cli.gguf.GgufWriter;
import io.herd.compute.GgmlType;
import io.herd.weights.CheckpointFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GGUF reader: every value type, tensor placement, split sets, and hostile or truncated headers. */
class GgufCheckpointTest {
    @TempDir
    Path dir;

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static GgufWriter.TensorData bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed);
        return sink -> sink.write(MemorySegment.ofArray(b));
    }

    @Test
    void readsWhatTheWriterWrites() {
        Path file = dir.resolve("m.gguf");
        new GgufWriter().putString("general.architecture", "llama4").putUint32("llama4.block_count", 3)
                .putFloat32("llama4.attention.layer_norm_rms_epsilon", 1e-5f).putBool("tokenizer.ggml.add_bos_token", true)
                .putStringArray("tokenizer.ggml.tokens", List.of("a", "b", "ü€"))
                .putInt32Array("tokenizer.ggml.token_type", new int[] {1, -1, 3})
                .addTensor("norm.weight", GgmlType.F32, new long[] {3}, bytes(12, 1))
                .addTensor("w.weight", GgmlType.Q4_K, new long[] {256, 2}, bytes(288, 2))
                .addTensor("x.weight", GgmlType.BF16, new long[] {5, 3}, bytes(30, 3))
                .write(file);
        try (GgufCheckpoint g = GgufCheckpoint.open(file)) {
            GgufMetadata m = g.metadata();
            assertEquals("llama4", m.string("general.architecture"));
            assertEquals(3, m.count("llama4.block_count"));
            assertEquals(1e-5f, (float) m.real("llama4.attention.layer_norm_rms_epsilon"));
            assertTrue(m.bool("tokenizer.ggml.add_bos_token", false));
            assertEquals(List.of("a", "b", "ü€"), m.strings("tokenizer.ggml.tokens"));
            assertArrayEquals(new long[] {1, -1, 3}, m.integers("tokenizer.ggml.token_type"));
            assertEquals(List.of("norm.weight", "w.weight", "x.weight"), List.copyOf(g.names()));
            GgufTensor w = g.tensor("w.weight");
            assertEquals(GgmlType.Q4_K, w.type());
            assertArrayEquals(new long[] {256, 2}, w.ne());
            assertEquals(288, w.data().byteSize());
            for (int i = 0; i < 288; i++) assertEquals((byte) (i * 31 + 2), w.data().get(ValueLayout.JAVA_BYTE, i));
            assertTrue(w.data().isMapped(), "tensor data is a view of the mapping, not a heap copy");
            assertEquals(0, (w.data().address() - g.tensor("norm.weight").data().address()) % GgufWriter.ALIGNMENT);
            assertEquals(30, g.tensor("x.weight").data().byteSize());
            assertThrows(CheckpointFormatException.class, () -> m.string("llama4.block_count"));
            assertThrows(CheckpointFormatException.class, () -> g.tensor("missing"));
            assertThrows(CheckpointFormatException.class, () -> w.requireDims(2, 256));
        }
        assertTrue(GgufCheckpoint.isGguf(file));
        assertTrue(GgufCheckpoint.isGguf(dir));
    }

    /** Every scalar type, arrays of several element types, general.alignment, and an empty array. */
    @Test
    void readsEveryValueType() throws IOException {
        RawGgufBytes b = new RawGgufBytes().header(1, 14);
        b.str("u8").u32(0).u8(250);
        b.str("i8").u32(1).u8(0xfe);
        b.str("u16").u32(2).u16(65000);
        b.str("i16").u32(3).u16(0xfffe);
        b.str("u32").u32(4).u32(4_000_000_000L);
        b.str("i32").u32(5).u32(-7);
        b.str("f32").u32(6).f32(1.5f);
        b.str("bool").u32(7).u8(0);
        b.str("str").u32(8).str("hé");
        b.str("u64").u32(10).u64(1L << 40);
        b.str("i64").u32(11).u64(-5);
        b.str("f64").u32(12).f64(0.1);
        b.str("floats").u32(9).u32(6).u64(2).f32(0.25f).f32(-2f);
        b.str("general.alignment").u32(4).u32(64);
        b.str("t").u32(1).u64(4).u32(0).u64(0);
        b.align(64).bytes(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0});
        try (GgufCheckpoint g = GgufCheckpoint.open(write("types.gguf", b.toByteArray()))) {
            GgufMetadata m = g.metadata();
            assertEquals(250, m.integer("u8"));
            assertEquals(-2, m.integer("i8"));
            assertEquals(65000, m.integer("u16"));
            assertEquals(-2, m.integer("i16"));
            assertEquals(4_000_000_000L, m.integer("u32"));
            assertEquals(-7, m.integer("i32"));
            assertEquals(1.5, m.real("f32"));
            assertFalse(m.bool("bool", true));
            assertEquals("hé", m.string("str"));
            assertEquals(1L << 40, m.integer("u64"));
            assertEquals(-5, m.integer("i64"));
            assertEquals(0.1, m.real("f64"));
            assertArrayEquals(new double[] {0.25, -2}, m.reals("floats"));
            assertThrows(CheckpointFormatException.class, () -> m.count("i32"));
            assertArrayEquals(new float[] {1f, 2f, 0f, 0f}, g.tensor("t").toFloatArray());
        }
    }

    private void refused(String name, byte[] bytes, String expectedPart) throws IOException {
        Path p = write(name, bytes);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> GgufCheckpoint.open(p).close());
        assertTrue(e.getMessage().contains(expectedPart), e.getMessage() + " should say " + expectedPart);
        assertTrue(e.getMessage().contains(name), e.getMessage() + " should name the file");
    }

    @Test
    void refusesHostileHeaders() throws IOException {
        refused("magic.gguf", new RawGgufBytes().u32(0x12345678).u32(3).toByteArray(), "not a GGUF file");
        refused("v1.gguf", new RawGgufBytes().u32(0x46554747).u32(1).u32(0).u32(0).toByteArray(), "version 1");
        refused("be.gguf", new RawGgufBytes().u32(0x46554747).u32(0x03000000).u64(0).u64(0).toByteArray(), "big-endian");
        refused("counts.gguf", new RawGgufBytes().u32(0x46554747).u32(3).u64(0).u64(-1L).toByteArray(), "exceeds the limit");
        refused("kvfit.gguf", new RawGgufBytes().header(0, 1000).toByteArray(), "cannot fit");
        refused("tensorfit.gguf", new RawGgufBytes().header(1000, 0).toByteArray(), "cannot fit");
        refused("keylen.gguf", new RawGgufBytes().header(0, 1).u64(1L << 40).u64(0).toByteArray(), "exceeds the limit");
        refused("strlen.gguf", new RawGgufBytes().header(0, 1).str("k").u32(8).u64(1L << 62).toByteArray(), "exceeds the limit");
        refused("strtrunc.gguf", new RawGgufBytes().header(0, 1).str("k").u32(8).u64(100).toByteArray(), "truncated");
        refused("arr.gguf", new RawGgufBytes().header(0, 1).str("k").u32(9).u32(4).u64(1L << 50).toByteArray(), "exceeds the limit");
        refused("arrfit.gguf", new RawGgufBytes().header(0, 1).str("k").u32(9).u32(8).u64(1000).u64(1).toByteArray(), "cannot fit");
        refused("nested.gguf", new RawGgufBytes().header(0, 1).str("k").u32(9).u32(9).u64(0).toByteArray(), "array of arrays");
        refused("vtype.gguf", new RawGgufBytes().header(0, 1).str("k").u32(77).u32(0).toByteArray(), "unknown value type");
        refused("bool.gguf", new RawGgufBytes().header(0, 1).str("k").u32(7).u8(2).toByteArray(), "bool of value 2");
        refused("dupkey.gguf", new RawGgufBytes().header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).toByteArray(), "twice");
        refused("utf8.gguf", new RawGgufBytes().header(0, 1).u64(2).bytes(new byte[] {(byte) 0xc3, 0x28}).u32(4).u32(1).toByteArray(), "UTF-8");
        refused("align.gguf", new RawGgufBytes().header(0, 1).str("general.alignment").u32(4).u32(48).toByteArray(), "power of two");
    }

    private static RawGgufBytes oneTensor(String name, int nDims, long[] ne, int type, long offset) {
        RawGgufBytes b = new RawGgufBytes().header(1, 0).str(name).u32(nDims);
        for (long d : ne) b.u64(d);
        return b.u32(type).u64(offset);
    }

    @Test
    void refusesTensorsOutsideTheFile() throws IOException {
        refused("dims.gguf", oneTensor("t", 5, new long[] {1, 1, 1, 1, 1}, 0, 0).align(32).toByteArray(), "5 dims");
        refused("type.gguf", oneTensor("t", 1, new long[] {4}, 99, 0).align(32).u64(0).u64(0).toByteArray(), "unknown ggml type id 99");
        refused("block.gguf", oneTensor("t", 1, new long[] {100}, GgmlType.Q4_K.id, 0).align(32).toByteArray(), "multiple of");
        refused("negdim.gguf", oneTensor("t", 1, new long[] {-4}, 0, 0).align(32).toByteArray(), "dim 0");
        refused("overflow.gguf", oneTensor("t", 2, new long[] {1L << 40, 1L << 40}, 0, 0).align(32).toByteArray(), "2^63");
        refused("misaligned.gguf", oneTensor("t", 1, new long[] {4}, 0, 8).align(32).bytes(new byte[64]).toByteArray(), "alignment");
        refused("beyond.gguf", oneTensor("t", 1, new long[] {4}, 0, 32).align(32).bytes(new byte[40]).toByteArray(), "beyond the end");
        refused("short.gguf", oneTensor("t", 1, new long[] {1024}, 0, 0).align(32).bytes(new byte[100]).toByteArray(), "beyond the end");
        refused("longname.gguf", oneTensor("x".repeat(64), 1, new long[] {4}, 0, 0).align(32).bytes(new byte[16]).toByteArray(), "limit of 63");
        RawGgufBytes overlap = new RawGgufBytes().header(2, 0);
        overlap.str("a").u32(1).u64(16).u32(0).u64(0);
        overlap.str("b").u32(1).u64(16).u32(0).u64(32);
        refused("overlap.gguf", overlap.align(32).bytes(new byte[128]).toByteArray(), "overlaps");
        RawGgufBytes dup = new RawGgufBytes().header(2, 0);
        dup.str("a").u32(1).u64(4).u32(0).u64(0);
        dup.str("a").u32(1).u64(4).u32(0).u64(32);
        refused("duptensor.gguf", dup.align(32).bytes(new byte[64]).toByteArray(), "twice");
    }

    private void writeSplit(String name, int no, int count, int totalTensors, String tensor, int seed) {
        GgufWriter w = new GgufWriter();
        if (no == 0) w.putString("general.architecture", "llama4");
        w.putUint32("split.no", no).putUint32("split.count", count).putInt32Array("unused", new int[0]);
        // split.tensors.count is an i32 in llama.cpp's splitter; GgufWriter writes it as u32, which reads the same.
        w.putUint32("split.tensors.count", totalTensors);
        w.addTensor(tensor, GgmlType.F32, new long[] {4}, bytes(16, seed)).write(dir.resolve(name));
    }

    @Test
    void opensSplitSetsFromAnyPartOrTheirFolder() {
        writeSplit("m-00001-of-00003.gguf", 0, 3, 3, "a", 1);
        writeSplit("m-00002-of-00003.gguf", 1, 3, 3, "b", 2);
        writeSplit("m-00003-of-00003.gguf", 2, 3, 3, "c", 3);
        for (Path p : List.of(dir.resolve("m-00001-of-00003.gguf"), dir.resolve("m-00003-of-00003.gguf"), dir)) {
            try (GgufCheckpoint g = GgufCheckpoint.open(p)) {
                assertEquals(3, g.files().size());
                assertEquals(List.of("a", "b", "c"), List.copyOf(g.names()));
                assertEquals("llama4", g.metadata().string("general.architecture"));
                assertEquals(dir.resolve("m-00002-of-00003.gguf"), g.tensor("b").file());
                assertEquals((byte) (31 + 3), g.tensor("c").data().get(ValueLayout.JAVA_BYTE, 1));
            }
        }
    }

    @Test
    void refusesBrokenSplitSets() throws IOException {
        writeSplit("m-00001-of-00002.gguf", 0, 2, 2, "a", 1);
        CheckpointFormatException missing = assertThrows(CheckpointFormatException.class,
                () -> GgufCheckpoint.open(dir.resolve("m-00001-of-00002.gguf")));
        assertTrue(missing.getMessage().contains("split 2 of 2"), missing.getMessage());

        writeSplit("m-00002-of-00002.gguf", 0, 2, 2, "b", 2); // says it is the first
        CheckpointFormatException wrongNo = assertThrows(CheckpointFormatException.class,
                () -> GgufCheckpoint.open(dir.resolve("m-00001-of-00002.gguf")));
        assertTrue(wrongNo.getMessage().contains("its name makes it split 1 of 2"), wrongNo.getMessage());

        writeSplit("m-00002-of-00002.gguf", 1, 2, 3, "b", 2); // the set claims a third tensor
        writeSplit("m-00001-of-00002.gguf", 0, 2, 3, "a", 1);
        CheckpointFormatException count = assertThrows(CheckpointFormatException.class,
                () -> GgufCheckpoint.open(dir.resolve("m-00001-of-00002.gguf")));
        assertTrue(count.getMessage().contains("split.tensors.count is 3"), count.getMessage());

        Files.writeString(dir.resolve("other.gguf"), "x");
        CheckpointFormatException two = assertThrows(CheckpointFormatException.class, () -> GgufCheckpoint.open(dir));
        assertTrue(two.getMessage().contains("exactly one GGUF model"), two.getMessage());
    }
}

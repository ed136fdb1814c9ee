package io.herd.cli.gguf;

import io.herd.compute.GgmlType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF v3 file (the llama.cpp model format): header, typed metadata key/values, tensor infos, then the tensor
 * data, each tensor starting on a {@value #ALIGNMENT}-byte boundary of the data region. Metadata is encoded on the
 * heap (a vocabulary is a few MB); tensor bytes are pulled from each tensor's {@link TensorData} in declaration order
 * and streamed to the file, so a model far larger than the heap can be written one piece at a time.
 *
 * <p>All numbers are little-endian; strings are a u64 byte length then UTF-8 bytes without a terminator.
 */
public final class GgufWriter {
    /** The default alignment ({@code general.alignment} absent), which llama.cpp and ggml's gguf use. */
    public static final int ALIGNMENT = 32;
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int VERSION = 3;

    /** GGUF metadata value types (gguf.h's {@code gguf_type}). */
    static final int TYPE_UINT32 = 4, TYPE_INT32 = 5, TYPE_FLOAT32 = 6, TYPE_BOOL = 7, TYPE_STRING = 8, TYPE_ARRAY = 9;

    /** Supplies a tensor's bytes, in file order (ggml's innermost-first layout), as one or more segments. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(TensorSink sink);
    }

    /** Receives consecutive pieces of one tensor's bytes. */
    @FunctionalInterface
    public interface TensorSink {
        void write(MemorySegment bytes);
    }

    private record Tensor(String name, GgmlType type, long[] ne, long bytes, TensorData data) {}

    private final Map<String, byte[]> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    public GgufWriter putString(String key, String value) {
        Encoder e = new Encoder().u32(TYPE_STRING).string(value);
        return put(key, e);
    }

    public GgufWriter putUint32(String key, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) throw new IllegalArgumentException(key + ": " + value + " is not a u32");
        return put(key, new Encoder().u32(TYPE_UINT32).u32((int) value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, new Encoder().u32(TYPE_FLOAT32).f32(value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, new Encoder().u32(TYPE_BOOL).u8(value ? 1 : 0));
    }

    public GgufWriter putStringArray(String key, List<String> values) {
        Encoder e = new Encoder().u32(TYPE_ARRAY).u32(TYPE_STRING).u64(values.size());
        for (String s : values) e.string(s);
        return put(key, e);
    }

    public GgufWriter putInt32Array(String key, int[] values) {
        Encoder e = new Encoder().u32(TYPE_ARRAY).u32(TYPE_INT32).u64(values.length);
        for (int v : values) e.u32(v);
        return put(key, e);
    }

    private GgufWriter put(String key, Encoder typedValue) {
        if (key.isEmpty()) throw new IllegalArgumentException("empty metadata key");
        if (metadata.containsKey(key)) throw new IllegalArgumentException("duplicate metadata key " + key);
        metadata.put(key, typedValue.bytes());
        return this;
    }

    /**
     * Declares a tensor. {@code ne} lists dims innermost first (ggml order: a PyTorch/safetensors shape [a, b] is
     * ne {b, a}); {@code data} must supply exactly {@link GgmlType#bytes} bytes when the file is written.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] ne, TensorData data) {
        if (!tensorNames.add(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        if (ne.length > 4) throw new IllegalArgumentException(name + ": ggml tensors have at most 4 dims, got " + ne.length);
        long bytes;
        try {
            bytes = type.bytes(ne);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " " + Arrays.toString(ne) + ": " + e.getMessage(), e);
        }
        tensors.add(new Tensor(name, type, ne.clone(), bytes, data));
        return this;
    }

    /** Bytes the file will have: header, metadata and tensor infos, padding, and the aligned tensor data. */
    public long fileBytes() {
        return align(header().length) + dataBytes();
    }

    private long dataBytes() {
        long offset = 0;
        for (Tensor t : tensors) offset = align(offset) + t.bytes();
        return offset;
    }

    /** Writes the file (replacing it); on any failure the partial file is deleted. */
    public void write(Path file) {
        byte[] header = header();
        boolean done = false;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            writeFully(ch, ByteBuffer.wrap(header));
            long dataStart = align(header.length);
            padTo(ch, dataStart);
            for (Tensor t : tensors) {
                long start = dataStart + align(ch.position() - dataStart);
                padTo(ch, start);
                long[] written = {0};
                t.data().writeTo(bytes -> {
                    written[0] += bytes.byteSize();
                    if (written[0] > t.bytes())
                        throw new IllegalStateException(t.name() + ": data supplies more than its " + t.bytes() + " bytes");
                    write(ch, bytes);
                });
                if (written[0] != t.bytes())
                    throw new IllegalStateException(t.name() + ": data supplied " + written[0] + " bytes, expected " + t.bytes());
            }
            done = true;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // the original failure is the one to report
                }
            }
        }
    }

    /** Magic, version, counts, metadata and tensor infos (offsets relative to the aligned data region). */
    private byte[] header() {
        Encoder e = new Encoder().u32(MAGIC).u32(VERSION).u64(tensors.size()).u64(metadata.size());
        metadata.forEach((key, value) -> e.string(key).raw(value));
        long offset = 0;
        for (Tensor t : tensors) {
            offset = align(offset);
            e.string(t.name()).u32(t.ne().length);
            for (long d : t.ne()) e.u64(d);
            e.u32(t.type().id).u64(offset);
            offset += t.bytes();
        }
        return e.bytes();
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void padTo(FileChannel ch, long position) throws IOException {
        long pad = position - ch.position();
        if (pad > 0) writeFully(ch, ByteBuffer.allocate((int) pad));
    }

    private static void write(FileChannel ch, MemorySegment bytes) {
        final long chunk = 1L << 26;
        try {
            for (long off = 0; off < bytes.byteSize(); off += chunk)
                writeFully(ch, bytes.asSlice(off, Math.min(chunk, bytes.byteSize() - off)).asByteBuffer());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** Little-endian byte builder for the header. */
    private static final class Encoder {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        Encoder u8(int v) { out.write(v); return this; }

        Encoder u32(int v) { scratch.clear(); scratch.putInt(v); out.write(scratch.array(), 0, 4); return this; }

        Encoder u64(long v) { scratch.clear(); scratch.putLong(v); out.write(scratch.array(), 0, 8); return this; }

        Encoder f32(float v) { return u32(Float.floatToRawIntBits(v)); }

        Encoder string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Encoder raw(byte[] b) { out.write(b, 0, b.length); return this; }

        byte[] bytes() { return out.toByteArray(); }
    }
}

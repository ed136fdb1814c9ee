package io.herd.cli.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small GGUF v3 reader for tests: parses what {@link GgufWriter} writes straight from the format's definition
 * (header, typed key/values, tensor infos, aligned data region), independently of the writer's code.
 */
public final class GgufTestReader {
    public record TensorInfo(String name, long[] ne, int typeId, long offset) {}

    public final int version;
    public final Map<String, Object> metadata = new LinkedHashMap<>();
    public final Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    public final long dataStart;
    private final ByteBuffer file;

    public GgufTestReader(Path path) {
        try {
            file = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int magic = file.getInt();
        if (magic != 0x46554747) throw new IllegalStateException(path + ": bad magic " + Integer.toHexString(magic));
        version = file.getInt();
        long nTensors = file.getLong(), nKv = file.getLong();
        for (long i = 0; i < nKv; i++) {
            String key = string();
            if (metadata.put(key, value(file.getInt())) != null) throw new IllegalStateException("duplicate key " + key);
        }
        for (long i = 0; i < nTensors; i++) {
            String name = string();
            long[] ne = new long[file.getInt()];
            for (int d = 0; d < ne.length; d++) ne[d] = file.getLong();
            tensors.put(name, new TensorInfo(name, ne, file.getInt(), file.getLong()));
        }
        long alignment = metadata.containsKey("general.alignment") ? ((Number) metadata.get("general.alignment")).longValue() : 32;
        dataStart = (file.position() + alignment - 1) / alignment * alignment;
    }

    public long fileSize() {
        return file.capacity();
    }

    /** The bytes of tensor {@code name}, {@code n} long from its start. */
    public ByteBuffer data(String name, long n) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name);
        return file.slice(Math.toIntExact(dataStart + t.offset()), Math.toIntExact(n)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Element i of a BF16 tensor, as a float. */
    public float bf16(String name, long i) {
        TensorInfo t = tensors.get(name);
        return Float.intBitsToFloat((file.getShort(Math.toIntExact(dataStart + t.offset() + 2 * i)) & 0xffff) << 16);
    }

    public float f32(String name, long i) {
        TensorInfo t = tensors.get(name);
        return file.getFloat(Math.toIntExact(dataStart + t.offset() + 4 * i));
    }

    /** Element i of a Q8_0 tensor, dequantized as ggml does (f16 scale · int8). */
    public float q8_0(String name, long i) {
        TensorInfo t = tensors.get(name);
        long block = dataStart + t.offset() + (i / 32) * 34;
        float scale = Float.float16ToFloat(file.getShort(Math.toIntExact(block)));
        return scale * file.get(Math.toIntExact(block + 2 + i % 32));
    }

    private Object value(int type) {
        return switch (type) {
            case 0 -> file.get() & 0xff;
            case 1 -> (int) file.get();
            case 2 -> file.getShort() & 0xffff;
            case 3 -> (int) file.getShort();
            case 4 -> file.getInt() & 0xffffffffL;
            case 5 -> file.getInt();
            case 6 -> file.getFloat();
            case 7 -> switch (file.get()) {
                case 0 -> false;
                case 1 -> true;
                default -> throw new IllegalStateException("bool that is neither 0 nor 1");
            };
            case 8 -> string();
            case 9 -> {
                int elementType = file.getInt();
                long n = file.getLong();
                List<Object> list = new ArrayList<>();
                for (long i = 0; i < n; i++) list.add(value(elementType));
                yield list;
            }
            case 10 -> file.getLong();
            case 11 -> file.getLong();
            case 12 -> file.getDouble();
            default -> throw new IllegalStateException("unknown GGUF value type " + type);
        };
    }

    private String string() {
        byte[] b = new byte[Math.toIntExact(file.getLong())];
        file.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}

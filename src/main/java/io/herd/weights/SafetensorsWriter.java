package io.herd.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.compute.DType;
import io.herd.compute.cpu.Bf16;

import java.io.IOException;
import java.io.OutputStream;
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
 * Writes safetensors files from fp32 heap arrays, stored as F32, BF16 (round to nearest even) or F16. Used by tests and
 * the demo-model generator; holds everything in memory, so it is meant for small checkpoints.
 */
public final class SafetensorsWriter {
    private record Pending(String name, DType dtype, long[] shape, float[] values) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Pending> tensors = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a tensor; {@code values} is row-major and is converted to {@code dtype} when written. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        if (dtype == DType.Q8) throw new IllegalArgumentException(name + ": Q8 is not a safetensors dtype");
        long n = 1;
        for (long d : shape) n *= d;
        if (n != values.length)
            throw new IllegalArgumentException(name + ": " + values.length + " values for shape " + java.util.Arrays.toString(shape));
        for (Pending p : tensors)
            if (p.name().equals(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        tensors.add(new Pending(name, dtype, shape.clone(), values));
        return this;
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Writes all tensors added so far to one file. */
    public void write(Path file) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Pending p : tensors) {
            ObjectNode t = header.putObject(p.name());
            t.put("dtype", p.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : p.shape()) shape.add(d);
            long bytes = (long) p.values().length * p.dtype().bytes;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerBytes;
        try {
            headerBytes = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Pad the header with spaces so the data region starts 8-byte aligned (as the reference writer does).
        int padded = (headerBytes.length + 7) / 8 * 8;
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            for (int i = headerBytes.length; i < padded; i++) out.write(' ');
            for (Pending p : tensors) out.write(encode(p));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the tensors into {@code nShards} files {@code model-0000i-of-0000n.safetensors} in {@code dir} plus
     * {@value SafetensorsCheckpoint#INDEX_FILE}, splitting tensors in insertion order.
     */
    public void writeSharded(Path dir, int nShards) {
        if (nShards < 1 || nShards > tensors.size()) throw new IllegalArgumentException("nShards " + nShards);
        ObjectNode index = JSON.createObjectNode();
        ObjectNode weightMap = JSON.createObjectNode();
        long total = 0;
        int perShard = (tensors.size() + nShards - 1) / nShards;
        for (int s = 0; s < nShards; s++) {
            String fileName = String.format("model-%05d-of-%05d.safetensors", s + 1, nShards);
            SafetensorsWriter shard = new SafetensorsWriter();
            shard.metadata.putAll(metadata);
            for (int i = s * perShard; i < Math.min(tensors.size(), (s + 1) * perShard); i++) {
                Pending p = tensors.get(i);
                shard.add(p.name(), p.dtype(), p.shape(), p.values());
                weightMap.put(p.name(), fileName);
                total += (long) p.values().length * p.dtype().bytes;
            }
            shard.write(dir.resolve(fileName));
        }
        index.putObject("metadata").put("total_size", total);
        index.set("weight_map", weightMap);
        try {
            Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] encode(Pending p) {
        float[] v = p.values();
        ByteBuffer buf = ByteBuffer.allocate(v.length * p.dtype().bytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (p.dtype()) {
            case F32 -> { for (float f : v) buf.putFloat(f); }
            case BF16 -> { for (float f : v) buf.putShort(Bf16.fromFloat(f)); }
            case F16 -> { for (float f : v) buf.putShort(Float.floatToFloat16(f)); }
            case Q8, GGML_BLOCKS -> throw new AssertionError();
        }
        return buf.array();
    }
}

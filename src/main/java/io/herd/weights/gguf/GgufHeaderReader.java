package io.herd.weights.gguf;

import io.herd.compute.GgmlType;
import io.herd.weights.CheckpointFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses one GGUF file's header from its mapped bytes: magic, version (2 or 3), counts, typed key/values, tensor
 * infos, then the alignment padding before the data region. Little-endian only. Every count, length and offset is
 * checked against the bytes the file has and against fixed limits before anything is allocated, so a hostile or
 * truncated file fails with a message naming the file and the field, never with an out-of-memory or a read past the
 * end.
 */
final class GgufHeaderReader {
    static final int MAGIC = 0x46554747; // "GGUF" as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    /** ggml keeps at most 4 dims and names of at most 63 bytes (GGML_MAX_DIMS, GGML_MAX_NAME); llama.cpp refuses more. */
    static final int MAX_DIMS = 4, MAX_TENSOR_NAME_BYTES = 63;
    /** Plausibility bounds far above any real model (Maverick: ~1,000 tensors, ~50 keys, a 202,048-entry vocabulary). */
    static final long MAX_KV = 1 << 16, MAX_TENSORS = 1 << 20, MAX_KEY_BYTES = 1 << 16, MAX_STRING_BYTES = 64L << 20,
            MAX_ARRAY_ELEMENTS = 1 << 26;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A tensor as its header describes it; offset relative to the data region. */
    record TensorInfo(String name, long[] ne, GgmlType type, long offset, long bytes) {}

    record Header(int version, GgufMetadata metadata, List<TensorInfo> tensors, int alignment, long dataStart) {}

    private final Path file;
    private final MemorySegment bytes;
    private long pos;

    private GgufHeaderReader(Path file, MemorySegment bytes) {
        this.file = file;
        this.bytes = bytes;
    }

    static Header read(Path file, MemorySegment bytes) {
        return new GgufHeaderReader(file, bytes).header();
    }

    private CheckpointFormatException error(String message) {
        return new CheckpointFormatException(file + ": " + message);
    }

    private Header header() {
        need(4, "magic");
        int magic = bytes.get(I32, 0);
        if (magic != MAGIC) throw error("not a GGUF file (magic " + String.format("0x%08x", magic) + ")");
        pos = 4;
        int version = u32("version");
        if (version == 1) throw error("GGUF version 1 is not supported (32-bit counts); re-convert the model");
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3)
                throw error("big-endian GGUF is not supported");
            throw error("unsupported GGUF version " + Integer.toUnsignedString(version) + " (2 and 3 are read)");
        }
        long nTensors = count("tensor count", MAX_TENSORS, 8 + 4 + 4 + 8);
        long nKv = count("metadata count", MAX_KV, 8 + 4);

        Map<String, Object> values = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = string("metadata key " + i, MAX_KEY_BYTES);
            if (key.isEmpty()) throw error("metadata key " + i + " is empty");
            GgufValueType type = valueType("metadata " + key);
            Object value = type == GgufValueType.ARRAY ? array(key) : scalar(type, key);
            if (values.putIfAbsent(key, value) != null) throw error("metadata key " + key + " appears twice");
        }
        GgufMetadata metadata = new GgufMetadata(file, values);

        int alignment = DEFAULT_ALIGNMENT;
        if (metadata.contains("general.alignment")) {
            long a = metadata.integer("general.alignment");
            if (a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1)
                throw error("general.alignment " + a + " is not a power of two up to 1 MiB");
            alignment = (int) a;
        }

        List<TensorInfo> tensors = new ArrayList<>((int) nTensors);
        java.util.Set<String> names = new java.util.HashSet<>();
        for (long i = 0; i < nTensors; i++) {
            String name = string("tensor name " + i, MAX_TENSOR_NAME_BYTES);
            if (!names.add(name)) throw error("tensor " + name + " appears twice");
            String where = "tensor " + name;
            int nDims = u32(where + " dims");
            if (nDims < 1 || nDims > MAX_DIMS) throw error(where + " has " + Integer.toUnsignedString(nDims) + " dims (1.." + MAX_DIMS + ")");
            long[] ne = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                ne[d] = u64(where + " dim " + d);
                if (ne[d] < 0) throw error(where + " dim " + d + " is " + Long.toUnsignedString(ne[d]));
                try {
                    elements = Math.multiplyExact(elements, ne[d]);
                } catch (ArithmeticException e) {
                    throw error(where + " has more than 2^63 elements: " + Arrays.toString(ne));
                }
            }
            int typeId = u32(where + " type");
            GgmlType type;
            try {
                type = GgmlType.ofId(typeId);
            } catch (IllegalArgumentException e) {
                throw error(where + ": " + e.getMessage());
            }
            if (ne[0] % type.blockSize != 0)
                throw error(where + ": innermost dim " + ne[0] + " is not a multiple of " + type + "'s block of " + type.blockSize);
            long size;
            try {
                size = Math.multiplyExact(elements / type.blockSize, (long) type.blockBytes);
            } catch (ArithmeticException e) {
                throw error(where + " is larger than 2^63 bytes");
            }
            long offset = u64(where + " offset");
            if (offset < 0 || offset % alignment != 0)
                throw error(where + " offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            tensors.add(new TensorInfo(name, ne, type, offset, size));
        }
        long dataStart = (pos + alignment - 1) / alignment * alignment;
        long dataLen = bytes.byteSize() - dataStart;
        if (dataLen < 0 && !tensors.isEmpty()) throw error("truncated: no data region after the header");
        List<TensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(TensorInfo::offset));
        long end = 0;
        for (TensorInfo t : byOffset) {
            if (t.offset() < end) throw error("tensor " + t.name() + " at offset " + t.offset() + " overlaps the tensor before it");
            end = t.offset() + t.bytes();
            if (t.offset() > dataLen || t.bytes() > dataLen - t.offset())
                throw error("tensor " + t.name() + " (" + t.bytes() + " bytes at data offset " + t.offset()
                        + ") reaches beyond the end of the file (data region " + Math.max(0, dataLen) + " bytes; truncated?)");
        }
        return new Header(version, metadata, List.copyOf(tensors), alignment, dataStart);
    }

    private void need(long n, String what) {
        if (n < 0 || pos > bytes.byteSize() - n)
            throw error("truncated at byte " + pos + " reading " + what + " (" + n + " bytes needed, file has " + bytes.byteSize() + ")");
    }

    private int u32(String what) {
        need(4, what);
        int v = bytes.get(I32, pos);
        pos += 4;
        return v;
    }

    private long u64(String what) {
        need(8, what);
        long v = bytes.get(I64, pos);
        pos += 8;
        return v;
    }

    /** A u64 count, bounded by {@code max} and by the bytes left at {@code minBytesEach} per item. */
    private long count(String what, long max, long minBytesEach) {
        long n = u64(what);
        long left = bytes.byteSize() - pos;
        if (n < 0 || n > max)
            throw error(what + " " + Long.toUnsignedString(n) + " exceeds the limit of " + max);
        if (n > left / minBytesEach)
            throw error(what + " " + n + " cannot fit in the " + left + " bytes left (truncated or corrupt)");
        return n;
    }

    private GgufValueType valueType(String what) {
        int id = u32(what + " type");
        GgufValueType t = GgufValueType.ofId(id);
        if (t == null) throw error(what + " has unknown value type " + Integer.toUnsignedString(id));
        return t;
    }

    private String string(String what, long maxBytes) {
        long n = u64(what + " length");
        if (n < 0 || n > maxBytes) throw error(what + " length " + Long.toUnsignedString(n) + " exceeds the limit of " + maxBytes);
        need(n, what);
        byte[] b = new byte[(int) n];
        MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, pos, b, 0, b.length);
        pos += n;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw error(what + " is not valid UTF-8");
        }
    }

    private Object scalar(GgufValueType type, String key) {
        String what = "metadata " + key;
        return switch (type) {
            case UINT8 -> { need(1, what); yield (long) (bytes.get(ValueLayout.JAVA_BYTE, pos++) & 0xff); }
            case INT8 -> { need(1, what); yield (long) bytes.get(ValueLayout.JAVA_BYTE, pos++); }
            case UINT16 -> { need(2, what); long v = bytes.get(I16, pos) & 0xffff; pos += 2; yield v; }
            case INT16 -> { need(2, what); long v = bytes.get(I16, pos); pos += 2; yield v; }
            case UINT32 -> Integer.toUnsignedLong(u32(what));
            case INT32 -> (long) u32(what);
            case UINT64 -> {
                long v = u64(what);
                if (v < 0) throw error(what + " value " + Long.toUnsignedString(v) + " exceeds 2^63-1");
                yield v;
            }
            case INT64 -> u64(what);
            case FLOAT32 -> { need(4, what); float v = bytes.get(F32, pos); pos += 4; yield v; }
            case FLOAT64 -> { need(8, what); double v = bytes.get(F64, pos); pos += 8; yield v; }
            case BOOL -> {
                need(1, what);
                int b = bytes.get(ValueLayout.JAVA_BYTE, pos++);
                if (b != 0 && b != 1) throw error(what + " is a bool of value " + b);
                yield b == 1;
            }
            case STRING -> string(what, MAX_STRING_BYTES);
            case ARRAY -> throw new AssertionError();
        };
    }

    private GgufArray array(String key) {
        GgufValueType type = valueType("metadata " + key + " element");
        if (type == GgufValueType.ARRAY) throw error("metadata " + key + " is an array of arrays (not supported)");
        long n = count("metadata " + key + " element count", MAX_ARRAY_ELEMENTS, type.minBytes);
        int len = (int) n;
        return switch (type) {
            case STRING -> {
                List<String> out = new ArrayList<>(len);
                for (int i = 0; i < len; i++) out.add(string("metadata " + key + "[" + i + "]", MAX_STRING_BYTES));
                yield new GgufArray(type, out);
            }
            case FLOAT32, FLOAT64 -> {
                double[] out = new double[len];
                for (int i = 0; i < len; i++) {
                    Object v = scalar(type, key);
                    out[i] = v instanceof Float f ? f : (Double) v;
                }
                yield new GgufArray(type, out);
            }
            case BOOL -> {
                boolean[] out = new boolean[len];
                for (int i = 0; i < len; i++) out[i] = (Boolean) scalar(type, key);
                yield new GgufArray(type, out);
            }
            default -> {
                long[] out = new long[len];
                for (int i = 0; i < len; i++) out[i] = (Long) scalar(type, key);
                yield new GgufArray(type, out);
            }
        };
    }
}

package io.herd.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.compute.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A safetensors checkpoint (one file, or a directory with {@code model.safetensors.index.json} and shards, or a
 * directory with a single {@code model.safetensors}), memory-mapped read-only. Opening reads only the JSON headers
 * and maps each file's data region once; tensors are {@link MemorySegment#asSlice} views, so opening a checkpoint of
 * hundreds of GB takes about as long as reading its headers.
 *
 * <p>Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * {@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}}, then the data region;
 * offsets are relative to the start of the data region.
 *
 * <p>Owns one {@link Arena#ofShared() shared arena} holding every mapping; {@link #close()} unmaps them all, after
 * which no tensor of this checkpoint may be touched.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String SINGLE_FILE = "model.safetensors";
    /** Headers beyond this are not plausible (a Maverick shard header is well under 1 MB). */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Entry(Path file, String dtypeTag, long[] shape, MemorySegment data) {}

    private final Arena arena;
    private final Path location;
    private final Map<String, Entry> entries;
    private final Map<Path, Map<String, String>> metadata;

    private SafetensorsCheckpoint(Arena arena, Path location, Map<String, Entry> entries,
                                  Map<Path, Map<String, String>> metadata) {
        this.arena = arena;
        this.location = location;
        this.entries = entries;
        this.metadata = metadata;
    }

    /**
     * Opens a {@code .safetensors} file, or a directory containing {@value #INDEX_FILE} (sharded) or
     * {@value #SINGLE_FILE}.
     */
    public static SafetensorsCheckpoint open(Path location) {
        List<Path> files;
        Map<String, String> expectedFileOf = null;
        if (Files.isDirectory(location)) {
            Path index = location.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) {
                expectedFileOf = readIndex(index);
                files = new TreeSet<>(expectedFileOf.values()).stream().map(location::resolve).toList();
            } else if (Files.isRegularFile(location.resolve(SINGLE_FILE))) {
                files = List.of(location.resolve(SINGLE_FILE));
            } else {
                throw new CheckpointFormatException(location + ": neither " + INDEX_FILE + " nor " + SINGLE_FILE
                        + " found");
            }
        } else if (Files.isRegularFile(location)) {
            files = List.of(location);
        } else {
            throw new CheckpointFormatException(location + ": no such file or directory");
        }

        Arena arena = Arena.ofShared();
        try {
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<Path, Map<String, String>> metadata = new LinkedHashMap<>();
            for (Path file : files) {
                metadata.put(file, mapFile(file, arena, entries));
            }
            if (expectedFileOf != null) {
                Path dir = location;
                for (var e : expectedFileOf.entrySet()) {
                    Entry entry = entries.get(e.getKey());
                    Path shard = dir.resolve(e.getValue());
                    if (entry == null)
                        throw new CheckpointFormatException(shard + ": tensor " + e.getKey() + " is listed in "
                                + dir.resolve(INDEX_FILE) + " but missing from the shard");
                    if (!entry.file().equals(shard))
                        throw new CheckpointFormatException(dir.resolve(INDEX_FILE) + ": tensor " + e.getKey()
                                + " is mapped to " + e.getValue() + " but found in " + entry.file().getFileName());
                }
            }
            return new SafetensorsCheckpoint(arena, location, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The weight_map of an index file: tensor name → shard file name. */
    private static Map<String, String> readIndex(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointFormatException(index + ": unreadable index JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject())
            throw new CheckpointFormatException(index + ": no \"weight_map\" object");
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual())
                throw new CheckpointFormatException(index + ": weight_map entry " + e.getKey() + " is not a file name");
            String shard = e.getValue().asText();
            if (shard.contains("/") || shard.contains("\\") || shard.equals(".."))
                throw new CheckpointFormatException(index + ": weight_map entry " + e.getKey()
                        + " names a file outside the directory: " + shard);
            out.put(e.getKey(), shard);
        }
        return out;
    }

    /** Parses one file's header, maps its data region into the arena, adds its tensors; returns its metadata. */
    private static Map<String, String> mapFile(Path file, Arena arena, Map<String, Entry> entries) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8)
                throw new CheckpointFormatException(file + ": truncated (" + fileSize + " bytes, no header length)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES)
                throw new CheckpointFormatException(file + ": implausible header length " + Long.toUnsignedString(headerLen)
                        + " (not a safetensors file?)");
            if (8 + headerLen > fileSize)
                throw new CheckpointFormatException(file + ": truncated: header of " + headerLen + " bytes but file has "
                        + fileSize + " bytes");
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
            String headerText = new String(headerBuf.array(), StandardCharsets.UTF_8);
            JsonNode header;
            try {
                header = JSON.readTree(headerText);
            } catch (JsonProcessingException e) {
                throw new CheckpointFormatException(file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (header == null || !header.isObject())
                throw new CheckpointFormatException(file + ": header is not a JSON object");

            long dataStart = 8 + headerLen;
            long dataLen = fileSize - dataStart;
            MemorySegment region = dataLen == 0 ? MemorySegment.NULL.reinterpret(0)
                    : ch.map(FileChannel.MapMode.READ_ONLY, dataStart, dataLen, arena);

            Map<String, String> meta = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.properties().iterator(); it.hasNext(); ) {
                var e = it.next();
                String name = e.getKey();
                JsonNode t = e.getValue();
                if (name.equals("__metadata__")) {
                    if (t.isObject()) t.properties().forEach(m -> meta.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                Entry entry = parseEntry(file, name, t, region, dataLen);
                Entry previous = entries.putIfAbsent(name, entry);
                if (previous != null)
                    throw new CheckpointFormatException(file + ": tensor " + name + " also present in " + previous.file());
            }
            return meta;
        } catch (IOException e) {
            throw new CheckpointFormatException(file + ": " + e.getMessage(), e);
        }
    }

    private static Entry parseEntry(Path file, String name, JsonNode t, MemorySegment region, long dataLen) {
        String where = file + ": tensor " + name;
        if (!t.isObject()) throw new CheckpointFormatException(where + ": header entry is not an object");
        JsonNode dtype = t.get("dtype"), shape = t.get("shape"), offsets = t.get("data_offsets");
        if (dtype == null || !dtype.isTextual()) throw new CheckpointFormatException(where + ": missing dtype");
        if (shape == null || !shape.isArray()) throw new CheckpointFormatException(where + ": missing shape");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong())
            throw new CheckpointFormatException(where + ": data_offsets must be [begin, end]");
        long[] dims = new long[shape.size()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.canConvertToLong() || d.asLong() < 0)
                throw new CheckpointFormatException(where + ": bad shape " + shape);
            dims[i] = d.asLong();
            count = Math.multiplyExact(count, dims[i]);
        }
        long begin = offsets.get(0).asLong(), end = offsets.get(1).asLong();
        if (begin < 0 || end < begin)
            throw new CheckpointFormatException(where + ": bad data_offsets " + offsets);
        if (end > dataLen)
            throw new CheckpointFormatException(where + ": data_offsets " + offsets + " reach beyond the data region of "
                    + dataLen + " bytes (truncated file?)");
        Integer elemBytes = elementBytes(dtype.asText());
        if (elemBytes != null && (end - begin) != count * elemBytes)
            throw new CheckpointFormatException(where + ": " + (end - begin) + " bytes for shape " + shape + " of "
                    + dtype.asText() + " (needs " + count * elemBytes + ")");
        return new Entry(file, dtype.asText(), dims, region.asSlice(begin, end - begin));
    }

    /** Bytes per element of every safetensors dtype tag, so even tensors we cannot use are validated. */
    private static Integer elementBytes(String tag) {
        return switch (tag) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> null;
        };
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) throw new CheckpointFormatException(file + ": unexpected end of file");
        }
    }

    /** The path this checkpoint was opened from. */
    public Path location() { return location; }

    public boolean contains(String name) { return entries.containsKey(name); }

    /** Every tensor name, in file order. */
    public Set<String> names() { return entries.keySet(); }

    /** {@code __metadata__} of each file. */
    public Map<Path, Map<String, String>> metadata() { return metadata; }

    /** A tensor view; {@link CheckpointFormatException} naming the checkpoint if it is absent or of an unusable dtype. */
    public TensorView tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new CheckpointFormatException(location + ": tensor " + name + " is missing");
        DType dtype;
        try {
            dtype = DType.fromSafetensors(e.dtypeTag());
        } catch (IllegalArgumentException ex) {
            throw new CheckpointFormatException(e.file() + ": tensor " + name + ": " + ex.getMessage(), ex);
        }
        return new TensorView(name, e.file(), dtype, e.shape().clone(), e.data());
    }

    /** Unmaps every file. Tensors of this checkpoint must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}

package io.herd.weights.gguf;

import io.herd.weights.CheckpointFormatException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A GGUF model (llama.cpp's format), one file or a set of split files {@code NAME-00001-of-0000N.gguf} (llama.cpp's
 * {@code gguf-split}), memory-mapped read-only. Opening maps each file once and parses its header; tensors are
 * slices of the mappings, never copied. The metadata is the first file's (the splitter puts the model's keys there;
 * the others carry only the {@code split.*} keys).
 *
 * <p>Owns one shared arena holding every mapping; {@link #close()} unmaps them all.
 */
public final class GgufCheckpoint implements AutoCloseable {
    /** The name llama.cpp's gguf-split gives split i of n: PREFIX-%05d-of-%05d.gguf. */
    private static final Pattern SPLIT_NAME = Pattern.compile("(.*)-(\\d{5})-of-(\\d{5})\\.gguf");
    private static final String SPLIT_NO = "split.no", SPLIT_COUNT = "split.count", SPLIT_TENSORS = "split.tensors.count";

    private final Arena arena;
    private final Path location;
    private final List<Path> files;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensor> tensors;

    private GgufCheckpoint(Arena arena, Path location, List<Path> files, GgufMetadata metadata, Map<String, GgufTensor> tensors) {
        this.arena = arena;
        this.location = location;
        this.files = files;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /** Whether {@code location} is a GGUF model: a {@code .gguf} file, or a directory holding exactly one model. */
    public static boolean isGguf(Path location) {
        if (Files.isRegularFile(location)) return location.getFileName().toString().endsWith(".gguf");
        if (!Files.isDirectory(location)) return false;
        try {
            return !firstFiles(location).isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** The .gguf files of a directory that start a model: whole files and the first of each split set. */
    private static List<Path> firstFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".gguf"))
                    .filter(p -> {
                        Matcher m = SPLIT_NAME.matcher(p.getFileName().toString());
                        return !m.matches() || Integer.parseInt(m.group(2)) == 1;
                    })
                    .sorted().toList();
        }
    }

    /**
     * Opens a {@code .gguf} file (any split of a set opens the whole set), or a directory holding exactly one model
     * (one .gguf file or one split set).
     */
    public static GgufCheckpoint open(Path location) {
        Path first;
        if (Files.isDirectory(location)) {
            List<Path> candidates;
            try {
                candidates = firstFiles(location);
            } catch (IOException e) {
                throw new CheckpointFormatException(location + ": " + e.getMessage(), e);
            }
            if (candidates.size() != 1)
                throw new CheckpointFormatException(location + ": expected exactly one GGUF model (a .gguf file or one "
                        + "split set), found " + (candidates.isEmpty() ? "none" : candidates.stream().map(Path::getFileName).toList()));
            first = candidates.getFirst();
        } else if (Files.isRegularFile(location)) {
            first = location;
        } else {
            throw new CheckpointFormatException(location + ": no such file or directory");
        }
        List<Path> files = splitFiles(first);

        Arena arena = Arena.ofShared();
        try {
            Map<String, GgufTensor> tensors = new LinkedHashMap<>();
            GgufMetadata metadata = null;
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                MemorySegment mapped = map(file, arena);
                GgufHeaderReader.Header h = GgufHeaderReader.read(file, mapped);
                checkSplit(h.metadata(), i, files.size(), h.tensors().size());
                if (i == 0) metadata = h.metadata();
                for (GgufHeaderReader.TensorInfo t : h.tensors()) {
                    MemorySegment data = mapped.asSlice(h.dataStart() + t.offset(), t.bytes());
                    GgufTensor previous = tensors.putIfAbsent(t.name(), new GgufTensor(t.name(), file, t.type(), t.ne(), data));
                    if (previous != null)
                        throw new CheckpointFormatException(file + ": tensor " + t.name() + " also present in " + previous.file());
                }
            }
            if (files.size() > 1) {
                long expected = metadata.integer(SPLIT_TENSORS);
                if (expected != tensors.size())
                    throw new CheckpointFormatException(first + ": " + SPLIT_TENSORS + " is " + expected + " but the "
                            + files.size() + " splits hold " + tensors.size() + " tensors");
            }
            return new GgufCheckpoint(arena, location, List.copyOf(files), metadata, Collections.unmodifiableMap(tensors));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The files of the set {@code file} belongs to, in order; just {@code file} when its name is not a split's. */
    private static List<Path> splitFiles(Path file) {
        Matcher m = SPLIT_NAME.matcher(file.getFileName().toString());
        if (!m.matches()) return List.of(file);
        int count = Integer.parseInt(m.group(3));
        if (count < 1) throw new CheckpointFormatException(file + ": split count 0 in the file name");
        List<Path> out = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            Path p = file.resolveSibling(String.format("%s-%05d-of-%05d.gguf", m.group(1), i, count));
            if (!Files.isRegularFile(p))
                throw new CheckpointFormatException(file + ": split " + i + " of " + count + " (" + p.getFileName() + ") is missing");
            out.add(p);
        }
        return out;
    }

    /** Each split states its index and the set's size; a lone file may state 0 of 1 or nothing. */
    private static void checkSplit(GgufMetadata m, int index, int count, int nTensors) {
        if (!m.contains(SPLIT_COUNT)) {
            if (count > 1)
                throw new CheckpointFormatException(m.file() + ": named as split " + (index + 1) + " of " + count
                        + " but has no " + SPLIT_COUNT + " key");
            return;
        }
        long c = m.integer(SPLIT_COUNT), no = m.integer(SPLIT_NO, 0);
        if (c != count || no != index)
            throw new CheckpointFormatException(m.file() + ": says it is split " + no + " (from 0) of " + c
                    + ", but its name makes it split " + index + " of " + count);
    }

    private static MemorySegment map(Path file, Arena arena) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 4) throw new CheckpointFormatException(file + ": truncated (" + size + " bytes)");
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new CheckpointFormatException(file + ": " + e.getMessage(), e);
        }
    }

    public Path location() { return location; }

    /** The files in order (one, or every split). */
    public List<Path> files() { return files; }

    public GgufMetadata metadata() { return metadata; }

    public boolean contains(String name) { return tensors.containsKey(name); }

    /** Every tensor name, in file order. */
    public Set<String> names() { return tensors.keySet(); }

    public GgufTensor tensor(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) throw new CheckpointFormatException(location + ": tensor " + name + " is missing");
        return t;
    }

    @Override
    public void close() {
        arena.close();
    }
}

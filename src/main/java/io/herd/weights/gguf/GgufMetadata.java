package io.herd.weights.gguf;

import io.herd.weights.CheckpointFormatException;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The key/values of a GGUF header with typed lookups. Scalars are held as {@code Long} (every integer type; a u64
 * above 2⁶³−1 is refused when read), {@code Float} (f32), {@code Double} (f64), {@code Boolean} and {@code String};
 * arrays as {@link GgufArray}. Every error names the file and the key.
 */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, Object> values;

    GgufMetadata(Path file, Map<String, Object> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
    }

    public Path file() { return file; }

    public Set<String> keys() { return values.keySet(); }

    public boolean contains(String key) { return values.containsKey(key); }

    /** The raw value (see the class comment for the Java types), or null. */
    public Object get(String key) { return values.get(key); }

    private CheckpointFormatException error(String key, String message) {
        return new CheckpointFormatException(file + ": metadata " + key + ": " + message);
    }

    public CheckpointFormatException missing(String key) {
        return error(key, "missing");
    }

    /** An integer value (any integer type; a bool is not one). */
    public long integer(String key) {
        Object v = values.get(key);
        if (v == null) throw missing(key);
        if (v instanceof Long l) return l;
        throw error(key, "expected an integer, got " + describe(v));
    }

    public long integer(String key, long fallback) {
        return values.containsKey(key) ? integer(key) : fallback;
    }

    /** An integer that must fit a non-negative int (sizes, counts, ids). */
    public int count(String key) {
        long v = integer(key);
        if (v < 0 || v > Integer.MAX_VALUE) throw error(key, "value " + v + " is out of range 0.." + Integer.MAX_VALUE);
        return (int) v;
    }

    public int count(String key, int fallback) {
        return values.containsKey(key) ? count(key) : fallback;
    }

    /** A float value (f32 or f64; integers are accepted too, as llama.cpp's converters sometimes write them). */
    public double real(String key) {
        Object v = values.get(key);
        if (v == null) throw missing(key);
        return switch (v) {
            case Float f -> f;
            case Double d -> d;
            case Long l -> l;
            default -> throw error(key, "expected a number, got " + describe(v));
        };
    }

    public double real(String key, double fallback) {
        return values.containsKey(key) ? real(key) : fallback;
    }

    public boolean bool(String key, boolean fallback) {
        Object v = values.get(key);
        if (v == null) return fallback;
        if (v instanceof Boolean b) return b;
        throw error(key, "expected a bool, got " + describe(v));
    }

    public String string(String key) {
        Object v = values.get(key);
        if (v == null) throw missing(key);
        if (v instanceof String s) return s;
        throw error(key, "expected a string, got " + describe(v));
    }

    public String string(String key, String fallback) {
        return values.containsKey(key) ? string(key) : fallback;
    }

    public GgufArray array(String key) {
        Object v = values.get(key);
        if (v == null) throw missing(key);
        if (v instanceof GgufArray a) return a;
        throw error(key, "expected an array, got " + describe(v));
    }

    @SuppressWarnings("unchecked")
    public List<String> strings(String key) {
        GgufArray a = array(key);
        if (a.elementType() != GgufValueType.STRING) throw error(key, "expected an array of strings, got " + a.elementType());
        return (List<String>) a.values();
    }

    public long[] integers(String key) {
        GgufArray a = array(key);
        if (a.values() instanceof long[] l) return l.clone();
        throw error(key, "expected an array of integers, got " + a.elementType());
    }

    public double[] reals(String key) {
        GgufArray a = array(key);
        if (a.values() instanceof double[] d) return d.clone();
        throw error(key, "expected an array of floats, got " + a.elementType());
    }

    private static String describe(Object v) {
        return switch (v) {
            case GgufArray a -> "an array of " + a.size() + " " + a.elementType();
            case String s -> "a string";
            default -> v.getClass().getSimpleName() + " " + v;
        };
    }
}

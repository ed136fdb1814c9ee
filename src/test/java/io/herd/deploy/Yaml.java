package io.herd.deploy;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** YAML documents as plain maps and lists, the form the kustomize renderer and the schema checks work on. */
final class Yaml {

    static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));

    private Yaml() {
    }

    /** Every non-empty document of a (multi-document) YAML text, each a mapping. */
    static List<Map<String, Object>> readAll(String text) {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (MappingIterator<Object> it = MAPPER.readerFor(Object.class).readValues(text)) {
            while (it.hasNext()) {
                Object doc = it.next();
                if (doc == null) {
                    continue;
                }
                if (!(doc instanceof Map<?, ?>)) {
                    throw new IllegalArgumentException("YAML document is not a mapping: " + doc);
                }
                docs.add(asMap(doc, "document"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse YAML", e);
        }
        return docs;
    }

    static Map<String, Object> readOne(String text, String what) {
        List<Map<String, Object>> docs = readAll(text);
        if (docs.size() != 1) {
            throw new IllegalArgumentException(what + ": expected one YAML document, found " + docs.size());
        }
        return docs.getFirst();
    }

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A deep, mutable copy (maps keep their order), so transformations never touch a shared tree. */
    @SuppressWarnings("unchecked")
    static <T> T deepCopy(T value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), deepCopy(v)));
            return (T) copy;
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>();
            list.forEach(v -> copy.add(deepCopy(v)));
            return (T) copy;
        }
        return value;
    }

    /** One YAML document of any shape (a JSON 6902 patch is a list). */
    static Object readAny(String text) {
        try {
            return MAPPER.readerFor(Object.class).readValue(text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse YAML", e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object value, String what) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(what + " must be a mapping, got " + value);
        }
        return (Map<String, Object>) map;
    }

    @SuppressWarnings("unchecked")
    static List<Object> asList(Object value, String what) {
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException(what + " must be a list, got " + value);
        }
        return (List<Object>) list;
    }

    /** Map for {@code key}, created when absent. */
    static Map<String, Object> child(Map<String, Object> parent, String key) {
        return asMap(parent.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>()), key);
    }

    /**
     * The value at a dotted path; a segment in single quotes may hold dots ({@code metadata.labels.'app.kubernetes.io/name'}),
     * a numeric segment indexes a list. Returns null when any step is missing.
     */
    static Object at(Object root, String path) {
        Object current = root;
        for (String segment : segments(path)) {
            if (current instanceof Map<?, ?> map) {
                current = map.get(segment);
            } else if (current instanceof List<?> list && segment.matches("\\d+")) {
                int index = Integer.parseInt(segment);
                current = index < list.size() ? list.get(index) : null;
            } else {
                return null;
            }
            if (current == null) {
                return null;
            }
        }
        return current;
    }

    private static List<String> segments(String path) {
        List<String> segments = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (char c : path.toCharArray()) {
            if (c == '\'') {
                quoted = !quoted;
            } else if (c == '.' && !quoted) {
                segments.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        segments.add(current.toString());
        return segments;
    }
}

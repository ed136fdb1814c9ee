package io.herd.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles {@link ConstraintSpec}s for one vocabulary and keeps the most recent ones by the SHA-256 of their text, so
 * a pipeline sending the same schema with every request compiles it once and reuses the states and masks earlier
 * requests computed. Thread-safe.
 */
public final class ConstraintCompiler {
    /** Largest constraint text (schema, pattern, all choices together) in UTF-8 bytes. */
    public static final int MAX_SOURCE_BYTES = 64 * 1024;
    public static final int MAX_CHOICES = 1_000;
    static final int CACHE_ENTRIES = 16;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final TokenVocabulary vocabulary;
    private final Map<String, OutputGrammar> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, OutputGrammar> eldest) { return size() > CACHE_ENTRIES; }
    };

    public ConstraintCompiler(TokenVocabulary vocabulary) { this.vocabulary = vocabulary; }

    public TokenVocabulary vocabulary() { return vocabulary; }

    /** @throws InvalidConstraintException when the constraint is malformed, too large or uses what Herd cannot honour */
    public OutputGrammar compile(ConstraintSpec spec) {
        String key = key(spec);
        synchronized (cache) {
            OutputGrammar hit = cache.get(key);
            if (hit != null) return hit;
        }
        OutputGrammar compiled = new OutputGrammar(root(spec), vocabulary, describe(spec));
        synchronized (cache) {
            cache.put(key, compiled);
        }
        return compiled;
    }

    private static GrammarNode root(ConstraintSpec spec) {
        return switch (spec.kind()) {
            case JSON_OBJECT -> JsonSchemaCompiler.compileAnyObject();
            case JSON_SCHEMA -> {
                checkSize(spec.source().getBytes(StandardCharsets.UTF_8).length, "schema");
                JsonNode schema;
                try {
                    schema = JSON.readTree(spec.source());
                } catch (JsonProcessingException e) {
                    throw new InvalidConstraintException("schema is not valid JSON: " + e.getOriginalMessage());
                }
                if (schema == null) throw new InvalidConstraintException("schema is empty");
                yield JsonSchemaCompiler.compile(schema);
            }
            case REGEX -> {
                checkSize(spec.source().getBytes(StandardCharsets.UTF_8).length, "pattern");
                GrammarNode.Text text = new GrammarNode.Text(new StringShape(RegexDfa.compile(spec.source(), false), 0, -1), true);
                text.productive = true;
                yield text;
            }
            case CHOICE -> {
                if (spec.choices().isEmpty()) throw new InvalidConstraintException("choice needs at least one string");
                if (spec.choices().size() > MAX_CHOICES) {
                    throw new InvalidConstraintException("choice has more than " + MAX_CHOICES + " strings");
                }
                int total = 0;
                List<GrammarNode> options = new ArrayList<>();
                for (String c : spec.choices()) {
                    if (c.isEmpty()) throw new InvalidConstraintException("choice strings must not be empty");
                    total += c.getBytes(StandardCharsets.UTF_8).length;
                    GrammarNode.Literal l = new GrammarNode.Literal(c);
                    l.productive = true;
                    options.add(l);
                }
                checkSize(total, "choices");
                GrammarNode.Choice choice = new GrammarNode.Choice(options);
                choice.productive = true;
                yield choice;
            }
        };
    }

    private static void checkSize(int bytes, String what) {
        if (bytes > MAX_SOURCE_BYTES) {
            throw new InvalidConstraintException(what + " is " + bytes + " bytes, above the limit of " + MAX_SOURCE_BYTES);
        }
    }

    private static String describe(ConstraintSpec spec) {
        String s = spec.kind() + (spec.source().isEmpty() ? "" : " " + spec.source());
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }

    private static String key(ConstraintSpec spec) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(spec.kind().name().getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(spec.source().getBytes(StandardCharsets.UTF_8));
            for (String c : spec.choices()) {
                d.update((byte) 0);
                d.update(c.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.herd.structured;

import java.util.List;

/**
 * What a request asks its output to be. {@code JSON_SCHEMA}: {@code source} is the schema as JSON text;
 * {@code JSON_OBJECT}: any JSON object; {@code REGEX}: {@code source} is a pattern the whole output matches;
 * {@code CHOICE}: the output is exactly one of {@code choices}.
 */
public record ConstraintSpec(Kind kind, String source, List<String> choices) {
    public enum Kind { JSON_SCHEMA, JSON_OBJECT, REGEX, CHOICE }

    public ConstraintSpec {
        choices = choices == null ? List.of() : List.copyOf(choices);
        source = source == null ? "" : source;
    }

    public static ConstraintSpec jsonSchema(String schemaJson) { return new ConstraintSpec(Kind.JSON_SCHEMA, schemaJson, null); }

    public static ConstraintSpec jsonObject() { return new ConstraintSpec(Kind.JSON_OBJECT, "", null); }

    public static ConstraintSpec regex(String pattern) { return new ConstraintSpec(Kind.REGEX, pattern, null); }

    public static ConstraintSpec choice(List<String> choices) { return new ConstraintSpec(Kind.CHOICE, "", choices); }
}

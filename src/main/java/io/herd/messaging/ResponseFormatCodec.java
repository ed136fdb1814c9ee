package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import io.herd.serving.RequestRejectedException;
import io.herd.structured.ConstraintCompiler;
import io.herd.structured.ConstraintSpec;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Decodes {@code response_format} in OpenAI's shapes ({@code {"type":"text"}}, {@code {"type":"json_object"}},
 * {@code {"type":"json_schema","json_schema":{"name","schema","strict","description"}}}) and Herd's extensions
 * {@code {"type":"regex","pattern"}} and {@code {"type":"choice","choices":[…]}}. Shapes are checked here; what a
 * schema or pattern means is checked when it is compiled.
 */
final class ResponseFormatCodec {
    private static final Set<String> JSON_SCHEMA_FIELDS = Set.of("name", "schema", "strict", "description");

    private ResponseFormatCodec() {}

    /** @return null for free text */
    static ConstraintSpec decode(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (!n.isObject() || !n.path("type").isTextual()) {
            throw typeError("field 'response_format' must be an object with a string 'type'");
        }
        String type = n.get("type").asText();
        return switch (type) {
            case "text" -> {
                only(n, Set.of("type"));
                yield null;
            }
            case "json_object" -> {
                only(n, Set.of("type"));
                yield ConstraintSpec.jsonObject();
            }
            case "json_schema" -> {
                only(n, Set.of("type", "json_schema"));
                JsonNode js = n.get("json_schema");
                if (js == null || !js.isObject()) throw typeError("response_format.json_schema must be an object");
                for (Iterator<String> it = js.fieldNames(); it.hasNext(); ) {
                    String f = it.next();
                    if (!JSON_SCHEMA_FIELDS.contains(f)) throw typeError("unknown field 'response_format.json_schema." + f + "'");
                }
                JsonNode schema = js.get("schema");
                if (schema == null || !(schema.isObject() || schema.isBoolean())) {
                    throw typeError("response_format.json_schema.schema must be a JSON Schema object");
                }
                if (js.has("strict") && !js.get("strict").isBoolean()) throw typeError("response_format.json_schema.strict must be a boolean");
                yield ConstraintSpec.jsonSchema(bounded(schema.toString(), "response_format.json_schema.schema"));
            }
            case "regex" -> {
                only(n, Set.of("type", "pattern"));
                if (!n.path("pattern").isTextual()) throw typeError("response_format.pattern must be a string");
                yield ConstraintSpec.regex(bounded(n.get("pattern").asText(), "response_format.pattern"));
            }
            case "choice" -> {
                only(n, Set.of("type", "choices"));
                JsonNode c = n.get("choices");
                if (c == null || !c.isArray()) throw typeError("response_format.choices must be an array of strings");
                if (c.isEmpty() || c.size() > ConstraintCompiler.MAX_CHOICES) {
                    throw new RequestRejectedException("invalid_parameter", "response_format.choices must hold 1 to "
                            + ConstraintCompiler.MAX_CHOICES + " strings");
                }
                List<String> choices = new ArrayList<>();
                for (JsonNode e : c) {
                    if (!e.isTextual()) throw typeError("response_format.choices must hold only strings");
                    choices.add(e.asText());
                }
                yield ConstraintSpec.choice(choices);
            }
            default -> throw new RequestRejectedException("invalid_parameter", "response_format.type '" + type
                    + "' is not text|json_object|json_schema|regex|choice");
        };
    }

    private static String bounded(String text, String field) {
        if (text.length() > ConstraintCompiler.MAX_SOURCE_BYTES) {
            throw new RequestRejectedException("invalid_parameter", field + " is longer than "
                    + ConstraintCompiler.MAX_SOURCE_BYTES + " bytes");
        }
        return text;
    }

    private static void only(JsonNode n, Set<String> allowed) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) throw typeError("unknown field 'response_format." + f + "'");
        }
    }

    private static RequestRejectedException typeError(String message) {
        return new RequestRejectedException("invalid_type", message);
    }
}

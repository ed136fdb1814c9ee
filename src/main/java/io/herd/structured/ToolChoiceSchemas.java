package io.herd.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The output schemas of {@code tool_choice} (TOOLS.md §7, the same shapes vLLM constrains to): {@code required} is a
 * non-empty JSON array of {@code {"name": <a tool's name>, "parameters": <that tool's parameters>}}; a named function
 * is that function's {@code parameters} object (the whole output is the call's arguments). Both parse as calls.
 */
public final class ToolChoiceSchemas {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ToolChoiceSchemas() {}

    /** @param tools the request's OpenAI {@code tools} array */
    public static String required(JsonNode tools) {
        ArrayNode anyOf = JSON.createArrayNode();
        for (JsonNode tool : functions(tools)) {
            JsonNode f = tool.get("function");
            ObjectNode option = anyOf.addObject();
            ObjectNode props = option.putObject("properties");
            ObjectNode name = props.putObject("name");
            name.put("type", "string");
            name.putArray("enum").add(f.get("name").asText());
            props.set("parameters", parameters(f));
            option.putArray("required").add("name").add("parameters");
        }
        ObjectNode schema = JSON.createObjectNode();
        schema.put("type", "array");
        schema.put("minItems", 1);
        ObjectNode items = schema.putObject("items");
        items.put("type", "object");
        items.set("anyOf", anyOf);
        return schema.toString();
    }

    /** @throws InvalidConstraintException when no tool has that name */
    public static String named(JsonNode tools, String functionName) {
        for (JsonNode tool : functions(tools)) {
            if (tool.get("function").get("name").asText().equals(functionName)) return parameters(tool.get("function")).toString();
        }
        throw new InvalidConstraintException("tool_choice names function '" + functionName + "', which is not in tools");
    }

    private static JsonNode functions(JsonNode tools) {
        if (tools == null || !tools.isArray() || tools.isEmpty()) {
            throw new InvalidConstraintException("tool_choice required or named needs a non-empty 'tools' array");
        }
        for (JsonNode t : tools) {
            if (!"function".equals(t.path("type").asText()) || !t.path("function").path("name").isTextual()) {
                throw new InvalidConstraintException("each tool must be {\"type\":\"function\",\"function\":{\"name\",…}}");
            }
        }
        return tools;
    }

    private static JsonNode parameters(JsonNode function) {
        JsonNode p = function.get("parameters");
        if (p == null || p.isNull()) {
            ObjectNode empty = JSON.createObjectNode();
            empty.put("type", "object");
            empty.putObject("properties");
            return empty;
        }
        return p;
    }
}

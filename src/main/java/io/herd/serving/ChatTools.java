package io.herd.serving;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A chat request's tools ({@code ../shared/llama4/TOOLS.md} §7): the OpenAI {@code tools} array as received (its
 * keys in the order sent, since the prompt shows them verbatim), what {@code tool_choice} asks, and
 * {@code parallel_tool_calls}.
 *
 * @param tools    the {@code tools} array, or null when the request has none
 * @param choice   {@code none}, {@code auto}, {@code required} or {@code function}
 * @param function the function {@code tool_choice} names (choice {@code function}), else null
 * @param parallel whether several calls may come back in one turn (OpenAI's default: true)
 */
public record ChatTools(JsonNode tools, String choice, String function, boolean parallel) {
    public static final String NONE = "none";
    public static final String AUTO = "auto";
    public static final String REQUIRED = "required";
    public static final String FUNCTION = "function";

    /** Whether the output is read for calls after generation. */
    public boolean parsesCalls() { return hasTools() && !NONE.equals(choice); }

    public boolean hasTools() { return tools != null && tools.isArray() && !tools.isEmpty(); }
}

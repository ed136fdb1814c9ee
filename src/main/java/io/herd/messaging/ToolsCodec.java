package io.herd.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.serving.ChatTools;
import io.herd.serving.RequestMessage;
import io.herd.serving.RequestRejectedException;
import io.herd.serving.RequestToolCall;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decodes the tool fields of a request (kafka-topics/README.md, "Tool calls"): {@code tools}, {@code tool_choice},
 * {@code parallel_tool_calls}, and the {@code tool_calls} / {@code tool_call_id} of history messages. Shapes are
 * checked here (wrong type: {@code invalid_type}); sizes and names against the bounds ({@code invalid_parameter});
 * a {@code tool_choice} that cannot be met by the tools ({@code invalid_request}).
 */
final class ToolsCodec {
    /** OpenAI's limit on functions per request. */
    static final int MAX_TOOLS = 128;
    /** The {@code tools} array as JSON: every byte of it goes into the prompt. */
    static final int MAX_TOOLS_BYTES = 262_144;
    static final int MAX_TOOL_CALLS_PER_MESSAGE = 128;
    /** One call's {@code arguments} text in the history. */
    static final int MAX_ARGUMENTS_BYTES = 65_536;
    /** OpenAI's rule for function names; it also keeps names free of quotes and brackets, which the prompt shows raw. */
    static final Pattern FUNCTION_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    static final int MAX_TOOL_CALL_ID_LENGTH = 256;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private ToolsCodec() {}

    /** The tool fields of a request, or null when it has none of them. */
    static ChatTools decode(ObjectNode o) {
        JsonNode tools = present(o, "tools");
        JsonNode choice = present(o, "tool_choice");
        JsonNode parallel = present(o, "parallel_tool_calls");
        if (tools == null && choice == null && parallel == null) return null;
        if (parallel != null && !parallel.isBoolean()) throw typeError("field 'parallel_tool_calls' must be a boolean");
        if (tools != null) checkTools(tools);
        boolean hasTools = tools != null && !tools.isEmpty();
        String mode = hasTools ? ChatTools.AUTO : ChatTools.NONE;
        String function = null;
        if (choice != null) {
            if (choice.isTextual()) {
                mode = choice.asText();
                if (!Set.of(ChatTools.NONE, ChatTools.AUTO, ChatTools.REQUIRED).contains(mode)) {
                    throw new RequestRejectedException("invalid_parameter",
                            "tool_choice '" + mode + "' is not none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}");
                }
            } else if (choice.isObject() && "function".equals(choice.path("type").asText())
                    && choice.path("function").path("name").isTextual()) {
                mode = ChatTools.FUNCTION;
                function = choice.path("function").path("name").asText();
            } else {
                throw typeError("field 'tool_choice' must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}");
            }
        }
        if ((mode.equals(ChatTools.REQUIRED) || mode.equals(ChatTools.FUNCTION)) && !hasTools) {
            throw new RequestRejectedException("invalid_request", "tool_choice " + mode + " needs a non-empty 'tools' array");
        }
        if (mode.equals(ChatTools.FUNCTION) && !names(tools).contains(function)) {
            throw new RequestRejectedException("invalid_request", "tool_choice names function '" + function + "', which is not in tools");
        }
        return new ChatTools(hasTools ? tools : null, mode, function, parallel == null || parallel.booleanValue());
    }

    private static void checkTools(JsonNode tools) {
        if (!tools.isArray()) throw typeError("field 'tools' must be an array");
        if (tools.size() > MAX_TOOLS) throw new RequestRejectedException("invalid_parameter", "at most " + MAX_TOOLS + " tools");
        if (tools.toString().getBytes(StandardCharsets.UTF_8).length > MAX_TOOLS_BYTES) {
            throw new RequestRejectedException("invalid_parameter", "field 'tools' is larger than " + MAX_TOOLS_BYTES + " bytes");
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            String where = "tools[" + i + "]";
            if (!t.isObject() || !"function".equals(t.path("type").asText()) || !t.path("function").isObject()) {
                throw typeError(where + " must be {\"type\":\"function\",\"function\":{\"name\",…}}");
            }
            JsonNode f = t.get("function");
            if (!f.path("name").isTextual()) throw typeError(where + ".function.name must be a string");
            String name = f.get("name").asText();
            if (!FUNCTION_NAME.matcher(name).matches()) {
                throw new RequestRejectedException("invalid_parameter", where + ".function.name '" + name + "' must match [A-Za-z0-9_-]{1,64}");
            }
            if (!seen.add(name)) throw new RequestRejectedException("invalid_parameter", where + ": function '" + name + "' is defined twice");
            if (f.has("description") && !f.get("description").isTextual()) throw typeError(where + ".function.description must be a string");
            if (f.has("parameters") && !f.get("parameters").isObject() && !f.get("parameters").isNull()) {
                throw typeError(where + ".function.parameters must be a JSON Schema object");
            }
            if (f.has("strict") && !f.get("strict").isBoolean()) throw typeError(where + ".function.strict must be a boolean");
        }
    }

    private static Set<String> names(JsonNode tools) {
        Set<String> names = new HashSet<>();
        for (JsonNode t : tools) names.add(t.path("function").path("name").asText());
        return names;
    }

    /**
     * A history message with {@code tool_calls} (assistant) or {@code tool_call_id} (tool). Content may be null or
     * absent on an assistant message that only calls (OpenAI's shape): it becomes empty text.
     *
     * @param parts the message decoded from its content parts, or null when content is not an array
     */
    static RequestMessage toolMessage(JsonNode m, int i, RequestMessage parts) {
        String where = "messages[" + i + "]";
        if (!m.path("role").isTextual()) throw typeError(where + " needs a string field 'role'");
        String role = m.get("role").asText();
        JsonNode content = m.get("content");
        if (parts == null && content != null && !content.isNull() && !content.isTextual()) {
            throw typeError(where + ".content must be a string, an array of parts or null");
        }
        String text = parts != null ? parts.content() : content == null || content.isNull() ? "" : content.asText();
        List<RequestToolCall> calls = null;
        if (m.has("tool_calls") && !m.get("tool_calls").isNull()) {
            if (!"assistant".equals(role)) throw new RequestRejectedException("invalid_parameter", where + ": only assistant messages carry tool_calls");
            JsonNode list = m.get("tool_calls");
            if (!list.isArray()) throw typeError(where + ".tool_calls must be an array");
            if (list.size() > MAX_TOOL_CALLS_PER_MESSAGE) {
                throw new RequestRejectedException("invalid_parameter", where + " has more than " + MAX_TOOL_CALLS_PER_MESSAGE + " tool_calls");
            }
            calls = new ArrayList<>();
            for (int k = 0; k < list.size(); k++) calls.add(call(list.get(k), where + ".tool_calls[" + k + "]"));
        } else if (content == null || content.isNull()) {
            throw typeError(where + " must be an object with string fields 'role' and 'content'");
        }
        String callId = null;
        if (m.has("tool_call_id") && !m.get("tool_call_id").isNull()) {
            if (!m.get("tool_call_id").isTextual()) throw typeError(where + ".tool_call_id must be a string");
            callId = m.get("tool_call_id").asText();
            if (callId.length() > MAX_TOOL_CALL_ID_LENGTH) {
                throw new RequestRejectedException("invalid_parameter", where + ".tool_call_id is longer than " + MAX_TOOL_CALL_ID_LENGTH);
            }
        }
        return new RequestMessage(role, text, parts == null ? null : parts.parts(), calls, callId);
    }

    private static RequestToolCall call(JsonNode c, String where) {
        if (!c.isObject() || !c.path("function").isObject() || !c.path("function").path("name").isTextual()) {
            throw typeError(where + " must be {\"id\",\"type\":\"function\",\"function\":{\"name\",\"arguments\"}}");
        }
        if (c.has("type") && !"function".equals(c.get("type").asText())) throw typeError(where + ".type must be 'function'");
        if (c.has("id") && !c.get("id").isTextual()) throw typeError(where + ".id must be a string");
        String id = c.path("id").asText(null);
        if (id != null && id.length() > MAX_TOOL_CALL_ID_LENGTH) {
            throw new RequestRejectedException("invalid_parameter", where + ".id is longer than " + MAX_TOOL_CALL_ID_LENGTH);
        }
        JsonNode f = c.get("function");
        String name = f.get("name").asText();
        if (!FUNCTION_NAME.matcher(name).matches()) {
            throw new RequestRejectedException("invalid_parameter", where + ".function.name '" + name + "' must match [A-Za-z0-9_-]{1,64}");
        }
        JsonNode args = f.get("arguments");
        String arguments;
        if (args == null || args.isNull()) arguments = "{}";
        else if (args.isTextual()) arguments = args.asText(); // OpenAI's shape: JSON text, parsed before rendering
        else if (args.isObject()) arguments = args.toString();
        else throw typeError(where + ".function.arguments must be JSON text of an object");
        if (arguments.getBytes(StandardCharsets.UTF_8).length > MAX_ARGUMENTS_BYTES) {
            throw new RequestRejectedException("invalid_parameter", where + ".function.arguments is larger than " + MAX_ARGUMENTS_BYTES + " bytes");
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(arguments);
        } catch (JsonProcessingException e) {
            parsed = null;
        }
        if (parsed == null || !parsed.isObject()) {
            throw new RequestRejectedException("invalid_parameter", where + ".function.arguments is not JSON text of an object");
        }
        return new RequestToolCall(id, name, arguments);
    }

    private static JsonNode present(ObjectNode o, String f) {
        JsonNode n = o.get(f);
        return n == null || n.isNull() ? null : n;
    }

    private static RequestRejectedException typeError(String message) {
        return new RequestRejectedException("invalid_type", message);
    }
}

package io.herd.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.tokenizer.template.TemplateValues;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An OpenAI-shaped conversation normalised for a chat template, as {@code ../shared/llama4/TOOLS.md} §8 asks (both
 * official templates break otherwise): each call's {@code arguments} JSON text parsed into an object, null content
 * as empty text, {@code tools: []} as no tools. Every client string is escaped for the prompt encoder, so the
 * rendered prompt holds no special token the client wrote.
 */
final class TemplateConversation {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TemplateConversation() {}

    static List<Map<String, Object>> messages(List<RequestMessage> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            RequestMessage m = messages.get(i);
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.role());
            message.put("content", content(m));
            if (m.toolCalls() != null) {
                List<Object> calls = new ArrayList<>(m.toolCalls().size());
                for (int k = 0; k < m.toolCalls().size(); k++) calls.add(call(m.toolCalls().get(k), i, k));
                message.put("tool_calls", calls);
            }
            if (m.toolCallId() != null) message.put("tool_call_id", TemplateValues.text(m.toolCallId()));
            out.add(message);
        }
        return out;
    }

    /** The tools as template values, or null for none (an empty list counts as none). */
    @SuppressWarnings("unchecked")
    static List<Object> tools(ChatTools tools) {
        if (tools == null || !tools.hasTools()) return null;
        return (List<Object>) TemplateValues.plain(tools.tools());
    }

    private static Object content(RequestMessage m) {
        if (m.parts() == null) return TemplateValues.text(m.content() == null ? "" : m.content());
        List<Object> parts = new ArrayList<>(m.parts().size());
        for (MessagePart p : m.parts()) {
            Map<String, Object> part = new LinkedHashMap<>();
            if (p.text() != null) {
                part.put("type", "text");
                part.put("text", TemplateValues.text(p.text()));
            } else {
                part.put("type", "image");
            }
            parts.add(part);
        }
        return parts;
    }

    private static Map<String, Object> call(RequestToolCall c, int message, int index) {
        JsonNode arguments;
        try {
            arguments = JSON.readTree(c.arguments());
        } catch (JsonProcessingException e) {
            arguments = null;
        }
        if (arguments == null || !arguments.isObject()) {
            throw new RequestRejectedException("invalid_parameter",
                    "messages[" + message + "].tool_calls[" + index + "].function.arguments is not JSON text of an object");
        }
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", TemplateValues.text(c.name()));
        function.put("arguments", TemplateValues.plain(arguments));
        Map<String, Object> call = new LinkedHashMap<>();
        if (c.id() != null) call.put("id", TemplateValues.text(c.id()));
        call.put("type", "function");
        call.put("function", function);
        return call;
    }
}

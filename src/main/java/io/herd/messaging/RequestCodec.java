package io.herd.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.serving.RequestMessage;
import io.herd.serving.CompletionRequest;
import io.herd.serving.MessagePart;
import io.herd.serving.RequestRejectedException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decodes a herd.requests record (kafka-topics/schemas/request.schema.json) with strict types: a wrong type or an
 * unknown field is a {@link RequestRejectedException}, never a silent default.
 */
public final class RequestCodec {

    static final Set<String> FIELDS = Set.of("id", "model", "prompt", "messages", "max_tokens", "temperature", "top_p",
            "top_k", "min_p", "seed", "stop", "logprobs", "top_logprobs", "priority", "deadline_ms", "reply_to",
            "cache_salt", "metadata",
            // output constraints and penalties (kafka-topics/README.md, "Structured output")
            "response_format", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias",
            "min_tokens", "ignore_eos",
            // tool calls (kafka-topics/README.md, "Tool calls")
            "tools", "tool_choice", "parallel_tool_calls",
            // choices, prompt scores and the caller tag (kafka-topics/README.md, bounds table)
            "n", "user", "prompt_logprobs");
    private static final Pattern TOPIC_NAME = ReplyTopicPolicy.TOPIC_NAME;
    /** Largest {@code metadata} object (serialized JSON bytes): it is carried, not read, so it stays small. */
    public static final int MAX_METADATA_BYTES = 4096;

    private final ObjectMapper mapper;

    public RequestCodec(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** What could be recovered from an unservable record, to address an error event to. */
    public record Recovered(String id, String replyTo) {}

    public CompletionRequest decode(String key, String payload) {
        if (payload == null) throw new RequestRejectedException("invalid_json", "record has no value");
        JsonNode root;
        try {
            root = mapper.readTree(payload);
        } catch (JsonProcessingException e) {
            throw new RequestRejectedException("invalid_json", "value is not JSON: " + e.getOriginalMessage());
        }
        if (!(root instanceof ObjectNode obj)) throw new RequestRejectedException("invalid_json", "value is not a JSON object");
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) throw typeError("unknown field '" + f + "'");
        }
        String id = string(obj, "id");
        // The key picks the partition: without one, or with another id, the same request could land on two
        // partitions and run twice.
        if (key == null) throw new RequestRejectedException("invalid_request", "record has no key (the key must be the request id)");
        if (id == null) id = key;
        if (!id.equals(key)) {
            throw new RequestRejectedException("invalid_request", "record key '" + key + "' differs from id '" + id + "'");
        }
        String replyTo = string(obj, "reply_to");
        if (replyTo != null && !TOPIC_NAME.matcher(replyTo).matches()) {
            throw new RequestRejectedException("invalid_parameter", "reply_to '" + replyTo + "' is not a legal topic name");
        }
        return new CompletionRequest(id, string(obj, "model"), string(obj, "prompt"), messages(obj),
                integer(obj, "max_tokens"), number(obj, "temperature"), number(obj, "top_p"), integer(obj, "top_k"),
                number(obj, "min_p"), longValue(obj, "seed"), stop(obj), bool(obj, "logprobs"),
                integer(obj, "top_logprobs"), integer(obj, "priority"), longValue(obj, "deadline_ms"), replyTo,
                string(obj, "cache_salt"), metadata(obj), ResponseFormatCodec.decode(obj.get("response_format")),
                number(obj, "presence_penalty"), number(obj, "frequency_penalty"), number(obj, "repetition_penalty"),
                logitBias(obj), integer(obj, "min_tokens"), bool(obj, "ignore_eos"), integer(obj, "n"),
                string(obj, "user"), integer(obj, "prompt_logprobs"), ToolsCodec.decode(obj));
    }

    /** Best effort: the id (JSON field, else the record key) and reply topic of an unservable record. */
    public Recovered recover(String key, String payload) {
        String id = key;
        String replyTo = null;
        try {
            JsonNode root = payload == null ? null : mapper.readTree(payload);
            if (root != null && root.path("id").isTextual() && !root.path("id").asText().isBlank()) id = root.path("id").asText();
            if (root != null && root.path("reply_to").isTextual() && TOPIC_NAME.matcher(root.path("reply_to").asText()).matches()) {
                replyTo = root.path("reply_to").asText();
            }
        } catch (JsonProcessingException e) {
            // Not JSON: only the key can address the error event.
        }
        return new Recovered(id == null || id.isBlank() ? null : id, replyTo);
    }

    private static RequestRejectedException typeError(String message) {
        return new RequestRejectedException("invalid_type", message);
    }

    private static JsonNode present(ObjectNode o, String f) {
        JsonNode n = o.get(f);
        return n == null || n.isNull() ? null : n;
    }

    private static String string(ObjectNode o, String f) {
        JsonNode n = present(o, f);
        if (n == null) return null;
        if (!n.isTextual()) throw typeError("field '" + f + "' must be a string, got " + n.getNodeType());
        return n.asText();
    }

    private static Integer integer(ObjectNode o, String f) {
        JsonNode n = present(o, f);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw typeError("field '" + f + "' must be a 32-bit integer, got " + n);
        return n.intValue();
    }

    private static Long longValue(ObjectNode o, String f) {
        JsonNode n = present(o, f);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw typeError("field '" + f + "' must be a 64-bit integer, got " + n);
        return n.longValue();
    }

    private static Float number(ObjectNode o, String f) {
        JsonNode n = present(o, f);
        if (n == null) return null;
        if (!n.isNumber()) throw typeError("field '" + f + "' must be a number, got " + n.getNodeType());
        return n.floatValue();
    }

    private static Boolean bool(ObjectNode o, String f) {
        JsonNode n = present(o, f);
        if (n == null) return null;
        if (!n.isBoolean()) throw typeError("field '" + f + "' must be a boolean, got " + n.getNodeType());
        return n.booleanValue();
    }

    /** OpenAI's logit_bias: token ids as object keys (decimal strings), biases as numbers; at most 300 entries. */
    private static Map<Integer, Float> logitBias(ObjectNode o) {
        JsonNode n = present(o, "logit_bias");
        if (n == null) return null;
        if (!n.isObject()) throw typeError("field 'logit_bias' must be an object of token id → number");
        if (n.size() > MAX_LOGIT_BIAS) {
            throw new RequestRejectedException("invalid_parameter", "logit_bias has more than " + MAX_LOGIT_BIAS + " entries");
        }
        Map<Integer, Float> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().matches("\\d{1,9}") || !e.getValue().isNumber()) {
                throw typeError("logit_bias keys must be token ids and values numbers, got " + e.getKey());
            }
            out.put(Integer.parseInt(e.getKey()), e.getValue().floatValue());
        }
        return out;
    }

    static final int MAX_LOGIT_BIAS = 300;

    private static List<String> stop(ObjectNode o) {
        JsonNode n = present(o, "stop");
        if (n == null) return null;
        if (n.isTextual()) return List.of(n.asText());
        if (!n.isArray()) throw typeError("field 'stop' must be a string or an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode s : n) {
            if (!s.isTextual()) throw typeError("field 'stop' must hold only strings");
            out.add(s.asText());
        }
        return out;
    }

    private static List<RequestMessage> messages(ObjectNode o) {
        JsonNode n = present(o, "messages");
        if (n == null) return null;
        if (!n.isArray()) throw typeError("field 'messages' must be an array");
        List<RequestMessage> out = new ArrayList<>();
        int i = 0;
        for (JsonNode m : n) {
            if (m.isObject() && (m.has("tool_calls") || m.has("tool_call_id"))) {
                out.add(ToolsCodec.toolMessage(m, i, contentParts(m, i)));
                i++;
                continue;
            }
            if (m.isObject() && m.path("role").isTextual() && m.path("content").isArray()) {
                out.add(contentParts(m, i));
                i++;
                continue;
            }
            if (!m.isObject() || !m.path("role").isTextual() || !m.path("content").isTextual()) {
                throw typeError("messages[" + i + "] must be an object with string fields 'role' and 'content'");
            }
            out.add(new RequestMessage(m.get("role").asText(), m.get("content").asText()));
            i++;
        }
        return out;
    }

    /** OpenAI content parts: {"type":"text","text":…} and {"type":"image_url","image_url":{"url":…}}. */
    static RequestMessage contentParts(JsonNode m, int i) {
        if (!m.path("content").isArray()) return null;
        List<MessagePart> parts = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (JsonNode p : m.get("content")) {
            String where = "messages[" + i + "].content[" + parts.size() + "]";
            switch (p.path("type").asText("")) {
                case "text" -> {
                    if (!p.path("text").isTextual()) throw typeError(where + " needs a string field 'text'");
                    parts.add(new MessagePart(p.get("text").asText(), null));
                    text.append(p.get("text").asText());
                }
                case "image_url" -> {
                    JsonNode url = p.path("image_url").isTextual() ? p.get("image_url") : p.path("image_url").path("url");
                    if (!url.isTextual()) throw typeError(where + " needs 'image_url': {'url': string}");
                    parts.add(new MessagePart(null, url.asText()));
                }
                default -> throw typeError(where + " has type " + p.path("type") + "; 'text' or 'image_url' expected");
            }
        }
        return new RequestMessage(m.get("role").asText(), text.toString(), parts);
    }

    private Map<String, Object> metadata(ObjectNode o) {
        JsonNode n = present(o, "metadata");
        if (n == null) return null;
        if (!n.isObject()) throw typeError("field 'metadata' must be an object");
        if (n.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_METADATA_BYTES) {
            throw new RequestRejectedException("invalid_parameter", "field 'metadata' is larger than " + MAX_METADATA_BYTES + " bytes");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = mapper.convertValue(n, LinkedHashMap.class);
        return map;
    }
}

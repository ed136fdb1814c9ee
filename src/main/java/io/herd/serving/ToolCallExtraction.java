package io.herd.serving;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.herd.structured.ToolCallParser;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The tool calls in a finished output ({@code ../shared/llama4/TOOLS.md} §6–7). {@code auto} and {@code required}:
 * the Llama 4 call syntaxes, pythonic and JSON both, whichever template asked (a model writes either); a named
 * function: the whole output is that function's arguments object. Call ids are derived from the request id, so a
 * re-run of the same request (a later attempt) names its calls the same.
 */
final class ToolCallExtraction {
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();

    private ToolCallExtraction() {}

    /** The calls, or null when the output is an answer (text) rather than calls. */
    static List<ToolCallOutput> extract(ChatTools tools, String requestId, String text) {
        if (tools == null || !tools.parsesCalls()) return null;
        List<ToolCallParser.ToolCall> calls;
        if (ChatTools.FUNCTION.equals(tools.choice())) {
            JsonNode args;
            try {
                args = STRICT.readTree(text);
            } catch (Exception e) {
                args = null;
            }
            if (args == null || !args.isObject()) return null;
            calls = List.of(new ToolCallParser.ToolCall(tools.function(), (com.fasterxml.jackson.databind.node.ObjectNode) args));
        } else {
            calls = ToolCallParser.parse(text);
            if (calls == null || calls.isEmpty()) return null;
            if (!tools.parallel()) calls = calls.subList(0, 1);
        }
        List<ToolCallOutput> out = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            out.add(new ToolCallOutput(callId(requestId, i), calls.get(i).name(), calls.get(i).arguments().toString()));
        }
        return out;
    }

    static String callId(String requestId, int index) {
        UUID u = UUID.nameUUIDFromBytes((requestId + "#" + index).getBytes(StandardCharsets.UTF_8));
        return "call_" + u.toString().replace("-", "").substring(0, 24);
    }
}

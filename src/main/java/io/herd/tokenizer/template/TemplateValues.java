package io.herd.tokenizer.template;

import com.fasterxml.jackson.databind.JsonNode;
import io.herd.tokenizer.RenderedPromptEncoder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Client JSON as the plain values a chat template is given: objects as insertion-ordered maps, arrays as lists,
 * integers as {@link Long} (or {@link java.math.BigInteger}), other numbers as {@link Double} (Python reads them as
 * float, which decides how they are written back), every string and key escaped for {@link RenderedPromptEncoder}.
 */
public final class TemplateValues {
    private TemplateValues() {}

    public static Object plain(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return null;
        if (node.isTextual()) return RenderedPromptEncoder.escape(node.textValue());
        if (node.isBoolean()) return node.booleanValue();
        if (node.isIntegralNumber()) return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
        if (node.isNumber()) return node.doubleValue();
        if (node.isArray()) {
            List<Object> list = new ArrayList<>(node.size());
            for (JsonNode item : node) list.add(plain(item));
            return list;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (var it = node.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            map.put(RenderedPromptEncoder.escape(e.getKey()), plain(e.getValue()));
        }
        return map;
    }

    /** Client text for a template: escaped, null kept as null. */
    public static String text(String clientText) {
        return clientText == null ? null : RenderedPromptEncoder.escape(clientText);
    }
}

package io.herd.tokenizer.template;

import java.util.List;
import java.util.Map;

/**
 * The built-in Llama 4 layout for conversations with tools, in Java: the same text, byte for byte, as the release
 * template ({@code ../shared/llama4/TOOLS.md} §4: tools in the first message after the system message, JSON calls
 * between {@code <|python_start|>…<|python_end|>}, tool results JSON-quoted under {@code ipython}). It serves models
 * whose checkpoint has no chat template. Takes the same normalised, escaped values as {@link ChatTemplateRenderer}.
 */
public final class BuiltInToolPrompt {
    static final String PREAMBLE = "Given the following functions, please respond with a JSON for a function call with "
            + "its proper arguments that best answers the given prompt.\n\nRespond in the format {\"name\": function "
            + "name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n\n";

    private BuiltInToolPrompt() {}

    /** @param tools the tools as plain values, or null (or empty) for none */
    public static String render(List<Map<String, Object>> messages, List<Object> tools) {
        boolean hasTools = tools != null && !tools.isEmpty();
        StringBuilder out = new StringBuilder("<|begin_of_text|>");
        int next = 0;
        if (!messages.isEmpty() && "system".equals(messages.getFirst().get("role"))) {
            header("system", out);
            if (hasTools) out.append("Environment: ipython\n");
            out.append(stripPython(firstText(messages.getFirst().get("content")))).append("<|eot|>");
            next = 1;
        }
        if (hasTools) {
            if (next >= messages.size()) throw new ChatTemplateException("tools need a message after the system message to carry them");
            header("user", out);
            out.append(PREAMBLE);
            for (Object tool : tools) out.append(PythonStyleText.toJson(tool, 4)).append("\n\n");
            Object content = messages.get(next).get("content");
            out.append(stripPython(content instanceof String s ? s : PythonStyleText.str(content))).append("<|eot|>");
            next++;
        }
        for (int i = next; i < messages.size(); i++) message(messages.get(i), out);
        header("assistant", out);
        return out.toString();
    }

    private static void message(Map<String, Object> m, StringBuilder out) {
        Object role = m.get("role");
        Object content = m.get("content");
        if ("tool".equals(role) || "ipython".equals(role)) {
            header("ipython", out);
            out.append(PythonStyleText.toJson(content, -1)).append("<|eot|>");
        } else if (m.get("tool_calls") instanceof List<?> calls) {
            if (calls.isEmpty()) return; // the release template drops such a message
            header("assistant", out);
            out.append("<|python_start|>");
            content(content, out);
            out.append("<|python_end|>");
            for (Object c : calls) {
                Map<?, ?> function = (Map<?, ?>) ((Map<?, ?>) c).get("function");
                out.append("{\"name\": \"").append(function.get("name")).append("\", \"parameters\": ")
                        .append(PythonStyleText.toJson(function.get("arguments"), -1)).append('}');
            }
            out.append("<|eot|>");
        } else {
            header(String.valueOf(role), out);
            content(content, out);
            out.append("<|eot|>");
        }
    }

    private static void content(Object content, StringBuilder out) {
        if (content instanceof String s) {
            out.append(s);
            return;
        }
        if (content instanceof List<?> parts) {
            for (Object p : parts) {
                Map<?, ?> part = (Map<?, ?>) p;
                if ("image".equals(part.get("type"))) out.append("<|image|>");
                else if ("text".equals(part.get("type"))) out.append(part.get("text"));
            }
        }
    }

    private static String firstText(Object content) {
        if (content instanceof String s) return s;
        if (content instanceof List<?> parts && !parts.isEmpty() && parts.getFirst() instanceof Map<?, ?> part
                && part.get("text") instanceof String s) return s;
        return "";
    }

    private static void header(String role, StringBuilder out) {
        out.append("<|header_start|>").append(role).append("<|header_end|>\n\n");
    }

    /** Python's {@code str.strip()} (Jinja's {@code trim}): Unicode whitespace at both ends. */
    static String stripPython(String s) {
        int a = 0, b = s.length();
        while (a < b && Character.isWhitespace(s.charAt(a))) a++;
        while (b > a && Character.isWhitespace(s.charAt(b - 1))) b--;
        return s.substring(a, b);
    }
}

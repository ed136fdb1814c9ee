package io.herd.structured;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Finds Llama 4 tool calls in generated text, following the parser contract of {@code ../shared/llama4/TOOLS.md} §6:
 * a pythonic list {@code [f(a=1), g(b="x")]}, optionally inside {@code <|python_start|>…<|python_end|>}, or JSON call
 * objects {@code {"name": …, "parameters": …}} back to back (at most one {@code ;} between them) or in a JSON array.
 * The whole text must be calls; otherwise it is an answer and {@link #parse} returns null. Name-agnostic: checking
 * names against the request's tools is the caller's policy. Stateless and thread-safe.
 */
public final class ToolCallParser {
    private static final String PYTHON_START = "<|python_start|>";
    private static final String PYTHON_END = "<|python_end|>";
    private static final Set<String> CALL_KEYS = Set.of("name", "parameters", "arguments", "type");
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

    /** One call: the function's name and its arguments object. */
    public record ToolCall(String name, ObjectNode arguments) {}

    private ToolCallParser() {}

    /** The calls in {@code text} (stop token removed, special tokens as their literal text), or null for none. */
    public static List<ToolCall> parse(String text) {
        String t = trimAscii(text);
        if (t.startsWith(PYTHON_START)) t = t.substring(PYTHON_START.length());
        t = trimAscii(t.replace(PYTHON_END, ""));
        try {
            if (t.startsWith("[")) {
                List<ToolCall> calls = new Pythonic(t).list();
                if (calls != null) return calls;
                return jsonArray(t);
            }
            if (t.startsWith("{")) return jsonObjects(t);
        } catch (RuntimeException e) {
            return null;
        }
        return null;
    }

    /**
     * Whether output that begins with {@code prefix} may still turn out to be calls (TOOLS.md §6, streaming): its
     * trimmed start is {@code [}, {@code {}, or a prefix of {@code <|python_start|>}. Once false, it is text.
     */
    public static boolean mayStartCall(String prefix) {
        int a = 0;
        while (a < prefix.length() && isAsciiSpace(prefix.charAt(a))) a++;
        if (a == prefix.length()) return true;
        char c = prefix.charAt(a);
        if (c == '[' || c == '{') return true;
        String rest = prefix.substring(a);
        return rest.startsWith(PYTHON_START) || PYTHON_START.startsWith(rest);
    }

    private static String trimAscii(String s) {
        int a = 0, b = s.length();
        while (a < b && isAsciiSpace(s.charAt(a))) a++;
        while (b > a && isAsciiSpace(s.charAt(b - 1))) b--;
        return s.substring(a, b);
    }

    private static boolean isAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == '\f'; }

    // ---- JSON forms ----

    private static List<ToolCall> jsonArray(String t) {
        JsonNode n = readStrict(t);
        if (n == null || !n.isArray() || n.isEmpty()) return null;
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode item : n) {
            ToolCall c = callObject(item);
            if (c == null) return null;
            calls.add(c);
        }
        return calls;
    }

    private static List<ToolCall> jsonObjects(String t) {
        List<ToolCall> calls = new ArrayList<>();
        int i = 0;
        while (i < t.length()) {
            int end = objectEnd(t, i);
            if (end < 0) return null;
            ToolCall c = callObject(readStrict(t.substring(i, end)));
            if (c == null) return null;
            calls.add(c);
            i = end;
            while (i < t.length() && Character.isWhitespace(t.charAt(i))) i++;
            if (i < t.length() && t.charAt(i) == ';') {
                i++;
                while (i < t.length() && Character.isWhitespace(t.charAt(i))) i++;
            }
            if (i < t.length() && t.charAt(i) != '{') return null;
        }
        return calls.isEmpty() ? null : calls;
    }

    /** Index just past the JSON object starting at {@code from} (strings and escapes respected), or -1. */
    private static int objectEnd(String t, int from) {
        int depth = 0;
        boolean inString = false;
        for (int i = from; i < t.length(); i++) {
            char c = t.charAt(i);
            if (inString) {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
            } else if (c == '"') inString = true;
            else if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return -1;
    }

    private static JsonNode readStrict(String json) {
        try {
            return STRICT.readTree(json);
        } catch (Exception e) {
            return null;
        }
    }

    private static ToolCall callObject(JsonNode n) {
        if (n == null || !n.isObject()) return null;
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) if (!CALL_KEYS.contains(it.next())) return null;
        if (!n.path("name").isTextual()) return null;
        if (n.has("type") && !"function".equals(n.get("type").textValue())) return null;
        if (n.has("parameters") == n.has("arguments")) return null;
        JsonNode args = n.has("parameters") ? n.get("parameters") : n.get("arguments");
        if (!args.isObject()) return null;
        return new ToolCall(n.get("name").textValue(), (ObjectNode) args);
    }

    // ---- pythonic form ----

    /** Recursive descent over one pythonic call list; any deviation is "not a call" (null or an exception). */
    private static final class Pythonic {
        private final String s;
        private int i;

        Pythonic(String s) { this.s = s; }

        List<ToolCall> list() {
            expect('[');
            List<ToolCall> calls = new ArrayList<>();
            space();
            while (peek() != ']') {
                ToolCall c = call();
                if (c == null) return null;
                calls.add(c);
                space();
                if (peek() == ',') {
                    i++;
                    space();
                } else if (peek() != ']') return null;
            }
            i++;
            space();
            return i == s.length() && !calls.isEmpty() ? calls : null;
        }

        private ToolCall call() {
            String name = identifier();
            if (name == null) return null;
            space();
            expect('(');
            ObjectNode args = NODES.objectNode();
            space();
            while (peek() != ')') {
                String key = identifier();
                if (key == null || args.has(key)) return null;
                space();
                expect('=');
                space();
                args.set(key, value());
                space();
                if (peek() == ',') {
                    i++;
                    space();
                } else if (peek() != ')') return null;
            }
            i++;
            return new ToolCall(name, args);
        }

        private JsonNode value() {
            char c = peek();
            if (c == '"' || c == '\'') return NODES.textNode(string());
            if (c == '[') {
                i++;
                ArrayNode a = NODES.arrayNode();
                space();
                while (peek() != ']') {
                    a.add(value());
                    space();
                    if (peek() == ',') { i++; space(); } else if (peek() != ']') throw fail();
                }
                i++;
                return a;
            }
            if (c == '{') {
                i++;
                ObjectNode o = NODES.objectNode();
                space();
                while (peek() != '}') {
                    if (peek() != '"' && peek() != '\'') throw fail();
                    String key = string();
                    if (o.has(key)) throw fail();
                    space();
                    expect(':');
                    space();
                    o.set(key, value());
                    space();
                    if (peek() == ',') { i++; space(); } else if (peek() != '}') throw fail();
                }
                i++;
                return o;
            }
            if (c == '-' || c == '+' || c == '.' || Character.isDigit(c)) return number();
            String word = identifier();
            if (word == null) throw fail();
            return switch (word) {
                case "True", "true" -> NODES.booleanNode(true);
                case "False", "false" -> NODES.booleanNode(false);
                case "None", "null" -> NODES.nullNode();
                default -> throw fail(); // identifiers as values, calls, …
            };
        }

        private JsonNode number() {
            int start = i;
            if (peek() == '-' || peek() == '+') i++;
            int digits = 0;
            while (i < s.length() && Character.isDigit(s.charAt(i))) { i++; digits++; }
            boolean fraction = false;
            if (i < s.length() && s.charAt(i) == '.') {
                fraction = true;
                i++;
                while (i < s.length() && Character.isDigit(s.charAt(i))) { i++; digits++; }
            }
            if (digits == 0) throw fail();
            if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
                fraction = true;
                i++;
                if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
                int e = 0;
                while (i < s.length() && Character.isDigit(s.charAt(i))) { i++; e++; }
                if (e == 0) throw fail();
            }
            String text = s.substring(start, i);
            if (text.startsWith("+")) text = text.substring(1);
            if (!fraction) return NODES.numberNode(new BigInteger(text));
            BigDecimal d = new BigDecimal(text);
            if (Double.isInfinite(d.doubleValue())) throw fail();
            return NODES.numberNode(d);
        }

        private String string() {
            char quote = s.charAt(i++);
            StringBuilder out = new StringBuilder();
            while (true) {
                if (i >= s.length()) throw fail();
                char c = s.charAt(i++);
                if (c == quote) return out.toString();
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (i >= s.length()) throw fail();
                char e = s.charAt(i++);
                switch (e) {
                    case '\\' -> out.append('\\');
                    case '\'' -> out.append('\'');
                    case '"' -> out.append('"');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'v' -> out.append((char) 0x0B);
                    case '0' -> out.append((char) 0);
                    case 'x' -> out.appendCodePoint(hex(2));
                    case 'u' -> out.appendCodePoint(hex(4));
                    case 'U' -> out.appendCodePoint(hex(8));
                    default -> out.append('\\').append(e); // Python keeps unknown escapes as written
                }
            }
        }

        private int hex(int n) {
            if (i + n > s.length()) throw fail();
            int v = Integer.parseInt(s.substring(i, i + n), 16);
            i += n;
            if (v > 0x10FFFF) throw fail();
            return v;
        }

        private String identifier() {
            int start = i;
            if (i < s.length() && (Character.isLetter(s.charAt(i)) || s.charAt(i) == '_')) {
                i++;
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
            }
            return i > start ? s.substring(start, i) : null;
        }

        private void space() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }

        private char peek() {
            if (i >= s.length()) throw fail();
            return s.charAt(i);
        }

        private void expect(char c) {
            if (peek() != c) throw fail();
            i++;
        }

        private static IllegalArgumentException fail() { return new IllegalArgumentException("not a call"); }
    }

    /** The arguments as OpenAI's {@code function.arguments} string. */
    public static String argumentsJson(ToolCall call) {
        try {
            return STRICT.writeValueAsString(call.arguments());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

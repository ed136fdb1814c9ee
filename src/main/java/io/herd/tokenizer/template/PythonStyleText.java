package io.herd.tokenizer.template;

import io.herd.tokenizer.RenderedPromptEncoder;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * Writes template values the way the Python side of Hugging Face chat templates does, so a prompt rendered here has
 * the bytes the model was trained on ({@code ../shared/llama4/TOOLS.md} §3): {@code json.dumps(value, indent=…,
 * ensure_ascii=False)} for the {@code tojson} filter and Python's {@code str()} / {@code repr()} for {@code "%s" |
 * format(value)}. Values are the plain Java graph the renderer is given: {@link Map} (insertion ordered), {@link List},
 * {@link String}, {@link Long}/{@link BigInteger} (JSON integers), {@link Double} (JSON numbers with a fraction or
 * exponent: Python reads those as float), {@link Boolean} and null.
 */
public final class PythonStyleText {
    private PythonStyleText() {}

    /** {@code json.dumps(value, ensure_ascii=False)}, or with {@code indent} spaces per level when indent ≥ 0. */
    public static String toJson(Object value, int indent) {
        StringBuilder out = new StringBuilder();
        json(value, indent, 0, out);
        return out.toString();
    }

    /** Python's {@code str(value)}: strings raw, everything else as {@link #repr}. */
    public static String str(Object value) {
        return value instanceof CharSequence s ? s.toString() : repr(value);
    }

    /** Python's {@code repr(value)}. */
    public static String repr(Object value) {
        StringBuilder out = new StringBuilder();
        repr(value, out);
        return out.toString();
    }

    private static void json(Object v, int indent, int level, StringBuilder out) {
        switch (v) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case CharSequence s -> jsonString(s.toString(), out);
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    out.append("{}");
                    return;
                }
                out.append('{');
                boolean first = true;
                for (var e : m.entrySet()) {
                    if (!first) out.append(indent >= 0 ? "," : ", ");
                    first = false;
                    newline(indent, level + 1, out);
                    jsonString(String.valueOf(e.getKey()), out);
                    out.append(": ");
                    json(e.getValue(), indent, level + 1, out);
                }
                newline(indent, level, out);
                out.append('}');
            }
            case List<?> l -> {
                if (l.isEmpty()) {
                    out.append("[]");
                    return;
                }
                out.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) out.append(indent >= 0 ? "," : ", ");
                    newline(indent, level + 1, out);
                    json(l.get(i), indent, level + 1, out);
                }
                newline(indent, level, out);
                out.append(']');
            }
            case Number n -> out.append(number(n));
            default -> jsonString(v.toString(), out);
        }
    }

    private static void newline(int indent, int level, StringBuilder out) {
        if (indent < 0) return;
        out.append('\n');
        out.repeat(' ', indent * level);
    }

    private static void jsonString(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    private static void repr(Object v, StringBuilder out) {
        switch (v) {
            case null -> out.append("None");
            case Boolean b -> out.append(b ? "True" : "False");
            case CharSequence s -> reprString(s.toString(), out);
            case Map<?, ?> m -> {
                out.append('{');
                boolean first = true;
                for (var e : m.entrySet()) {
                    if (!first) out.append(", ");
                    first = false;
                    repr(e.getKey(), out);
                    out.append(": ");
                    repr(e.getValue(), out);
                }
                out.append('}');
            }
            case List<?> l -> {
                out.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) out.append(", ");
                    repr(l.get(i), out);
                }
                out.append(']');
            }
            case Number n -> out.append(number(n));
            default -> reprString(v.toString(), out);
        }
    }

    /** Python's string repr: single quotes unless the text has a single quote and no double quote. */
    private static void reprString(String s, StringBuilder out) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == quote || cp == '\\') out.append('\\').append((char) cp);
            else if (cp == '\n') out.append("\\n");
            else if (cp == '\r') out.append("\\r");
            else if (cp == '\t') out.append("\\t");
            else if (cp == ' ' || (cp < 0x7f && cp >= 0x20)) out.append((char) cp);
            else if (cp == RenderedPromptEncoder.MARK || printable(cp)) out.appendCodePoint(cp); // marks stay for the encoder
            else if (cp <= 0xff) out.append(String.format("\\x%02x", cp));
            else if (cp <= 0xffff) out.append(String.format("\\u%04x", cp));
            else out.append(String.format("\\U%08x", cp));
        }
        out.append(quote);
    }

    /** Python's {@code str.isprintable} for one code point (non-ASCII; ASCII is handled by the caller). */
    private static boolean printable(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    /** Integers in decimal; floats as Python's repr (shortest round-trip digits, exponent outside [1e-4, 1e16)). */
    static String number(Number n) {
        if (n instanceof Double || n instanceof Float || n instanceof BigDecimal) {
            double d = n.doubleValue();
            if (Double.isNaN(d)) return "NaN";
            if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
            return floatRepr(d);
        }
        return n.toString();
    }

    private static String floatRepr(double d) {
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = exact.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - exact.scale(); // d = 0.digits × 10^(exponent+1)
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        if (exponent < 0) return sign + "0." + "0".repeat(-exponent - 1) + digits;
        if (digits.length() <= exponent + 1) return sign + digits + "0".repeat(exponent + 1 - digits.length()) + ".0";
        return sign + digits.substring(0, exponent + 1) + "." + digits.substring(exponent + 1);
    }
}

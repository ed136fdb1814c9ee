package io.herd.tokenizer.template;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.io.IOException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a Hugging Face style Jinja chat template ({@code chat_template}) with Jinjava, the way transformers'
 * {@code apply_chat_template} does: the globals {@code messages}, {@code tools}, {@code bos_token},
 * {@code add_generation_prompt}; the functions {@code raise_exception} and {@code strftime_now}; {@code tojson} as
 * Python's {@code json.dumps(…, ensure_ascii=False)} and {@code "%s" | format(x)} as Python's {@code %} operator
 * (both decide the exact prompt bytes, see {@code ../shared/llama4/TOOLS.md} §3). Templates and messages are client
 * or checkpoint input, so rendering is bounded: output size, string, list and map sizes, nesting depth, no recursive
 * macros, no includes or imports. Thread-safe: one instance serves every request.
 */
public final class ChatTemplateRenderer {
    /** Depth of nested template constructs (a template that nests deeper is refused, not run). */
    static final int MAX_RENDER_DEPTH = 10;
    static final int MAX_COLLECTION_SIZE = 100_000;
    private static final String REFUSAL = "the chat template refused the conversation: ";

    private final String template;
    private final String name;
    private final Jinjava jinjava;

    /**
     * @param template       the template text
     * @param name           where it came from, for error messages (a file, "release", …)
     * @param maxOutputChars the longest prompt text it may write
     */
    public ChatTemplateRenderer(String template, String name, long maxOutputChars) {
        // Jinja drops one newline at the end of a template (keep_trailing_newline is off in transformers).
        this.template = template.endsWith("\r\n") ? template.substring(0, template.length() - 2)
                : template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
        this.name = name;
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withMaxOutputSize(maxOutputChars)
                .withMaxStringLength(maxOutputChars)
                .withMaxListSize(MAX_COLLECTION_SIZE)
                .withMaxMapSize(MAX_COLLECTION_SIZE)
                .withMaxRenderDepth(MAX_RENDER_DEPTH)
                .withEnableRecursiveMacroCalls(false)
                .withMaxMacroRecursionDepth(MAX_RENDER_DEPTH)
                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withIterateOverMapKeys(true) // Python: iterating a dict gives its keys
                        // Off: with it, "not x is defined" reads as "(not x) is defined"; without, as in Jinja.
                        .withUseNaturalOperatorPrecedence(false)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseTrimmingForNotesAndExpressions(true) // {{- … -}} and {#- … -#} trim as in Jinja
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.setResourceLocator((fullName, encoding, interpreter) -> {
            throw new IOException("chat templates may not include or import other files (" + fullName + ")");
        });
        jinjava.getGlobalContext().registerFilter(new ToJsonFilter());
        jinjava.getGlobalContext().registerFilter(new PercentFormatFilter());
        jinjava.getGlobalContext().registerExpTest(new IterableTest());
        try {
            jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    ChatTemplateRenderer.class.getMethod("raiseException", String.class)));
            jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                    ChatTemplateRenderer.class.getMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        // Parse once now, so a template with a syntax error fails at startup rather than on the first request.
        // A template may refuse this probe conversation on purpose (raise_exception); that is no syntax error.
        try {
            render(List.of(Map.of("role", "user", "content", "x")), null, Map.of());
        } catch (ChatTemplateException e) {
            if (!e.getMessage().contains(REFUSAL)) throw e;
        }
    }

    public String name() { return name; }

    /**
     * @param messages conversation, normalised (TOOLS.md §8) and with client text escaped for the prompt encoder
     * @param tools    the OpenAI tools list as plain values, or null for none
     * @param extra    further globals ({@code bos_token} and {@code add_generation_prompt} are set here)
     * @return the prompt text
     * @throws ChatTemplateException when the template fails, raises, or exceeds a bound
     */
    public String render(List<Map<String, Object>> messages, List<Object> tools, Map<String, Object> extra) {
        Map<String, Object> bindings = new HashMap<>(extra);
        bindings.put("messages", messages);
        if (tools != null) bindings.put("tools", tools);
        bindings.putIfAbsent("bos_token", "<|begin_of_text|>");
        bindings.putIfAbsent("eos_token", "<|eot|>");
        bindings.putIfAbsent("add_generation_prompt", true);
        RenderResult result;
        try {
            result = jinjava.renderForResult(template, bindings);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template " + name + " failed: " + rootMessage(e), e);
        }
        for (TemplateError error : result.getErrors()) {
            // Warnings about undefined names are Jinja semantics (undefined is falsy); anything else stops the render:
            // a recursion or size limit hit is only a warning in Jinjava, with the output cut short.
            boolean benign = error.getSeverity() == TemplateError.ErrorType.WARNING
                    && (error.getReason() == TemplateError.ErrorReason.UNKNOWN || error.getReason() == TemplateError.ErrorReason.MISSING);
            if (!benign) {
                String message = error.getException() != null ? rootMessage(error.getException()) : error.getMessage();
                throw new ChatTemplateException("chat template " + name + " failed at line " + error.getLineno() + ": " + message);
            }
        }
        return result.getOutput();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** The template's {@code raise_exception(message)}: the conversation is refused with that message. */
    public static String raiseException(String message) {
        throw new ChatTemplateException(REFUSAL + message);
    }

    /** The template's {@code strftime_now(format)} (UTC), for the few strftime fields templates use. */
    public static String strftimeNow(String format) {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char f = format.charAt(++i);
            String pattern = switch (f) {
                case 'd' -> "dd";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'm' -> "MM";
                case 'H' -> "HH";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'A' -> "EEEE";
                case 'a' -> "EEE";
                case '%' -> "'%'";
                default -> throw new ChatTemplateException("strftime_now: unsupported field %" + f);
            };
            out.append(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(now));
        }
        return out.toString();
    }

    /** {@code value | tojson} and {@code value | tojson(indent=N)} with Python's spelling. */
    private static final class ToJsonFilter implements Filter {
        @Override public String getName() { return "tojson"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            int n = indent == null ? -1 : Integer.parseInt(indent.toString());
            if (n > 16) throw new ChatTemplateException("tojson indent " + n + " is too large");
            return PythonStyleText.toJson(var, n);
        }
    }

    /** Jinja's {@code is iterable}: strings are iterable too (the release template JSON-quotes tool results by it). */
    private static final class IterableTest implements ExpTest {
        @Override public String getName() { return "iterable"; }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof Iterable<?> || var instanceof Map<?, ?>
                    || (var != null && var.getClass().isArray());
        }
    }

    /** {@code "fmt" | format(a, b)} as Python's {@code "fmt" % (a, b)}: %s, %r, %d, %i and %%. */
    private static final class PercentFormatFilter implements Filter {
        @Override public String getName() { return "format"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            String format = String.valueOf(var);
            StringBuilder out = new StringBuilder();
            int next = 0;
            for (int i = 0; i < format.length(); i++) {
                char c = format.charAt(i);
                if (c != '%') {
                    out.append(c);
                    continue;
                }
                if (++i == format.length()) throw new ChatTemplateException("format: incomplete % directive");
                char f = format.charAt(i);
                if (f == '%') {
                    out.append('%');
                    continue;
                }
                if (next >= args.length) throw new ChatTemplateException("format: not enough arguments");
                Object a = args[next++];
                switch (f) {
                    case 's' -> out.append(PythonStyleText.str(a));
                    case 'r' -> out.append(PythonStyleText.repr(a));
                    case 'd', 'i' -> out.append(a instanceof Number num ? Long.toString(num.longValue()) : PythonStyleText.str(a));
                    default -> throw new ChatTemplateException("format: unsupported directive %" + f);
                }
            }
            return out.toString();
        }
    }
}

package io.herd.tokenizer.template;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Jinja behaviour checkpoint templates rely on (the constructs of the official Llama 4 templates), which Jinjava
 * differs from unless configured: operator precedence of {@code not … is …}, whitespace control on expressions,
 * the dropped final newline, strings being iterable, iterating a dict's keys, Python-style {@code %s}.
 */
class JinjaSemanticsTest {

    private static String render(String template, Map<String, Object> extra) {
        return new ChatTemplateRenderer(template, "t", 10_000)
                .render(List.of(Map.of("role", "system", "content", "  S  "), Map.of("role", "user", "content", "U")), null, extra);
    }

    @Test
    void precedenceAndTests() {
        assertThat(render("{{ not tools is defined }}|{{ not x is none }}|{{ 'a' is iterable }}|{{ m is mapping }}|{{ 'a' in m }}",
                Map.of("x", 1, "m", Map.of("a", 1)))).isEqualTo("true|true|true|true|true");
    }

    @Test
    void whitespaceControlAndTrailingNewline() {
        String template = "{{- bos_token }}\n{#- a note #}\n{%- if true %}\n    {{- 'A' }}\n    {{- \"B\\n\" }}\n{%- endif %}\n";
        assertThat(render(template, Map.of())).isEqualTo("<|begin_of_text|>AB\n");
    }

    @Test
    void messagesSlicesDictKeysAndPythonFormatting() {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("city", "Rome");
        args.put("days", 3L);
        args.put("ok", true);
        args.put("fields", List.of("a", "b's"));
        args.put("note", null);
        String template = "{%- set rest = messages[1:] %}{{- messages[0].content | trim }}{{- rest | length }}"
                + "{%- for k in args %}{{- ' ' + k + '=' + ('%s' | format(args[k])) }}{%- endfor %}"
                + "{{- ' ' ~ (args | tojson) }}";
        assertThat(render(template, Map.of("args", args))).isEqualTo(
                "S1 city=Rome days=3 ok=True fields=['a', \"b's\"] note=None"
                        + " {\"city\": \"Rome\", \"days\": 3, \"ok\": true, \"fields\": [\"a\", \"b's\"], \"note\": null}");
    }

    @Test
    void strftimeNowAndRaise() {
        assertThat(render("{{ strftime_now('%d %b %Y') }}", Map.of())).matches("\\d\\d [A-Z][a-z]{2} \\d{4}");
        ChatTemplateRenderer refusing = new ChatTemplateRenderer("{{ raise_exception('nope') }}", "t", 1000); // parses
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> refusing.render(List.of(), null, Map.of()))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("refused").hasMessageContaining("nope");
    }
}

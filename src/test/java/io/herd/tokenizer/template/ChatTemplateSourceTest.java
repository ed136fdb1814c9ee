package io.herd.tokenizer.template;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChatTemplateSourceTest {
    @TempDir
    Path dir;

    private static String render(ChatTemplateRenderer r) {
        return r.render(List.of(Map.of("role", "user", "content", "hi")), null, Map.of());
    }

    @Test
    void namedTemplatesFilesAndTheCheckpointsOwn() throws Exception {
        assertThat(ChatTemplateSource.resolve("release", dir, 1 << 20).name()).isEqualTo("release");
        assertThat(render(ChatTemplateSource.resolve(" pythonic ", dir, 1 << 20)))
                .isEqualTo("<|begin_of_text|><|header_start|>user<|header_end|>\n\nhi<|eot|><|header_start|>assistant<|header_end|>\n\n");
        assertThat(ChatTemplateSource.resolve(null, dir, 1 << 20)).as("no template in the checkpoint").isNull();

        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\":[{\"name\":\"tool_use\",\"template\":\"T\"},{\"name\":\"default\",\"template\":\"D{{ messages[0].content }}\"}]}");
        assertThat(render(ChatTemplateSource.resolve("", dir, 1 << 20))).isEqualTo("Dhi");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\":\"C{{ messages | length }}\"}");
        assertThat(render(ChatTemplateSource.resolve(null, dir, 1 << 20))).isEqualTo("C1");
        Files.writeString(dir.resolve("chat_template.jinja"), "J{{ messages[0].role }}\n");
        assertThat(render(ChatTemplateSource.resolve(null, dir, 1 << 20))).as("chat_template.jinja wins").isEqualTo("Juser");

        Path file = dir.resolve("mine.jinja");
        Files.writeString(file, "F");
        assertThat(render(ChatTemplateSource.resolve(file.toString(), dir, 1 << 20))).isEqualTo("F");
    }

    @Test
    void aMissingOrBrokenTemplateIsAClearError() throws Exception {
        assertThatThrownBy(() -> ChatTemplateSource.resolve("/no/such/template.jinja", dir, 1 << 20))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("release, pythonic");
        Files.writeString(dir.resolve("chat_template.jinja"), "{% if %}");
        assertThatThrownBy(() -> ChatTemplateSource.resolve(null, dir, 1 << 20)).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("chat_template.jinja");
    }
}

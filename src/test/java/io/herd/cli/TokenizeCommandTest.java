package io.herd.cli;

import io.herd.tokenizer.DemoTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.herd.cli.GenerateCommandTest.herd;
import static org.assertj.core.api.Assertions.assertThat;

class TokenizeCommandTest {

    @Test
    void encodesTextAsPlainTextAndDecodesIds() {
        String model = GenerateCommandTest.sharedDir().resolve("llama4").toString();
        assertThat(herd("tokenize", "--model", model, "--text", "Hello, world!", "--bos").out().strip())
                .isEqualTo("200000,19873,24,3817,13");
        assertThat(herd("tokenize", "--model", model, "--text", "<|begin_of_text|>").out().strip())
                .isEqualTo("40,104,5286,10207,9786,159276");
        assertThat(herd("tokenize", "--model", model, "--decode", "19873,24,3817,13,200008").out())
                .isEqualTo("Hello, world!<|eot|>\n");
        assertThat(herd("tokenize", "--model", model, "--text", "Hi there", "--pieces").out())
                .isEqualTo("25181\tHi\n1609\t there\n");
    }

    @Test
    void encodesAChatFileWithTheDemoTokenizer(@TempDir Path dir) throws Exception {
        DemoTokenizer.write(dir);
        Path chat = dir.resolve("chat.json");
        Files.writeString(chat, "[{\"role\": \"user\", \"content\": \"Hello!\"}]");
        GenerateCommandTest.Run run = herd("tokenize", "--model", dir.toString(), "--chat", chat.toString());
        assertThat(run.status()).as(run.err()).isZero();
        assertThat(run.out()).startsWith(DemoTokenizer.N_BASE + "," + (DemoTokenizer.N_BASE + 5) + ",");
        assertThat(herd("tokenize", "--model", dir.toString(), "--decode", run.out().strip()).out())
                .isEqualTo("<|begin_of_text|><|header_start|>user<|header_end|>\n\nHello!<|eot|>"
                        + "<|header_start|>assistant<|header_end|>\n\n\n");
    }

    @Test
    void reportsBadUsageAndMissingTokenizer(@TempDir Path dir) {
        assertThat(herd("tokenize", "--text", "x").status()).isEqualTo(2);
        GenerateCommandTest.Run none = herd("tokenize", "--model", dir.toString(), "--text", "x");
        assertThat(none.status()).isEqualTo(1);
        assertThat(none.err()).contains("no tokenizer.model or tokenizer.json");
    }
}

package io.herd.cli;

import io.herd.cli.gguf.GgufWriter;
import io.herd.model.Llama4Config;
import io.herd.tokenizer.DemoTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

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

    /**
     * A GGUF's own vocabulary: the bench's synthetic byte-level one (ids 0–255 the bytes, then pairs "xy" from merges
     * "x y" in byte order), so bytes 1, 2 merge into pair 1·256 + 2, id 256 + 258; a truncated file fails cleanly.
     */
    @Test
    void readsTheVocabularyOfAGgufFile(@TempDir Path dir) throws Exception {
        Llama4Config c = new Llama4Config(64, 1, 4, 2, 16, 32, 48, 4, 1, new boolean[] {true}, new boolean[] {true}, true,
                8192, true, 8192f, 0.1f, 1e-5f, 500000f, null, 1000, 4096, 990, new int[] {991}, 999);
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama4");
        BenchGguf.tokenizer(w, c);
        Path file = dir.resolve("vocab.gguf");
        w.write(file);
        GenerateCommandTest.Run run = herd("tokenize", "--model", file.toString(), "--text", "\u0001\u0002a", "--bos");
        assertThat(run.status()).as(run.err()).isZero();
        assertThat(run.out().strip()).isEqualTo("990,514,97");
        assertThat(herd("tokenize", "--model", file.toString(), "--decode", "514,97").out()).isEqualTo("\u0001\u0002a\n");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        GenerateCommandTest.Run truncated = herd("tokenize", "--model", file.toString(), "--text", "a");
        assertThat(truncated.status()).isEqualTo(1);
        assertThat(truncated.err()).contains("vocab.gguf").contains("truncated");
    }

    @Test
    void reportsBadUsageAndMissingTokenizer(@TempDir Path dir) {
        assertThat(herd("tokenize", "--text", "x").status()).isEqualTo(2);
        GenerateCommandTest.Run none = herd("tokenize", "--model", dir.toString(), "--text", "x");
        assertThat(none.status()).isEqualTo(1);
        assertThat(none.err()).contains("no tokenizer.model or tokenizer.json");
    }
}

package io.herd.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DemoTokenizerTest {

    @Test
    void writesTheSameLoadableFileEveryTime(@TempDir Path dir) throws Exception {
        Path file = DemoTokenizer.write(dir);
        byte[] written = Files.readAllBytes(file);
        assertThat(DemoTokenizer.tokenizerModel()).isEqualTo(written);
        // The demo model's token ids depend on these bytes: a change to the corpus or the training shows up here.
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(written)))
                .isEqualTo("cd78edba978faceb6dce7830c7f4485358f23dab659ff206bfea9b51f57c2741");
        assertThat(Files.readAllLines(file)).hasSize(DemoTokenizer.N_BASE);

        Tokenizer tokenizer = Tokenizer.load(dir);
        assertThat(tokenizer.nBase()).isEqualTo(DemoTokenizer.N_BASE);
        assertThat(tokenizer.vocabSize()).isEqualTo(DemoTokenizer.VOCAB_SIZE);
        assertThat(tokenizer.bosId()).isEqualTo(DemoTokenizer.N_BASE);
        assertThat(tokenizer.stopTokenIds()).containsExactly(DemoTokenizer.N_BASE + 1, DemoTokenizer.N_BASE + 7,
                DemoTokenizer.N_BASE + 8);
    }

    @Test
    void encodesAnyTextCompactlyAndChatFormatWorks(@TempDir Path dir) {
        DemoTokenizer.write(dir);
        Tokenizer tokenizer = Tokenizer.load(dir);
        String english = "Hello! Tell me about llamas. The answer streams out one token at a time.";
        int[] ids = tokenizer.encode(english);
        assertThat(tokenizer.decode(ids)).isEqualTo(english);
        assertThat(ids.length).as("learned merges keep common words whole").isLessThan(english.length() / 3);
        String other = "naïve café 🦙 こんにちは <|eot|> 12345";
        assertThat(tokenizer.decode(tokenizer.encode(other))).isEqualTo(other);

        int[] prompt = new ChatFormat(tokenizer).encodeDialogPrompt(List.of(ChatMessage.user("Hi")));
        assertThat(prompt[0]).isEqualTo(tokenizer.bosId());
        assertThat(tokenizer.decode(prompt))
                .isEqualTo("<|begin_of_text|><|header_start|>user<|header_end|>\n\nHi<|eot|>"
                        + "<|header_start|>assistant<|header_end|>\n\n");
    }

    @Test
    void learnsTheMostFrequentPairFirst() {
        byte[][] tokens = DemoTokenizer.learn("ab ab ab cd", 258);
        assertThat(new String(tokens[256])).isEqualTo("ab");
        assertThat(new String(tokens[257])).isEqualTo(" ab");
    }
}

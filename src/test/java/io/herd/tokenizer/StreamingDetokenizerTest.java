package io.herd.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class StreamingDetokenizerTest {

    private static int byteToken(Tokenizer tokenizer, int value) {
        for (int id = 0; id < tokenizer.nBase(); id++) {
            byte[] b = tokenizer.bytes(id);
            if (b.length == 1 && (b[0] & 0xFF) == value) return id;
        }
        throw new AssertionError("no token for byte " + value);
    }

    @Test
    void holdsBackAnEmojiUntilItsLastByte() {
        Tokenizer tokenizer = SharedFiles.tiktoken();
        StreamingDetokenizer stream = new StreamingDetokenizer(tokenizer, false);
        byte[] llama = "🦙".getBytes(StandardCharsets.UTF_8);
        assertThat(stream.append(tokenizer.encode("a")[0])).isEqualTo("a");
        for (int i = 0; i < llama.length - 1; i++) assertThat(stream.append(byteToken(tokenizer, llama[i] & 0xFF))).isEmpty();
        assertThat(stream.append(byteToken(tokenizer, llama[3] & 0xFF))).isEqualTo("🦙");
        assertThat(stream.flush()).isEmpty();
    }

    @Test
    void streamedTextEqualsDecodedTextWithoutBrokenCharacters() {
        Tokenizer tokenizer = SharedFiles.tiktoken();
        String text = "emoji: 🦙🔥 café naïve 👨‍👩‍👧 🇫🇷 こんにちは世界 हिन्दी";
        int[] ids = tokenizer.encode(text);
        StreamingDetokenizer stream = new StreamingDetokenizer(tokenizer, false);
        StringBuilder out = new StringBuilder();
        int emptyPieces = 0;
        for (int id : ids) {
            String piece = stream.append(id);
            assertThat(piece).doesNotContain("\uFFFD");
            if (piece.isEmpty()) emptyPieces++;
            out.append(piece);
        }
        out.append(stream.flush());
        assertThat(out.toString()).isEqualTo(text);
        assertThat(emptyPieces).as("some token ends inside a character").isPositive();
    }

    @Test
    void invalidBytesBecomeReplacementCharactersAndFlushReleasesATail() {
        Tokenizer tokenizer = SharedFiles.tiktoken();
        StreamingDetokenizer stream = new StreamingDetokenizer(tokenizer, false);
        assertThat(stream.append(byteToken(tokenizer, 0xFF))).isEqualTo("\uFFFD");
        assertThat(stream.append(byteToken(tokenizer, 0xE2))).isEmpty();
        assertThat(stream.append(byteToken(tokenizer, 0x82))).isEmpty();
        assertThat(stream.append(byteToken(tokenizer, 'x'))).isEqualTo("\uFFFDx");
        assertThat(stream.append(byteToken(tokenizer, 0xF0))).isEmpty();
        assertThat(stream.flush()).isEqualTo("\uFFFD");
        // 0xED 0xA0 starts a surrogate, which is never valid: emitted at once.
        assertThat(stream.append(byteToken(tokenizer, 0xED))).isEmpty();
        assertThat(stream.append(byteToken(tokenizer, 0xA0))).isNotEmpty().doesNotContain("\u00A0");
    }

    @Test
    void specialTokensAreTextUnlessSkipped() {
        Tokenizer tokenizer = SharedFiles.tiktoken();
        int eot = tokenizer.specialTokenId("<|eot|>");
        assertThat(new StreamingDetokenizer(tokenizer, false).append(eot)).isEqualTo("<|eot|>");
        assertThat(new StreamingDetokenizer(tokenizer, true).append(eot)).isEmpty();
    }

    @Test
    void completePrefixStopsBeforeAnUnfinishedCharacter() {
        byte[] euro = "a€".getBytes(StandardCharsets.UTF_8); // 61 E2 82 AC
        assertThat(StreamingDetokenizer.completePrefix(euro, 1)).isEqualTo(1);
        assertThat(StreamingDetokenizer.completePrefix(euro, 2)).isEqualTo(1);
        assertThat(StreamingDetokenizer.completePrefix(euro, 3)).isEqualTo(1);
        assertThat(StreamingDetokenizer.completePrefix(euro, 4)).isEqualTo(4);
    }
}

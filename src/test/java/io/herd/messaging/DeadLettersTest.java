package io.herd.messaging;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLettersTest {

    @Test
    void headerValuesAreCutAtACharacterBoundary() {
        assertThat(DeadLetters.cut("short", 1024)).isEqualTo("short".getBytes(StandardCharsets.UTF_8));
        byte[] cut = DeadLetters.cut("x".repeat(5_000_000), DeadLetters.MAX_HEADER_BYTES);
        assertThat(cut).hasSize(DeadLetters.MAX_HEADER_BYTES);
        // 3-byte characters: 1024 is not a multiple of 3, so the last one must be dropped whole.
        byte[] cjk = DeadLetters.cut("漢".repeat(1000), DeadLetters.MAX_HEADER_BYTES);
        assertThat(cjk.length).isEqualTo(1023);
        assertThat(new String(cjk, StandardCharsets.UTF_8)).isEqualTo("漢".repeat(341));
    }

    @Test
    void reasonHeadersAreBounded() {
        assertThat(DeadLetters.header("herd-dlq-message", "y".repeat(10_000)).value()).hasSize(DeadLetters.MAX_HEADER_BYTES);
        assertThat(DeadLetters.header("herd-dlq-message", null).value()).isEmpty();
    }
}

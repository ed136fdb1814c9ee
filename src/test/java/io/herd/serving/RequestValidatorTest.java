package io.herd.serving;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestValidatorTest {

    private static final long NOW_MS = 1_000_000L;
    private final RequestValidator validator = new RequestValidator(
            new ServingLimits(32, 20, 8, Set.of("demo"), 4), new CharCodec(), () -> NOW_MS, () -> 5_000L);

    static CompletionRequest request(String id, String prompt) {
        return new CompletionRequest(id, null, prompt, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null);
    }

    static CompletionRequest withMaxTokens(CompletionRequest r, Integer maxTokens) {
        return new CompletionRequest(r.id(), r.model(), r.prompt(), r.messages(), maxTokens, r.temperature(), r.topP(),
                r.topK(), r.minP(), r.seed(), r.stop(), r.logprobs(), r.topLogprobs(), r.priority(), r.deadlineMs(),
                r.replyTo(), r.cacheSalt(), r.metadata());
    }

    @Test
    void buildsTheEngineRequestWithDefaults() {
        PreparedRequest p = validator.prepare(request("r1", "hi"));
        assertThat(p.engineRequest().promptTokens()).containsExactly(CharCodec.BOS, CharCodec.id('h'), CharCodec.id('i'));
        assertThat(p.engineRequest().sampling().maxTokens()).isEqualTo(8);
        assertThat(p.engineRequest().sampling().temperature()).isEqualTo(1f);
        assertThat(p.engineRequest().sampling().stopTokenIds()).containsExactly(CharCodec.EOS);
        assertThat(p.engineRequest().deadlineNanos()).isEqualTo(Long.MAX_VALUE);
        assertThat(p.engineRequest().sampling().seed())
                .as("a missing seed is derived from the id, so a re-run samples the same tokens")
                .isEqualTo(validator.prepare(request("r1", "hi")).engineRequest().sampling().seed())
                .isNotEqualTo(validator.prepare(request("r2", "hi")).engineRequest().sampling().seed());
    }

    @Test
    void defaultMaxTokensIsCappedByTheRemainingContext() {
        PreparedRequest p = validator.prepare(request("r", "x".repeat(28)));
        assertThat(p.engineRequest().sampling().maxTokens()).isEqualTo(32 - 29);
    }

    @Test
    void rejectsEachUnservableKindWithItsCode() {
        assertCode(request(null, "hi"), "missing_id");
        assertCode(request("r", null), "missing_prompt");
        assertCode(request("r", ""), "missing_prompt");
        assertCode(request("r", "x".repeat(31)), "prompt_too_long");
        assertCode(withMaxTokens(request("r", "hi"), 0), "invalid_max_tokens");
        assertCode(withMaxTokens(request("r", "hi"), 21), "invalid_max_tokens");
        assertCode(withMaxTokens(request("r", "x".repeat(20)), 20), "invalid_max_tokens");
        assertCode(new CompletionRequest("r", "llama-9", "hi", null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null), "unknown_model");
        assertCode(new CompletionRequest("r", null, "hi", null, null, 3f, null, null, null, null, null, null, null,
                null, null, null, null, null), "invalid_parameter");
        assertCode(new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null, null, null, 21,
                null, null, null, null, null), "invalid_parameter");
        assertCode(new CompletionRequest("r", null, "hi", List.of(new RequestMessage("user", "x")), null, null, null,
                null, null, null, null, null, null, null, null, null, null, null), "invalid_request");
        assertCode(new CompletionRequest("r", null, null, List.of(new RequestMessage("wizard", "x")), null, null, null,
                null, null, null, null, null, null, null, null, null, null, null), "invalid_parameter");
    }

    @Test
    void everyFieldIsBounded() {
        assertCode(new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null, null, null, null,
                Integer.MIN_VALUE, null, null, null, null), "invalid_parameter");
        assertCode(new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null, null, null, null,
                RequestValidator.MAX_PRIORITY + 1, null, null, null, null), "invalid_parameter");
        assertCode(new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null,
                List.of("s".repeat(RequestValidator.MAX_STOP_BYTES + 1)), null, null, null, null, null, null, null),
                "invalid_parameter");
        assertCode(new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null, null, null, null,
                null, null, null, "c".repeat(RequestValidator.MAX_CACHE_SALT_LENGTH + 1), null), "invalid_parameter");
        assertCode(new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null, null, null, null,
                null, Long.MAX_VALUE, null, null, null), "invalid_parameter");
        List<RequestMessage> many = java.util.Collections.nCopies(RequestValidator.MAX_MESSAGES + 1, new RequestMessage("user", "x"));
        assertCode(new CompletionRequest("r", null, null, many, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null), "invalid_parameter");
        // The bounds themselves are accepted.
        assertThat(validator.prepare(new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null,
                List.of("s".repeat(RequestValidator.MAX_STOP_BYTES)), null, null, RequestValidator.MIN_PRIORITY,
                NOW_MS + RequestValidator.MAX_DEADLINE_AHEAD_MS, null, "c".repeat(RequestValidator.MAX_CACHE_SALT_LENGTH),
                null)).engineRequest().priority()).isEqualTo(RequestValidator.MIN_PRIORITY);
    }

    @Test
    void aPassedDeadlineIsAnErrorButNotADeadLetter() {
        CompletionRequest r = new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null, null,
                null, null, null, NOW_MS - 1, null, null, null);
        assertThatThrownBy(() -> validator.prepare(r)).isInstanceOfSatisfying(RequestRejectedException.class, e -> {
            assertThat(e.code()).isEqualTo("deadline_exceeded");
            assertThat(e.deadLetter()).isFalse();
        });
        CompletionRequest future = new CompletionRequest("r", null, "hi", null, null, null, null, null, null, null,
                null, null, null, null, NOW_MS + 250, null, null, null);
        assertThat(validator.prepare(future).engineRequest().deadlineNanos()).isEqualTo(5_000L + 250_000_000L);
    }

    @Test
    void chatMessagesGoThroughTheChatFormat() {
        CompletionRequest r = new CompletionRequest("r", "demo", null, List.of(new RequestMessage("user", "yo")), 4, 0f,
                null, null, null, 7L, List.of("\n"), true, 2, 3, null, null, "tenant", null);
        PreparedRequest p = validator.prepare(r);
        assertThat(p.engineRequest().promptTokens()).hasSize(1 + "<user>yo<assistant>".length());
        assertThat(p.engineRequest().priority()).isEqualTo(3);
        assertThat(p.engineRequest().cacheSalt()).isEqualTo("tenant");
        assertThat(p.engineRequest().sampling().topLogprobs()).isEqualTo(2);
        assertThat(p.stop()).containsExactly("\n");
    }

    private void assertCode(CompletionRequest r, String code) {
        assertThatThrownBy(() -> validator.prepare(r)).as(code)
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.deadLetter()).isTrue();
                });
    }
}

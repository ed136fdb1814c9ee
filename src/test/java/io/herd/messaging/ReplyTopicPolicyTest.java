package io.herd.messaging;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class ReplyTopicPolicyTest {

    final ReplyTopicPolicy policy = new ReplyTopicPolicy(Pattern.compile("herd\\.responses(\\..+)?"), "herd.responses",
            Set.of("herd.requests", "herd.control", "herd.attempts", "herd.requests.dlq"));

    @Test
    void tenantTopicsUnderTheAllowedPatternQualify() {
        assertThat(policy.allows("herd.responses")).isTrue();
        assertThat(policy.allows("herd.responses.team-a")).isTrue();
    }

    @Test
    void internalAndForeignTopicsNeverQualify() {
        for (String t : new String[] {"herd.requests", "herd.control", "herd.attempts", "herd.requests.dlq",
                "__consumer_offsets", "__transaction_state", "other.team.replies", "herd.responsesX", "herd.responses."}) {
            assertThat(policy.refusal(t)).as(t).isNotNull();
        }
    }

    @Test
    void anInternalTopicIsRefusedEvenWhenThePatternWouldAllowIt() {
        ReplyTopicPolicy lax = new ReplyTopicPolicy(Pattern.compile(".*"), "r", Set.of("herd.attempts"));
        assertThat(lax.refusal("herd.attempts")).contains("own topics");
        assertThat(lax.refusal("__consumer_offsets")).contains("internal");
        assertThat(lax.refusal("a b")).contains("legal");
        assertThat(lax.refusal("x".repeat(250))).contains("legal");
        assertThat(lax.allows("anything.else")).isTrue();
    }

    @Test
    void theDefaultResponsesTopicAlwaysQualifies() {
        ReplyTopicPolicy strict = new ReplyTopicPolicy(Pattern.compile("nothing"), "p.herd.responses", Set.of());
        assertThat(strict.allows("p.herd.responses")).isTrue();
        assertThat(strict.allows("p.herd.responses.x")).isFalse();
    }
}

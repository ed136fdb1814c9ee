package io.herd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.serving.CharCodec;
import io.herd.serving.StreamEvent;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Logprobs in OpenAI's chat and completions shapes, and prompt logprobs in vLLM's. */
class OpenAiLogprobsTest {
    final ObjectMapper mapper = new ObjectMapper();
    final int a = CharCodec.id('a'), b = CharCodec.id('b'), e = CharCodec.id('é');

    StreamEvent.Delta delta(int index) {
        return new StreamEvent.Delta("ab", new int[] {a, b}, List.of(
                new TokenLogprobs(-0.25f, new int[] {a, e}, new float[] {-0.25f, -2f}),
                new TokenLogprobs(-1f, new int[] {e, b}, new float[] {-0.5f, -1f})), index);
    }

    @Test
    void chatEntriesHaveTokenLogprobBytesAndTopLogprobs() {
        OpenAiLogprobs r = new OpenAiLogprobs(mapper, new CharCodec(), true, 2);
        r.add(1, delta(1));
        JsonNode content = r.whole(1).path("content");
        assertThat(content).hasSize(2);
        assertThat(content.get(0).path("token").asText()).isEqualTo("a");
        assertThat(content.get(0).path("logprob").asDouble()).isEqualTo(-0.25);
        assertThat(content.get(0).path("bytes").get(0).asInt()).isEqualTo('a');
        JsonNode top = content.get(0).path("top_logprobs");
        assertThat(top.get(1).path("token").asText()).isEqualTo("é");
        assertThat(top.get(1).path("bytes")).hasSize(2);
        assertThat(r.whole(0).path("content")).as("a choice without tokens").isEmpty();
    }

    @Test
    void completionsListsTokensLogprobsTopMapsAndOffsetsAcrossChunks() {
        OpenAiLogprobs r = new OpenAiLogprobs(mapper, new CharCodec(), false, 1);
        JsonNode first = r.ofDelta(0, delta(0));
        JsonNode second = r.ofDelta(0, delta(0));
        assertThat(first.path("tokens").get(1).asText()).isEqualTo("b");
        assertThat(first.path("token_logprobs").get(1).asDouble()).isEqualTo(-1.0);
        assertThat(first.path("top_logprobs").get(1).path("é").asDouble()).isEqualTo(-0.5);
        assertThat(first.path("text_offset").get(0).asInt()).isZero();
        assertThat(first.path("text_offset").get(1).asInt()).isEqualTo(1);
        assertThat(second.path("text_offset").get(0).asInt()).as("offsets continue over the stream").isEqualTo(2);
    }

    @Test
    void promptLogprobsAreKeyedByTokenIdWithRankAndDecodedToken() {
        OpenAiLogprobs r = new OpenAiLogprobs(mapper, new CharCodec(), true, 1);
        JsonNode p = r.prompt(List.of(new PromptTokenLogprob(b, -3f, 4, new int[] {a}, new float[] {-0.1f})));
        assertThat(p).hasSize(2);
        assertThat(p.get(0).isNull()).isTrue();
        assertThat(p.get(1).path(String.valueOf(b)).path("rank").asInt()).isEqualTo(4);
        assertThat(p.get(1).path(String.valueOf(b)).path("decoded_token").asText()).isEqualTo("b");
        assertThat(p.get(1).path(String.valueOf(a)).path("rank").asInt()).isEqualTo(1);
    }
}

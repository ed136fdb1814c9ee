package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.serving.StreamEvent;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The n-choice and prompt-logprob parts of response events, as kafka-topics/schemas/response.schema.json has them. */
class EventCodecChoicesTest {
    final ObjectMapper mapper = new ObjectMapper();
    final EventCodec codec = new EventCodec(mapper);
    final StreamEvent.Timings timings = new StreamEvent.Timings(0, 1_000_000, 2_000_000, 3_000_000, new long[0]);

    @Test
    void aDeltaOfAChoiceCarriesItsIndexAndASingleChoiceDeltaNone() throws Exception {
        JsonNode indexed = mapper.readTree(codec.encode("r", 1, 1, new StreamEvent.Delta("a", new int[] {5}, null, 2)));
        assertThat(indexed.path("index").asInt()).isEqualTo(2);
        JsonNode single = mapper.readTree(codec.encode("r", 1, 1, new StreamEvent.Delta("a", new int[] {5}, null)));
        assertThat(single.has("index")).isFalse();
    }

    @Test
    void doneNamesEveryChoiceAndCarriesPromptLogprobsWithANullFirst() throws Exception {
        var done = new StreamEvent.Done("length", new StreamEvent.Usage(4, 5, 0), timings,
                List.of(new StreamEvent.ChoiceEnd(0, "length", 3, 0), new StreamEvent.ChoiceEnd(1, "stop", 2, 3)),
                List.of(new PromptTokenLogprob(7, -1.5f, 3, new int[] {9}, new float[] {-0.5f})), null);
        JsonNode o = mapper.readTree(codec.encode("r", 9, 1, done));
        assertThat(o.path("choices")).hasSize(2);
        assertThat(o.path("choices").get(1).path("finish_reason").asText()).isEqualTo("stop");
        assertThat(o.path("choices").get(1).path("cached_tokens").asInt()).isEqualTo(3);
        JsonNode lps = o.path("prompt_logprobs");
        assertThat(lps).hasSize(2);
        assertThat(lps.get(0).isNull()).isTrue();
        assertThat(lps.get(1).path("token_id").asInt()).isEqualTo(7);
        assertThat(lps.get(1).path("rank").asInt()).isEqualTo(3);
        assertThat(lps.get(1).path("top_logprobs").get(0).path("token_id").asInt()).isEqualTo(9);
        JsonNode plain = mapper.readTree(codec.encode("r", 9, 1, new StreamEvent.Done("stop", new StreamEvent.Usage(4, 5, 0), timings)));
        assertThat(plain.has("choices")).isFalse();
        assertThat(plain.has("prompt_logprobs")).isFalse();
    }

    @Test
    void nUserAndPromptLogprobsAreDecodedStrictly() {
        RequestCodec requests = new RequestCodec(mapper);
        var r = requests.decode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"n\":3,\"user\":\"u-1\",\"prompt_logprobs\":2}");
        assertThat(r.choices()).isEqualTo(3);
        assertThat(r.user()).isEqualTo("u-1");
        assertThat(r.promptLogprobs()).isEqualTo(2);
        assertThat(requests.decode("a", "{\"id\":\"a\",\"prompt\":\"x\"}").choices()).isEqualTo(1);
        var parts = requests.decode("a", "{\"id\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hel\"},"
                + "{\"type\":\"text\",\"text\":\"lo\"}]}]}");
        assertThat(parts.messages().getFirst().content()).as("text parts are joined in order").isEqualTo("Hello");
    }
}

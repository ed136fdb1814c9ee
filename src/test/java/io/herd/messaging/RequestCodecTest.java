package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.serving.CompletionRequest;
import io.herd.serving.RequestRejectedException;
import io.herd.serving.StreamEvent;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestCodecTest {

    private final ObjectMapper mapper = new ObjectMapper();
    private final RequestCodec codec = new RequestCodec(mapper);

    @Test
    void decodesEveryField() {
        CompletionRequest r = codec.decode("r1", """
                {"id":"r1","model":"demo","messages":[{"role":"user","content":"hi"}],"max_tokens":5,
                 "temperature":0.5,"top_p":0.9,"top_k":40,"min_p":0.05,"seed":42,"stop":["\\n","END"],"logprobs":true,
                 "top_logprobs":3,"priority":-1,"deadline_ms":1700000000000,"reply_to":"my.replies",
                 "cache_salt":"t1","metadata":{"user":"u"}}""");
        assertThat(r.id()).isEqualTo("r1");
        assertThat(r.messages()).hasSize(1);
        assertThat(r.maxTokens()).isEqualTo(5);
        assertThat(r.temperature()).isEqualTo(0.5f);
        assertThat(r.topK()).isEqualTo(40);
        assertThat(r.seed()).isEqualTo(42L);
        assertThat(r.stop()).containsExactly("\n", "END");
        assertThat(r.topLogprobs()).isEqualTo(3);
        assertThat(r.priority()).isEqualTo(-1);
        assertThat(r.deadlineMs()).isEqualTo(1_700_000_000_000L);
        assertThat(r.replyTo()).isEqualTo("my.replies");
        assertThat(r.metadata()).containsEntry("user", "u");
    }

    @Test
    void theKeyStandsInForAMissingIdAndAStopStringMayBeSingle() {
        CompletionRequest r = codec.decode("k", "{\"prompt\":\"x\",\"stop\":\"END\"}");
        assertThat(r.id()).isEqualTo("k");
        assertThat(r.stop()).containsExactly("END");
    }

    @Test
    void eachMalformedKindHasItsCode() {
        assertCode(null, "not json", "invalid_json");
        assertCode(null, "[1,2]", "invalid_json");
        assertCode(null, null, "invalid_json");
        assertCode("a", "{\"id\":\"a\",\"prompt\":3}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"max_tokens\":\"10\"}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"max_tokens\":1.5}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"temperature\":\"hot\"}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"logprobs\":1}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"stop\":[1]}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"messages\":[{\"role\":\"user\"}]}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"best_of\":2}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"n\":\"2\"}", "invalid_type");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"user\":7}", "invalid_type");
        assertCode("a", "{\"id\":\"b\",\"prompt\":\"x\"}", "invalid_request");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"reply_to\":\"bad topic!\"}", "invalid_parameter");
        assertCode(null, "{\"id\":\"a\",\"prompt\":\"x\"}", "invalid_request");
        assertCode("a", "{\"id\":\"a\",\"prompt\":\"x\",\"metadata\":{\"blob\":\"" + "m".repeat(RequestCodec.MAX_METADATA_BYTES)
                + "\"}}", "invalid_parameter");
    }

    @Test
    void aKeylessRecordIsRefusedEvenWithAnId() {
        // Without a key the producer's partitioner picks any partition: one id could run on two pods at once.
        assertThatThrownBy(() -> codec.decode(null, "{\"id\":\"solo\",\"prompt\":\"x\"}"))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.getMessage()).contains("no key"));
    }

    @Test
    void rejectionMessagesQuotingInputAreBounded() {
        String huge = "k".repeat(100_000);
        assertThatThrownBy(() -> codec.decode(huge, "{\"id\":\"other\",\"prompt\":\"x\"}"))
                .isInstanceOfSatisfying(RequestRejectedException.class,
                        e -> assertThat(e.getMessage().length()).isLessThanOrEqualTo(RequestRejectedException.MAX_MESSAGE_LENGTH + 1));
    }

    @Test
    void recoversWhatItCanToAddressAnErrorEvent() {
        assertThat(codec.recover("k", "not json")).isEqualTo(new RequestCodec.Recovered("k", null));
        assertThat(codec.recover(null, "{\"id\":\"x\",\"reply_to\":\"r.t\",\"prompt\":1}"))
                .isEqualTo(new RequestCodec.Recovered("x", "r.t"));
        assertThat(codec.recover(null, "{}")).isEqualTo(new RequestCodec.Recovered(null, null));
    }

    @Test
    void encodesEventsWithTheContractsFieldNames() throws Exception {
        EventCodec events = new EventCodec(mapper);
        JsonNode started = mapper.readTree(events.encode("r", 0, 2, new StreamEvent.Started(1.25, 7, 4)));
        assertThat(started.path("type").asText()).isEqualTo("started");
        assertThat(started.path("attempt").asInt()).isEqualTo(2);
        assertThat(started.path("cached_tokens").asInt()).isEqualTo(4);
        JsonNode delta = mapper.readTree(events.encode("r", 1, 1, new StreamEvent.Delta("hi", new int[] {5, 6},
                List.of(new TokenLogprobs(-0.5f, new int[] {5}, new float[] {-0.5f}), new TokenLogprobs(-1f, null, null)))));
        assertThat(delta.path("token_ids").toString()).isEqualTo("[5,6]");
        assertThat(delta.path("logprobs").get(0).path("top_logprobs").get(0).path("token_id").asInt()).isEqualTo(5);
        JsonNode done = mapper.readTree(events.encode("r", 2, 1, new StreamEvent.Done("length",
                new StreamEvent.Usage(7, 2, 4), new StreamEvent.Timings(0, 1_000_000, 2_000_000, 3_500_000, new long[] {1_500_000}))));
        assertThat(done.path("finish_reason").asText()).isEqualTo("length");
        assertThat(done.path("usage").path("completion_tokens").asInt()).isEqualTo(2);
        assertThat(done.path("timings").path("ttft_ms").asDouble()).isEqualTo(2.0);
        assertThat(done.path("timings").path("itl_ms").get(0).asDouble()).isEqualTo(1.5);
        JsonNode error = mapper.readTree(events.encode("r", 0, 1, new StreamEvent.Error("prompt_too_long", "m")));
        assertThat(error.path("code").asText()).isEqualTo("prompt_too_long");
    }

    private void assertCode(String key, String payload, String code) {
        assertThatThrownBy(() -> codec.decode(key, payload)).as(payload)
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo(code));
    }
}

package io.herd.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.serving.StreamEvent;

/** Encodes response events (kafka-topics/schemas/response.schema.json). */
public final class EventCodec {

    private final ObjectMapper mapper;

    public EventCodec(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public String encode(String id, int seq, int attempt, StreamEvent event) {
        ObjectNode o = mapper.createObjectNode();
        o.put("type", switch (event) {
            case StreamEvent.Started s -> "started";
            case StreamEvent.Delta d -> "delta";
            case StreamEvent.Done d -> "done";
            case StreamEvent.Error e -> "error";
        });
        o.put("id", id);
        o.put("seq", seq);
        o.put("attempt", attempt);
        switch (event) {
            case StreamEvent.Started s -> {
                o.put("queue_ms", round(s.queueMs()));
                o.put("prompt_tokens", s.promptTokens());
                o.put("cached_tokens", s.cachedTokens());
                if (s.imageTokens() > 0) o.put("image_tokens", s.imageTokens());
            }
            case StreamEvent.Delta d -> {
                if (d.index() != null) o.put("index", d.index());
                o.put("text", d.text());
                ArrayNode ids = o.putArray("token_ids");
                for (int t : d.tokenIds()) ids.add(t);
                if (d.logprobs() != null) {
                    ArrayNode lps = o.putArray("logprobs");
                    for (int i = 0; i < d.logprobs().size(); i++) lps.add(logprob(d.tokenIds()[i], d.logprobs().get(i)));
                }
            }
            case StreamEvent.Done d -> {
                o.put("finish_reason", d.finishReason());
                if (d.toolCalls() != null) {
                    ArrayNode calls = o.putArray("tool_calls");
                    for (var c : d.toolCalls()) {
                        ObjectNode call = calls.addObject().put("id", c.id()).put("type", "function");
                        call.putObject("function").put("name", c.name()).put("arguments", c.arguments());
                    }
                }
                ObjectNode usage = o.putObject("usage");
                usage.put("prompt_tokens", d.usage().promptTokens());
                usage.put("completion_tokens", d.usage().completionTokens());
                usage.put("cached_tokens", d.usage().cachedTokens());
                if (d.usage().imageTokens() > 0) usage.put("image_tokens", d.usage().imageTokens());
                ObjectNode t = o.putObject("timings");
                t.put("queue_ms", ms(d.timings().queueNanos()));
                t.put("ttft_ms", ms(d.timings().ttftNanos()));
                t.put("e2e_ms", ms(d.timings().e2eNanos()));
                ArrayNode itl = t.putArray("itl_ms");
                for (long gap : d.timings().itlNanos()) itl.add(ms(gap));
                if (d.promptLogprobs() != null) {
                    ArrayNode lps = o.putArray("prompt_logprobs");
                    lps.addNull(); // the first prompt token has nothing before it to be scored against
                    for (PromptTokenLogprob p : d.promptLogprobs()) {
                        ObjectNode n = lps.addObject().put("token_id", p.tokenId()).put("logprob", p.logprob()).put("rank", p.rank());
                        ArrayNode top = n.putArray("top_logprobs");
                        for (int i = 0; i < p.topIds().length; i++) {
                            top.addObject().put("token_id", p.topIds()[i]).put("logprob", p.topLogprobs()[i]);
                        }
                    }
                }
                if (d.choices() != null) {
                    ArrayNode choices = o.putArray("choices");
                    for (StreamEvent.ChoiceEnd c : d.choices()) {
                        choices.addObject().put("index", c.index()).put("finish_reason", c.finishReason())
                                .put("completion_tokens", c.completionTokens()).put("cached_tokens", c.cachedTokens());
                    }
                }
            }
            case StreamEvent.Error e -> {
                o.put("code", e.code());
                o.put("message", e.message());
            }
        }
        return o.toString();
    }

    private ObjectNode logprob(int tokenId, TokenLogprobs lp) {
        ObjectNode n = mapper.createObjectNode();
        n.put("token_id", tokenId);
        n.put("logprob", lp.logprob());
        ArrayNode top = n.putArray("top_logprobs");
        if (lp.topIds() != null) {
            for (int i = 0; i < lp.topIds().length; i++) {
                top.addObject().put("token_id", lp.topIds()[i]).put("logprob", lp.topLogprobs()[i]);
            }
        }
        return n;
    }

    private static double ms(long nanos) { return round(nanos / 1e6); }

    private static double round(double ms) { return Math.round(ms * 1000.0) / 1000.0; }
}

package io.herd.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.serving.PromptCodec;
import io.herd.serving.StreamEvent;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Renders the logprobs the engine reports (token ids) in OpenAI's shapes, per choice: chat
 * {@code {"content":[{"token","logprob","bytes","top_logprobs":[{"token","logprob","bytes"}]}]}}, completions
 * {@code {"tokens","token_logprobs","top_logprobs":[{token: logprob}],"text_offset"}} where text_offset counts
 * characters from the start of the choice's generated text. A token's text is its bytes read as UTF-8 (a token
 * holding part of a character shows U+FFFD; {@code bytes} keeps the exact bytes).
 */
final class OpenAiLogprobs {

    private final ObjectMapper mapper;
    private final PromptCodec codec;
    private final boolean chat;
    /** Per choice: the whole logprobs object of a non-streamed answer, and the completions text offset so far. */
    private final ObjectNode[] whole;
    private final int[] offsets;

    OpenAiLogprobs(ObjectMapper mapper, PromptCodec codec, boolean chat, int choices) {
        this.mapper = mapper;
        this.codec = codec;
        this.chat = chat;
        this.whole = new ObjectNode[choices];
        this.offsets = new int[choices];
    }

    /** Adds a delta's tokens to the choice's whole answer. */
    void add(int choice, StreamEvent.Delta d) {
        if (whole[choice] == null) whole[choice] = empty();
        append(choice, d, whole[choice]);
    }

    /** The choice's whole logprobs object (empty lists when it generated nothing). */
    ObjectNode whole(int choice) {
        return whole[choice] == null ? empty() : whole[choice];
    }

    /** The logprobs object of one streamed chunk: this delta's tokens only. */
    ObjectNode ofDelta(int choice, StreamEvent.Delta d) {
        ObjectNode out = empty();
        append(choice, d, out);
        return out;
    }

    private ObjectNode empty() {
        ObjectNode o = mapper.createObjectNode();
        if (chat) {
            o.putArray("content");
        } else {
            o.putArray("tokens");
            o.putArray("token_logprobs");
            o.putArray("top_logprobs");
            o.putArray("text_offset");
        }
        return o;
    }

    private void append(int choice, StreamEvent.Delta d, ObjectNode into) {
        if (d.logprobs() == null) return;
        for (int i = 0; i < d.logprobs().size() && i < d.tokenIds().length; i++) {
            int id = d.tokenIds()[i];
            TokenLogprobs lp = d.logprobs().get(i);
            if (chat) {
                ObjectNode entry = token(id, lp.logprob());
                ArrayNode top = entry.putArray("top_logprobs");
                if (lp.topIds() != null) {
                    for (int k = 0; k < lp.topIds().length; k++) top.add(token(lp.topIds()[k], lp.topLogprobs()[k]));
                }
                ((ArrayNode) into.get("content")).add(entry);
            } else {
                String text = text(id);
                ((ArrayNode) into.get("tokens")).add(text);
                ((ArrayNode) into.get("token_logprobs")).add(lp.logprob());
                ObjectNode top = mapper.createObjectNode();
                if (lp.topIds() != null) {
                    for (int k = 0; k < lp.topIds().length; k++) top.put(text(lp.topIds()[k]), lp.topLogprobs()[k]);
                }
                ((ArrayNode) into.get("top_logprobs")).add(top);
                ((ArrayNode) into.get("text_offset")).add(offsets[choice]);
                offsets[choice] += text.length();
            }
        }
    }

    private ObjectNode token(int id, float logprob) {
        byte[] bytes = codec.tokenBytes(id);
        ObjectNode o = mapper.createObjectNode().put("token", new String(bytes, StandardCharsets.UTF_8)).put("logprob", logprob);
        ArrayNode b = o.putArray("bytes");
        for (byte x : bytes) b.add(x & 0xff);
        return o;
    }

    /**
     * vLLM's {@code prompt_logprobs}: null for the first prompt token, then per token an object keyed by token id
     * (as a string) holding {@code {"logprob","rank","decoded_token"}} for the prompt token and its top k.
     */
    ArrayNode prompt(List<PromptTokenLogprob> logprobs) {
        ArrayNode out = mapper.createArrayNode();
        out.addNull();
        for (PromptTokenLogprob p : logprobs) {
            ObjectNode position = out.addObject();
            for (int k = 0; k < p.topIds().length; k++) {
                position.putObject(String.valueOf(p.topIds()[k])).put("logprob", p.topLogprobs()[k]).put("rank", k + 1)
                        .put("decoded_token", text(p.topIds()[k]));
            }
            position.putObject(String.valueOf(p.tokenId())).put("logprob", p.logprob()).put("rank", p.rank())
                    .put("decoded_token", text(p.tokenId()));
        }
        return out;
    }

    private String text(int id) {
        return new String(codec.tokenBytes(id), StandardCharsets.UTF_8);
    }
}

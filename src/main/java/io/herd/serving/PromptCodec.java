package io.herd.serving;

import java.util.List;

/**
 * Text ↔ token ids for one model: the tokenizer plus its chat format. The serving layer needs only this, so the
 * request path can be tested without a vocabulary file.
 */
public interface PromptCodec {

    /** A raw completion prompt, BOS included. */
    int[] encodePrompt(String prompt);

    /** A chat conversation rendered with the model's chat template, ending with the assistant header. */
    int[] encodeChat(List<RequestMessage> messages);

    /**
     * A chat conversation with tools (and tool calls or results in its history) rendered with the active chat
     * template. A codec without templates takes only conversations that need none.
     *
     * @param tools the request's tools, or null
     */
    default int[] encodeChat(List<RequestMessage> messages, ChatTools tools) {
        boolean toolHistory = messages.stream().anyMatch(m -> m.toolCalls() != null);
        if ((tools == null || !tools.hasTools()) && !toolHistory) return encodeChat(messages);
        throw new RequestRejectedException("invalid_parameter", "tools are not available for this model (it has no chat template)");
    }

    /** A fresh incremental decoder for one stream. */
    IncrementalDecoder newDecoder();

    /** Tokens that end a generation (end-of-turn / EOS), added to every request's stop ids. */
    int[] stopTokenIds();

    /** The bytes one token stands for (its text may be a partial UTF-8 character), for rendering logprobs. */
    byte[] tokenBytes(int tokenId);

    /** Turns a stream of token ids into text pieces, holding back bytes of incomplete UTF-8 sequences. */
    interface IncrementalDecoder {
        /** Text completed by this token (possibly empty). */
        String append(int tokenId);

        /** Whatever is still held back at the end of the stream. */
        String finish();
    }
}

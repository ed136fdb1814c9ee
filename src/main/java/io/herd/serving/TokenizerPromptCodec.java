package io.herd.serving;

import io.herd.tokenizer.ChatFormat;
import io.herd.tokenizer.RenderedPromptEncoder;
import io.herd.tokenizer.Role;
import io.herd.tokenizer.StreamingDetokenizer;
import io.herd.tokenizer.Tokenizer;
import io.herd.tokenizer.template.BuiltInToolPrompt;
import io.herd.tokenizer.template.ChatTemplateException;
import io.herd.tokenizer.template.ChatTemplateRenderer;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * {@link PromptCodec} over the Llama 4 tokenizer and chat format. With a chat template (the checkpoint's own, or one
 * HERD_CHAT_TEMPLATE picks) every chat is rendered by it; without one, the built-in layout: Meta's format for plain
 * chats, and the release template's layout (in Java) for chats with tools or tool calls.
 */
public final class TokenizerPromptCodec implements PromptCodec {

    private final Tokenizer tokenizer;
    private final ChatFormat chatFormat;
    private final RenderedPromptEncoder renderedPrompts;
    private final ChatTemplateRenderer template;
    private final int[] stopTokenIds;

    /** @param modelStopIds the model's EOS ids (generation config), merged with the tokenizer's end-of-turn ids */
    public TokenizerPromptCodec(Tokenizer tokenizer, int[] modelStopIds) {
        this(tokenizer, modelStopIds, null);
    }

    /** @param template the chat template to render every chat with, or null for the built-in layout */
    public TokenizerPromptCodec(Tokenizer tokenizer, int[] modelStopIds, ChatTemplateRenderer template) {
        this.tokenizer = tokenizer;
        this.chatFormat = new ChatFormat(tokenizer);
        this.renderedPrompts = new RenderedPromptEncoder(tokenizer);
        this.template = template;
        this.stopTokenIds = IntStream.concat(Arrays.stream(tokenizer.stopTokenIds()), Arrays.stream(modelStopIds))
                .distinct().toArray();
    }

    @Override
    public int[] encodePrompt(String prompt) { return tokenizer.encode(prompt, true, false); }

    @Override
    public int[] encodeChat(List<RequestMessage> messages) {
        if (template != null) return encodeChat(messages, null);
        try {
            return chatFormat.encodeDialogPrompt(messages.stream()
                    .map(m -> io.herd.tokenizer.ChatMessage.of(Role.parse(m.role()), m.content())).toList());
        } catch (IllegalArgumentException e) {
            throw new RequestRejectedException("invalid_parameter", e.getMessage());
        }
    }

    @Override
    public int[] encodeChat(List<RequestMessage> messages, ChatTools tools) {
        boolean toolHistory = messages.stream().anyMatch(m -> m.toolCalls() != null);
        if (template == null && (tools == null || !tools.hasTools()) && !toolHistory) return encodeChat(messages);
        List<Map<String, Object>> normalised = TemplateConversation.messages(messages);
        List<Object> toolList = TemplateConversation.tools(tools);
        String rendered;
        try {
            rendered = template != null ? template.render(normalised, toolList, Map.of())
                    : BuiltInToolPrompt.render(normalised, toolList);
        } catch (ChatTemplateException e) {
            throw new RequestRejectedException("invalid_request", e.getMessage());
        }
        return renderedPrompts.encode(rendered);
    }

    @Override
    public IncrementalDecoder newDecoder() {
        StreamingDetokenizer detokenizer = new StreamingDetokenizer(tokenizer, true);
        return new IncrementalDecoder() {
            @Override public String append(int tokenId) { return detokenizer.append(tokenId); }

            @Override public String finish() { return detokenizer.flush(); }
        };
    }

    @Override
    public int[] stopTokenIds() { return stopTokenIds.clone(); }

    @Override
    public byte[] tokenBytes(int tokenId) {
        try {
            return tokenizer.tokenBytes(tokenId);
        } catch (IllegalArgumentException e) {
            return new byte[0]; // an id the vocabulary has no bytes for renders as empty text
        }
    }

    public Tokenizer tokenizer() { return tokenizer; }
}

package io.herd.serving;

import io.herd.tokenizer.ChatFormat;
import io.herd.tokenizer.Role;
import io.herd.tokenizer.StreamingDetokenizer;
import io.herd.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/** {@link PromptCodec} over the Llama 4 tokenizer and chat format. */
public final class TokenizerPromptCodec implements PromptCodec {

    private final Tokenizer tokenizer;
    private final ChatFormat chatFormat;
    private final int[] stopTokenIds;

    /** @param modelStopIds the model's EOS ids (generation config), merged with the tokenizer's end-of-turn ids */
    public TokenizerPromptCodec(Tokenizer tokenizer, int[] modelStopIds) {
        this.tokenizer = tokenizer;
        this.chatFormat = new ChatFormat(tokenizer);
        this.stopTokenIds = IntStream.concat(Arrays.stream(tokenizer.stopTokenIds()), Arrays.stream(modelStopIds))
                .distinct().toArray();
    }

    @Override
    public int[] encodePrompt(String prompt) { return tokenizer.encode(prompt, true, false); }

    @Override
    public int[] encodeChat(List<RequestMessage> messages) {
        try {
            return chatFormat.encodeDialogPrompt(messages.stream()
                    .map(m -> io.herd.tokenizer.ChatMessage.of(Role.parse(m.role()), m.content())).toList());
        } catch (IllegalArgumentException e) {
            throw new RequestRejectedException("invalid_parameter", e.getMessage());
        }
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

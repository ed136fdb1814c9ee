package io.herd.tokenizer;

import java.util.List;

/**
 * Llama 4 Instruct's token layout (Meta's {@code ChatFormat}, SPEC §11.1):
 * {@code <|begin_of_text|>}, then per message {@code <|header_start|>ROLE<|header_end|>\n\nCONTENT END}, then the
 * generation prompt {@code <|header_start|>assistant<|header_end|>\n\n}. Content is encoded as plain text; END is
 * {@code <|eom|>} for tool messages and assistant messages that end in a tool call, else {@code <|eot|>}. No content
 * is trimmed and no default system prompt is added.
 */
public final class ChatFormat {
    private final Tokenizer tokenizer;
    private final int beginOfText;
    private final int headerStart;
    private final int headerEnd;
    private final int eot;
    private final int eom;

    public ChatFormat(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.beginOfText = tokenizer.bosId();
        this.headerStart = tokenizer.specialTokenId(Llama4SpecialTokens.HEADER_START);
        this.headerEnd = tokenizer.specialTokenId(Llama4SpecialTokens.HEADER_END);
        this.eot = tokenizer.specialTokenId(Llama4SpecialTokens.EOT);
        this.eom = tokenizer.specialTokenId(Llama4SpecialTokens.EOM);
    }

    /** The prompt for a dialog: BOS, every message, then the assistant header the model continues from. */
    public int[] encodeDialogPrompt(List<ChatMessage> dialog) {
        IntList out = new IntList(64);
        out.add(beginOfText);
        for (ChatMessage message : dialog) appendMessage(message, out);
        appendHeader(Role.ASSISTANT, out);
        return out.toArray();
    }

    /** One message with its header and end token, without BOS. */
    public int[] encodeMessage(ChatMessage message) {
        IntList out = new IntList(32);
        appendMessage(message, out);
        return out.toArray();
    }

    /** A message header {@code <|header_start|>ROLE<|header_end|>\n\n} alone (messages whose content holds images). */
    public int[] encodeHeader(Role role) {
        IntList out = new IntList(8);
        appendHeader(role, out);
        return out.toArray();
    }

    /** The {@code <|eot|>} id that ends a user or system message. */
    public int endOfTurnId() { return eot; }

    private void appendMessage(ChatMessage message, IntList out) {
        appendHeader(message.role(), out);
        tokenizer.encodeInto(message.content(), out);
        if (message.role() == Role.USER && message.context() != null) {
            // Encoded as two separate texts, as Meta's formatter does.
            tokenizer.encodeInto("\n\n", out);
            tokenizer.encodeInto(message.context(), out);
        }
        boolean endOfMessage = message.role() == Role.TOOL || (message.role() == Role.ASSISTANT && message.endOfMessage());
        out.add(endOfMessage ? eom : eot);
    }

    private void appendHeader(Role role, IntList out) {
        out.add(headerStart);
        tokenizer.encodeInto(role.header(), out);
        out.add(headerEnd);
        tokenizer.encodeInto("\n\n", out);
    }
}

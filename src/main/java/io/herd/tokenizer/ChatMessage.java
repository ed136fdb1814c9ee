package io.herd.tokenizer;

import java.util.Objects;

/**
 * One message of a dialog.
 *
 * @param role           who speaks
 * @param content        plain text; never scanned for special tokens
 * @param context        retrieved context appended to a user message after a blank line, or null
 * @param endOfMessage   for an assistant message: it ended with a tool call (or stopped on {@code <|eom|>}), so it
 *                       is closed with {@code <|eom|>} instead of {@code <|eot|>}; tool messages always are
 */
public record ChatMessage(Role role, String content, String context, boolean endOfMessage) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static ChatMessage of(Role role, String content) { return new ChatMessage(role, content, null, false); }

    public static ChatMessage system(String content) { return of(Role.SYSTEM, content); }

    public static ChatMessage user(String content) { return of(Role.USER, content); }

    public static ChatMessage assistant(String content) { return of(Role.ASSISTANT, content); }

    public static ChatMessage tool(String content) { return of(Role.TOOL, content); }
}

package io.herd.serving;

import java.util.List;

/**
 * One chat turn (OpenAI shape): role is system, user, assistant or tool. {@code content} is the text; when the client
 * sent content parts, {@code parts} holds them in order and {@code content} their text parts joined. An assistant
 * turn may carry the {@code toolCalls} it made (its content then often empty); a tool turn may name the call it
 * answers ({@code toolCallId}).
 */
public record RequestMessage(String role, String content, List<MessagePart> parts, List<RequestToolCall> toolCalls,
                             String toolCallId) {
    public RequestMessage {
        parts = parts == null ? null : List.copyOf(parts);
        toolCalls = toolCalls == null ? null : List.copyOf(toolCalls);
    }

    public RequestMessage(String role, String content, List<MessagePart> parts) {
        this(role, content, parts, null, null);
    }

    public RequestMessage(String role, String content) {
        this(role, content, null, null, null);
    }

    /** Whether any part is an image. */
    public boolean hasImages() {
        return parts != null && parts.stream().anyMatch(p -> p.imageUrl() != null);
    }
}

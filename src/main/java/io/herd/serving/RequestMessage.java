package io.herd.serving;

import java.util.List;

/**
 * One chat turn (OpenAI shape): role is system, user, assistant or tool. {@code content} is the text; when the client
 * sent content parts, {@code parts} holds them in order and {@code content} their text parts joined.
 */
public record RequestMessage(String role, String content, List<MessagePart> parts) {
    public RequestMessage {
        parts = parts == null ? null : List.copyOf(parts);
    }

    public RequestMessage(String role, String content) {
        this(role, content, null);
    }

    /** Whether any part is an image. */
    public boolean hasImages() {
        return parts != null && parts.stream().anyMatch(p -> p.imageUrl() != null);
    }
}

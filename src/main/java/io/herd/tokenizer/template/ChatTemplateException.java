package io.herd.tokenizer.template;

/** A chat template that cannot be read or rendered, or a conversation it refuses; the message says which and why. */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}

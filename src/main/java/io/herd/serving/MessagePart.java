package io.herd.serving;

/**
 * One OpenAI content part: {@code {"type":"text","text":…}} (imageUrl null) or
 * {@code {"type":"image_url","image_url":{"url":…}}} (text null).
 */
public record MessagePart(String text, String imageUrl) {
    public MessagePart {
        if ((text == null) == (imageUrl == null)) throw new IllegalArgumentException("a part is either text or an image");
    }
}

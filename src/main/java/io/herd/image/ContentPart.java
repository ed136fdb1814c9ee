package io.herd.image;

/** One part of a chat message's content: text, or an image already turned into tiles. */
public sealed interface ContentPart {
    record Text(String text) implements ContentPart {}

    record Image(ProcessedImage image) implements ContentPart {}
}

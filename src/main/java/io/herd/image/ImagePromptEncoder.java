package io.herd.image;

import io.herd.tokenizer.ChatFormat;
import io.herd.tokenizer.ChatMessage;
import io.herd.tokenizer.Role;
import io.herd.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Chat messages whose content is a list of text and image parts → prompt ids, as Llama 4's chat template and
 * processor produce them: the template writes each text part as it is and one {@code <|image|>} per image with no
 * separators, the tokenizer splits the text at special tokens, and the processor replaces each {@code <|image|>} by
 * the image's run ({@link ImageTokenLayout}). So adjacent text parts are encoded as one text, and text on either side
 * of an image is encoded on its own. Messages without images go through {@link ChatFormat} unchanged.
 */
public final class ImagePromptEncoder {
    private final Tokenizer tokenizer;
    private final ChatFormat chatFormat;
    private final ImageTokenLayout layout;

    public ImagePromptEncoder(Tokenizer tokenizer, ImageTokenLayout layout) {
        this.tokenizer = tokenizer;
        this.chatFormat = new ChatFormat(tokenizer);
        this.layout = layout;
    }

    /** One message: its role and its parts in order. */
    public record Message(Role role, List<ContentPart> parts) {
        public Message {
            parts = List.copyOf(parts);
        }
    }

    /** BOS, every message, then the assistant header the model continues from. */
    public ImagePrompt encode(List<Message> dialog) {
        List<Integer> ids = new ArrayList<>();
        List<ProcessedImage> images = new ArrayList<>();
        ids.add(tokenizer.bosId());
        for (Message m : dialog) {
            boolean hasImage = m.parts().stream().anyMatch(p -> p instanceof ContentPart.Image);
            if (!hasImage) {
                StringBuilder text = new StringBuilder();
                for (ContentPart p : m.parts()) text.append(((ContentPart.Text) p).text());
                addAll(ids, chatFormat.encodeMessage(ChatMessage.of(m.role(), text.toString())));
                continue;
            }
            if (m.role() != Role.USER && m.role() != Role.SYSTEM)
                throw new IllegalArgumentException("images are only accepted in user and system messages, not " + m.role());
            addAll(ids, chatFormat.encodeHeader(m.role()));
            StringBuilder text = new StringBuilder();
            for (ContentPart p : m.parts()) {
                switch (p) {
                    case ContentPart.Text t -> text.append(t.text());
                    case ContentPart.Image img -> {
                        addAll(ids, tokenizer.encode(text.toString()));
                        text.setLength(0);
                        addAll(ids, layout.run(img.image().plan()));
                        images.add(img.image());
                    }
                }
            }
            addAll(ids, tokenizer.encode(text.toString()));
            ids.add(chatFormat.endOfTurnId());
        }
        addAll(ids, chatFormat.encodeHeader(Role.ASSISTANT));
        return new ImagePrompt(ids.stream().mapToInt(Integer::intValue).toArray(), images);
    }

    private static void addAll(List<Integer> out, int[] ids) {
        for (int id : ids) out.add(id);
    }
}

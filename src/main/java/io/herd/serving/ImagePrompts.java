package io.herd.serving;

import io.herd.engine.kv.MultimodalSpan;
import io.herd.engine.PromptEmbeddings;

import java.util.List;

/**
 * Chat messages with image parts → what the engine needs: prompt ids with each image's token run, the image
 * features for the {@code <|patch|>} positions, and the spans whose content hash joins the prefix-cache hashes.
 * Implemented by {@link VisionPromptBuilder} for models with a vision tower.
 */
public interface ImagePrompts {

    /**
     * @throws io.herd.image.ImageRejectedException with {@code invalid_image} or {@code image_too_large}
     */
    Encoded encode(List<RequestMessage> messages);

    /** @param imageTokens prompt tokens that belong to image runs */
    /** @param embeddings runs the vision tower when the engine first schedules the request */
    record Encoded(int[] ids, PromptEmbeddings embeddings, List<MultimodalSpan> spans, int imageTokens) {}
}

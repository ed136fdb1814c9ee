package io.herd.engine.kv;

/**
 * Prompt positions {@code [start, end)} whose K/V depend on more than their token ids: an image's run, whose
 * {@code <|patch|>} tokens carry the image's features. Block hashes over those positions take the content hash too
 * (as vLLM's multimodal hashes do), so equal token ids with different images never share KV blocks.
 *
 * @param contentHash 128-bit hash of what the model consumes for this span (the image's pixel values)
 */
public record MultimodalSpan(int start, int end, BlockHash contentHash) {
    public MultimodalSpan {
        if (start < 0 || end <= start) throw new IllegalArgumentException("span [" + start + ", " + end + ")");
        if (contentHash == null) throw new IllegalArgumentException("span without a content hash");
    }

    boolean overlaps(int from, int to) { return start < to && from < end; }
}

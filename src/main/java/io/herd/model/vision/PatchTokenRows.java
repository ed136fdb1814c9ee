package io.herd.model.vision;

import io.herd.model.ForwardPass;

/**
 * Places projected image features on a prompt's {@code <|patch|>} tokens: the n-th patch token of the prompt takes
 * row n of the features (images in prompt order, tile-major). The counts must agree exactly, as HF requires.
 */
public final class PatchTokenRows {
    private PatchTokenRows() {}

    /**
     * @param tokens       the prompt
     * @param patchTokenId the {@code <|patch|>} id ({@link Llama4VisionConfig#imageTokenId()})
     * @param features     [nPatchTokens, dModel], every image's rows concatenated in prompt order
     */
    public static ForwardPass.InputEmbeddings place(int[] tokens, int patchTokenId, float[] features, int dModel) {
        int n = 0;
        for (int t : tokens) if (t == patchTokenId) n++;
        if ((long) n * dModel != features.length)
            throw new IllegalArgumentException("the prompt has " + n + " image patch tokens but the images give "
                    + features.length / dModel + " feature rows");
        int[] indices = new int[n];
        for (int i = 0, k = 0; i < tokens.length; i++) if (tokens[i] == patchTokenId) indices[k++] = i;
        return new ForwardPass.InputEmbeddings(indices, features.clone());
    }
}

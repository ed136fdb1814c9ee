package io.herd.model.vision;

/** Maps vision features to the text model's hidden size: one bias-free Linear ({@code multi_modal_projector.linear_1}). */
public final class MultiModalProjector {
    private final Llama4VisionWeights weights;

    public MultiModalProjector(Llama4VisionWeights weights) {
        this.weights = weights;
    }

    /** features [nTokens, visionOutputDim] → [nTokens, textHidden]. */
    public float[] project(float[] features, int nTokens) {
        return VisionMath.matmul(weights.projector(), features, nTokens);
    }
}

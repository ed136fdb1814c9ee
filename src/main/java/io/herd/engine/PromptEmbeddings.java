package io.herd.engine;

import io.herd.model.ForwardPass;

/**
 * Rows that replace some prompt tokens' embeddings (image features on the {@code <|patch|>} positions), computed when
 * the model runner first takes the request: on the engine thread, between steps, so the vision tower neither runs on
 * the threads that receive requests nor beside a forward pass.
 */
@FunctionalInterface
public interface PromptEmbeddings {
    /** The rows; indices into the prompt. Called once per request, on the engine thread. */
    ForwardPass.InputEmbeddings compute();

    /** Rows already computed. */
    static PromptEmbeddings of(ForwardPass.InputEmbeddings rows) {
        return () -> rows;
    }
}

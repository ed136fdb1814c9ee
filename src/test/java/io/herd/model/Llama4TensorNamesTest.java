package io.herd.model;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Llama4TensorNamesTest {
    private static final Llama4TensorNames CAUSAL = Llama4TensorNames.CAUSAL_LM;
    private static final Llama4TensorNames NESTED = Llama4TensorNames.CONDITIONAL_GENERATION;

    @Test
    void storedLmHeadIsUsedEvenWhenTied() {
        Set<String> names = Set.of("model.embed_tokens.weight", "lm_head.weight");
        assertThat(CAUSAL.outputProjection(names, false, "ckpt")).isEqualTo("lm_head.weight");
        // HF does not tie when both tensors are stored: the stored lm_head is what it computes with.
        assertThat(CAUSAL.outputProjection(names, true, "ckpt")).isEqualTo("lm_head.weight");
    }

    @Test
    void tiedCheckpointWithoutLmHeadReadsTheEmbedding() {
        assertThat(CAUSAL.outputProjection(Set.of("model.embed_tokens.weight"), true, "ckpt"))
                .isEqualTo("model.embed_tokens.weight");
        assertThat(NESTED.outputProjection(Set.of("language_model.model.embed_tokens.weight"), true, "ckpt"))
                .isEqualTo("language_model.model.embed_tokens.weight");
    }

    @Test
    void missingLmHeadWithoutTieIsNamed() {
        assertThatThrownBy(() -> NESTED.outputProjection(Set.of("language_model.model.embed_tokens.weight"), false, "/m"))
                .hasMessageContaining("/m").hasMessageContaining("language_model.lm_head.weight")
                .hasMessageContaining("tie_word_embeddings");
    }
}

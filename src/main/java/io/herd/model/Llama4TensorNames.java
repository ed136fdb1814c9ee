package io.herd.model;

import java.util.Set;

/**
 * The one table of Llama 4 checkpoint tensor names (SPEC §2.1). Two prefixes are in circulation:
 * {@code language_model.model.} / {@code language_model.lm_head.weight} ({@code Llama4ForConditionalGeneration}, the
 * published repositories) and {@code model.} / {@code lm_head.weight} ({@code Llama4ForCausalLM}, text-only files).
 *
 * @param modelPrefix  prefix of embed_tokens, layers and norm ("model." or "language_model.model.")
 * @param lmHeadPrefix prefix of lm_head.weight ("" or "language_model.")
 */
public record Llama4TensorNames(String modelPrefix, String lmHeadPrefix) {
    public static final Llama4TensorNames CAUSAL_LM = new Llama4TensorNames("model.", "");
    public static final Llama4TensorNames CONDITIONAL_GENERATION =
            new Llama4TensorNames("language_model.model.", "language_model.");

    /** Picks the naming scheme by which embedding tensor the checkpoint holds. */
    public static Llama4TensorNames detect(Set<String> names, Object source) {
        for (Llama4TensorNames n : new Llama4TensorNames[] {CONDITIONAL_GENERATION, CAUSAL_LM})
            if (names.contains(n.embedTokens())) return n;
        throw new IllegalArgumentException(source + ": no Llama 4 embedding tensor (" + CONDITIONAL_GENERATION.embedTokens()
                + " or " + CAUSAL_LM.embedTokens() + ")");
    }

    /** [vocab, dModel] */
    public String embedTokens() { return modelPrefix + "embed_tokens.weight"; }

    /** [dModel] */
    public String finalNorm() { return modelPrefix + "norm.weight"; }

    /** [vocab, dModel] */
    public String lmHead() { return lmHeadPrefix + "lm_head.weight"; }

    /**
     * The tensor the output projection reads: lm_head.weight when stored; else, with {@code tie_word_embeddings},
     * embed_tokens.weight (HF saves a tied model without lm_head and ties it back at load; a stored lm_head is used
     * as stored even when the flag is set, as HF does).
     */
    public String outputProjection(Set<String> names, boolean tieWordEmbeddings, Object source) {
        if (names.contains(lmHead())) return lmHead();
        if (tieWordEmbeddings) return embedTokens();
        throw new IllegalArgumentException(source + ": tensor " + lmHead()
                + " is missing (and config.json does not set tie_word_embeddings)");
    }

    private String layer(int iLayer, String suffix) { return modelPrefix + "layers." + iLayer + "." + suffix; }

    /** [dModel] pre-attention RMSNorm gain */
    public String inputNorm(int iLayer) { return layer(iLayer, "input_layernorm.weight"); }

    /** [nHeads·headDim, dModel] */
    public String qProj(int iLayer) { return layer(iLayer, "self_attn.q_proj.weight"); }

    /** [nKvHeads·headDim, dModel] */
    public String kProj(int iLayer) { return layer(iLayer, "self_attn.k_proj.weight"); }

    /** [nKvHeads·headDim, dModel] */
    public String vProj(int iLayer) { return layer(iLayer, "self_attn.v_proj.weight"); }

    /** [dModel, nHeads·headDim] */
    public String oProj(int iLayer) { return layer(iLayer, "self_attn.o_proj.weight"); }

    /** [dModel] pre-FFN RMSNorm gain */
    public String postAttentionNorm(int iLayer) { return layer(iLayer, "post_attention_layernorm.weight"); }

    /** [nExperts, dModel] */
    public String router(int iLayer) { return layer(iLayer, "feed_forward.router.weight"); }

    /** [nExperts, dModel, 2·dFf] input-major, no ".weight" suffix; gate columns then up columns */
    public String expertsGateUp(int iLayer) { return layer(iLayer, "feed_forward.experts.gate_up_proj"); }

    /** [nExperts, dFf, dModel] input-major, no ".weight" suffix */
    public String expertsDown(int iLayer) { return layer(iLayer, "feed_forward.experts.down_proj"); }

    /** [dFf, dModel] */
    public String sharedGate(int iLayer) { return layer(iLayer, "feed_forward.shared_expert.gate_proj.weight"); }

    /** [dFf, dModel] */
    public String sharedUp(int iLayer) { return layer(iLayer, "feed_forward.shared_expert.up_proj.weight"); }

    /** [dModel, dFf] */
    public String sharedDown(int iLayer) { return layer(iLayer, "feed_forward.shared_expert.down_proj.weight"); }

    /** [dFfMlp, dModel] dense layers */
    public String mlpGate(int iLayer) { return layer(iLayer, "feed_forward.gate_proj.weight"); }

    /** [dFfMlp, dModel] dense layers */
    public String mlpUp(int iLayer) { return layer(iLayer, "feed_forward.up_proj.weight"); }

    /** [dModel, dFfMlp] dense layers */
    public String mlpDown(int iLayer) { return layer(iLayer, "feed_forward.down_proj.weight"); }
}

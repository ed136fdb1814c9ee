package io.herd.model;

/**
 * Llama 4 text-model hyper-parameters, already derived (see SPEC §1.2): per-layer MoE and RoPE flags are explicit.
 * Parsing of the published config.json variants lives in {@code Llama4ConfigParser}.
 *
 * @param moeLayers   moeLayers[i] is true when layer i's FFN is a MoE block (else dense SwiGLU of dFfMlp)
 * @param ropeLayers  ropeLayers[i] is true for RoPE + chunked attention, false for NoPE + global attention
 * @param ropeScaling llama3-type frequency scaling, or null
 */
public record Llama4Config(int dModel, int nLayers, int nHeads, int nKvHeads, int headDim,
                           int dFf, int dFfMlp, int nExperts, int nExpertsPerTok,
                           boolean[] moeLayers, boolean[] ropeLayers, boolean useQkNorm,
                           int attentionChunkSize, boolean attnTemperatureTuning, float floorScale, float attnScale,
                           float rmsNormEps, float ropeTheta, RopeScaling ropeScaling,
                           int vocabSize, int maxPositionEmbeddings, int bosTokenId, int[] eosTokenIds, int padTokenId) {

    /** llama3 rope scaling parameters. */
    public record RopeScaling(float factor, float lowFreqFactor, float highFreqFactor, int originalMaxPositionEmbeddings) {}
}

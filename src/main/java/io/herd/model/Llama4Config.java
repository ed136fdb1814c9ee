package io.herd.model;

import java.util.Arrays;

/**
 * Llama 4 text-model hyper-parameters, already derived (see SPEC §1.2): per-layer MoE and RoPE flags are explicit.
 * Parsing of the published config.json variants lives in {@link Llama4ConfigParser}.
 *
 * @param moeLayers   moeLayers[i] is true when layer i's FFN is a MoE block (else dense SwiGLU of dFfMlp)
 * @param ropeLayers  ropeLayers[i] is true for RoPE + chunked attention, false for NoPE + global attention
 * @param ropeScaling llama3-type frequency scaling, or null
 * @param tieWordEmbeddings the output projection reuses embed_tokens when the checkpoint has no lm_head tensor
 *                          (HF {@code tie_word_embeddings}; a stored lm_head still wins, as in HF)
 */
public record Llama4Config(int dModel, int nLayers, int nHeads, int nKvHeads, int headDim,
                           int dFf, int dFfMlp, int nExperts, int nExpertsPerTok,
                           boolean[] moeLayers, boolean[] ropeLayers, boolean useQkNorm,
                           int attentionChunkSize, boolean attnTemperatureTuning, float floorScale, float attnScale,
                           float rmsNormEps, float ropeTheta, RopeScaling ropeScaling,
                           int vocabSize, int maxPositionEmbeddings, int bosTokenId, int[] eosTokenIds, int padTokenId,
                           boolean tieWordEmbeddings) {

    /** llama3 rope scaling parameters. */
    public record RopeScaling(float factor, float lowFreqFactor, float highFreqFactor, int originalMaxPositionEmbeddings) {}

    public Llama4Config {
        require(dModel > 0 && nLayers > 0 && nHeads > 0 && nKvHeads > 0 && headDim > 0, "sizes must be positive");
        require(headDim % 2 == 0, "headDim must be even (RoPE pairs), got " + headDim);
        require(nHeads % nKvHeads == 0, "nHeads " + nHeads + " not a multiple of nKvHeads " + nKvHeads);
        require(moeLayers != null && moeLayers.length == nLayers, "moeLayers must have nLayers entries");
        require(ropeLayers != null && ropeLayers.length == nLayers, "ropeLayers must have nLayers entries");
        boolean anyMoe = false, anyDense = false;
        for (boolean m : moeLayers) { anyMoe |= m; anyDense |= !m; }
        require(!anyMoe || (nExperts > 0 && dFf > 0), "MoE layers need nExperts and dFf > 0");
        require(!anyMoe || (nExpertsPerTok >= 1 && nExpertsPerTok <= nExperts),
                "nExpertsPerTok " + nExpertsPerTok + " must be in 1.." + nExperts);
        require(!anyDense || dFfMlp > 0, "dense layers need dFfMlp > 0");
        require(attentionChunkSize > 0, "attentionChunkSize must be positive");
        require(vocabSize > 0, "vocabSize must be positive");
        require(!attnTemperatureTuning || floorScale > 0, "floorScale must be positive");
        moeLayers = moeLayers.clone();
        ropeLayers = ropeLayers.clone();
        eosTokenIds = eosTokenIds == null ? new int[0] : eosTokenIds.clone();
    }

    /** A config with an untied lm_head (every published Llama 4 checkpoint). */
    public Llama4Config(int dModel, int nLayers, int nHeads, int nKvHeads, int headDim,
                        int dFf, int dFfMlp, int nExperts, int nExpertsPerTok,
                        boolean[] moeLayers, boolean[] ropeLayers, boolean useQkNorm,
                        int attentionChunkSize, boolean attnTemperatureTuning, float floorScale, float attnScale,
                        float rmsNormEps, float ropeTheta, RopeScaling ropeScaling,
                        int vocabSize, int maxPositionEmbeddings, int bosTokenId, int[] eosTokenIds, int padTokenId) {
        this(dModel, nLayers, nHeads, nKvHeads, headDim, dFf, dFfMlp, nExperts, nExpertsPerTok, moeLayers, ropeLayers,
                useQkNorm, attentionChunkSize, attnTemperatureTuning, floorScale, attnScale, rmsNormEps, ropeTheta,
                ropeScaling, vocabSize, maxPositionEmbeddings, bosTokenId, eosTokenIds, padTokenId, false);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("Llama4Config: " + message);
    }

    public boolean isMoeLayer(int iLayer) { return moeLayers[iLayer]; }

    public boolean isRopeLayer(int iLayer) { return ropeLayers[iLayer]; }

    /** nHeads · headDim: width of the q projection and of the attention output. */
    public int qDim() { return nHeads * headDim; }

    /** nKvHeads · headDim: width of the k and v projections. */
    public int kvDim() { return nKvHeads * headDim; }

    /** Query heads per kv head (GQA group size). */
    public int groupSize() { return nHeads / nKvHeads; }

    public int nRopeLayers() {
        int n = 0;
        for (boolean r : ropeLayers) if (r) n++;
        return n;
    }

    public int nNopeLayers() { return nLayers - nRopeLayers(); }

    /** A copy with a different number of layers, schedule re-derived the way the published files derive it. */
    public Llama4Config withLayers(int nLayers, int interleaveMoeLayerStep, int noRopeLayerInterval) {
        return new Llama4Config(dModel, nLayers, nHeads, nKvHeads, headDim, dFf, dFfMlp, nExperts, nExpertsPerTok,
                Llama4ConfigParser.moeLayersFromStep(nLayers, interleaveMoeLayerStep),
                Llama4ConfigParser.ropeLayersFromInterval(nLayers, noRopeLayerInterval), useQkNorm,
                attentionChunkSize, attnTemperatureTuning, floorScale, attnScale, rmsNormEps, ropeTheta, ropeScaling,
                vocabSize, maxPositionEmbeddings, bosTokenId, eosTokenIds, padTokenId, tieWordEmbeddings);
    }

    /** Llama-4-Scout-17B-16E(-Instruct) text config (SPEC §1.1), for benchmarks without a config file. */
    public static Llama4Config scout() {
        return new Llama4Config(5120, 48, 40, 8, 128, 8192, 16384, 16, 1,
                Llama4ConfigParser.moeLayersFromStep(48, 1), Llama4ConfigParser.ropeLayersFromInterval(48, 4), true,
                8192, true, 8192f, 0.1f, 1e-5f, 500000f, new RopeScaling(16f, 1f, 1f, 8192),
                202048, 10485760, 200000, new int[] {200001, 200007, 200008}, 200018);
    }

    /** Llama-4-Maverick-17B-128E(-Instruct) text config (SPEC §1.1). */
    public static Llama4Config maverick() {
        return new Llama4Config(5120, 48, 40, 8, 128, 8192, 16384, 128, 1,
                Llama4ConfigParser.moeLayersFromStep(48, 2), Llama4ConfigParser.ropeLayersFromInterval(48, 4), false,
                8192, true, 8192f, 0.1f, 1e-5f, 500000f, null,
                202048, 1048576, 200000, new int[] {200001, 200007, 200008}, 200018);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Llama4Config c && toString().equals(c.toString());
    }

    @Override
    public int hashCode() { return toString().hashCode(); }

    @Override
    public String toString() {
        return "Llama4Config[dModel=" + dModel + ", nLayers=" + nLayers + ", nHeads=" + nHeads + ", nKvHeads=" + nKvHeads
                + ", headDim=" + headDim + ", dFf=" + dFf + ", dFfMlp=" + dFfMlp + ", nExperts=" + nExperts
                + ", nExpertsPerTok=" + nExpertsPerTok + ", moeLayers=" + Arrays.toString(moeLayers)
                + ", ropeLayers=" + Arrays.toString(ropeLayers) + ", useQkNorm=" + useQkNorm
                + ", attentionChunkSize=" + attentionChunkSize + ", attnTemperatureTuning=" + attnTemperatureTuning
                + ", floorScale=" + floorScale + ", attnScale=" + attnScale + ", rmsNormEps=" + rmsNormEps
                + ", ropeTheta=" + ropeTheta + ", ropeScaling=" + ropeScaling + ", vocabSize=" + vocabSize
                + ", maxPositionEmbeddings=" + maxPositionEmbeddings + ", bosTokenId=" + bosTokenId
                + ", eosTokenIds=" + Arrays.toString(eosTokenIds) + ", padTokenId=" + padTokenId
                + ", tieWordEmbeddings=" + tieWordEmbeddings + "]";
    }
}

package io.herd.model.sampling;

/**
 * How to pick each next token and when to stop, per request. Field meanings follow the OpenAI API / vLLM.
 *
 * @param temperature       0 means greedy argmax
 * @param topP              nucleus mass in (0, 1]; 1 disables (Meta's semantics: keep the smallest prefix reaching p)
 * @param topK              keep the k most likely; 0 disables
 * @param minP              drop tokens with p &lt; minP · p_max; 0 disables
 * @param seed              RNG seed; same seed, same logits → same tokens
 * @param repetitionPenalty CTRL-style multiplicative penalty on prompt and generated tokens; 1 disables
 * @param presencePenalty   subtracted once from logits of tokens generated so far
 * @param frequencyPenalty  subtracted per occurrence of tokens generated so far
 * @param stopTokenIds      generation ends after emitting one of these (the model's EOS ids are added by the caller)
 * @param maxTokens         most tokens to generate
 * @param logprobs          report the sampled token's log-probability
 * @param topLogprobs       also report the K most likely tokens per position (0 … 20)
 * @param minTokens         the stop tokens are suppressed until this many tokens were generated (vLLM's min_tokens)
 * @param logitBiasIds      ids whose logits are shifted (OpenAI's logit_bias), parallel to {@code logitBiasValues}
 * @param logitBiasValues   the shifts, added after the penalties
 */
public record SamplingParams(float temperature, float topP, int topK, float minP, long seed,
                             float repetitionPenalty, float presencePenalty, float frequencyPenalty,
                             int[] stopTokenIds, int maxTokens, boolean logprobs, int topLogprobs,
                             int minTokens, int[] logitBiasIds, float[] logitBiasValues) {

    /** Without min_tokens and logit_bias. */
    public SamplingParams(float temperature, float topP, int topK, float minP, long seed,
                          float repetitionPenalty, float presencePenalty, float frequencyPenalty,
                          int[] stopTokenIds, int maxTokens, boolean logprobs, int topLogprobs) {
        this(temperature, topP, topK, minP, seed, repetitionPenalty, presencePenalty, frequencyPenalty, stopTokenIds,
                maxTokens, logprobs, topLogprobs, 0, new int[0], new float[0]);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0f, 1f, 0, 0f, 0L, 1f, 0f, 0f, new int[0], maxTokens, false, 0);
    }

    public boolean isGreedy() { return temperature <= 0f; }
}

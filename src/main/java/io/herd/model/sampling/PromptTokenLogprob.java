package io.herd.model.sampling;

import java.util.Arrays;

/**
 * The model's log-probability of one prompt token given the tokens before it (vLLM's {@code prompt_logprobs}),
 * from the raw logits of the previous position: no temperature, penalties or bias, since the prompt was not sampled.
 *
 * @param tokenId     the prompt token
 * @param logprob     its log-probability
 * @param rank        1 + the number of tokens the model found more likely
 * @param topIds      the k most likely tokens, most likely first (empty for k = 0)
 * @param topLogprobs their log-probabilities
 */
public record PromptTokenLogprob(int tokenId, float logprob, int rank, int[] topIds, float[] topLogprobs) {

    /** Scores {@code tokenId} against {@code logits[offset, offset + vocab)}, with the top {@code k}. */
    public static PromptTokenLogprob of(float[] logits, int offset, int vocab, int tokenId, int k) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
        float logZ = (float) (max + Math.log(sum));
        float actual = logits[offset + tokenId];
        int rank = 1;
        for (int i = 0; i < vocab; i++) if (logits[offset + i] > actual) rank++;
        int[] topIds = new int[Math.min(k, vocab)];
        float[] topLogprobs = new float[topIds.length];
        int n = 0;
        // k ≤ 20: a small insertion-sorted list beats sorting the vocabulary.
        for (int i = 0; i < vocab && topIds.length > 0; i++) {
            float v = logits[offset + i];
            if (n == topIds.length && v <= topLogprobs[n - 1]) continue;
            int j = n < topIds.length ? n++ : n - 1;
            while (j > 0 && topLogprobs[j - 1] < v) {
                topLogprobs[j] = topLogprobs[j - 1];
                topIds[j] = topIds[j - 1];
                j--;
            }
            topLogprobs[j] = v;
            topIds[j] = i;
        }
        for (int i = 0; i < n; i++) topLogprobs[i] -= logZ;
        return new PromptTokenLogprob(tokenId, actual - logZ, rank, Arrays.copyOf(topIds, n), Arrays.copyOf(topLogprobs, n));
    }
}

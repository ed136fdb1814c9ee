package io.herd.cli;

import io.herd.model.ForwardPass;
import io.herd.model.SingleSequence;
import io.herd.model.sampling.Sampler;
import io.herd.model.sampling.TokenLogprobs;

/** The generate loop for one sequence: prefill the prompt, then sample and decode one token at a time. */
final class Generation {
    private Generation() {}

    enum FinishReason {
        STOP, LENGTH;

        String wireName() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** Receives each token as soon as it is sampled. */
    @FunctionalInterface
    interface TokenListener {
        void onToken(int index, int tokenId, TokenLogprobs logprobs);
    }

    /**
     * @param completion            the generated ids, a stop id included when generation stopped on one
     * @param ttftMillis            from the start of the prefill to the first sampled token
     * @param decodeTokensPerSecond tokens after the first, over the time from first to last token (0 when only one)
     */
    record Result(int[] completion, FinishReason finishReason, double ttftMillis, double decodeTokensPerSecond) {}

    static Result run(SingleSequence sequence, Sampler sampler, int[] prompt, int maxTokens, int[] stopIds,
                      TokenListener listener) {
        return run(sequence, sampler, prompt, null, maxTokens, stopIds, listener);
    }

    /** As above, with rows that replace some prompt tokens' embeddings (image features), or null. */
    static Result run(SingleSequence sequence, Sampler sampler, int[] prompt, ForwardPass.InputEmbeddings promptEmbeddings,
                      int maxTokens, int[] stopIds, TokenListener listener) {
        int[] completion = new int[maxTokens];
        long start = System.nanoTime();
        long firstTokenAt = 0;
        float[] logits = sequence.append(prompt, 1, promptEmbeddings);
        int n = 0;
        FinishReason reason = FinishReason.LENGTH;
        while (n < maxTokens) {
            Sampler.Sample sample = sampler.sample(logits, 0);
            int token = sample.tokenId();
            if (n == 0) firstTokenAt = System.nanoTime();
            completion[n] = token;
            listener.onToken(n, token, sample.logprobs());
            n++;
            if (contains(stopIds, token)) {
                reason = FinishReason.STOP;
                break;
            }
            if (n < maxTokens) logits = sequence.decode(token);
        }
        long end = System.nanoTime();
        double ttft = (firstTokenAt - start) / 1e6;
        double decodeRate = n > 1 ? (n - 1) / ((end - firstTokenAt) / 1e9) : 0;
        return new Result(java.util.Arrays.copyOf(completion, n), reason, ttft, decodeRate);
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) if (x == id) return true;
        return false;
    }
}

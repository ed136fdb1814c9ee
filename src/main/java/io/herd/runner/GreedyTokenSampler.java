package io.herd.runner;

import io.herd.engine.RunnerOutput;
import io.herd.model.sampling.SamplingParams;
import io.herd.model.sampling.TokenLogprobs;

import java.util.Optional;

/**
 * Argmax sampling with optional logprobs (log-softmax of the unmodified logits). The stand-in until the full
 * sampler (temperature, top-p/k, min-p, penalties, seeds) is wired in; it refuses any non-greedy request.
 */
public final class GreedyTokenSampler implements TokenSampler {
    private final SamplingParams params;

    GreedyTokenSampler(SamplingParams params) { this.params = params; }

    public static final TokenSampler.Factory FACTORY = new TokenSampler.Factory() {
        @Override
        public TokenSampler create(SamplingParams params, int[] promptTokens) { return new GreedyTokenSampler(params); }

        @Override
        public Optional<String> unsupported(SamplingParams p) {
            if (!p.isGreedy()) return Optional.of("only greedy sampling (temperature 0) is available");
            if (p.repetitionPenalty() != 1f || p.presencePenalty() != 0f || p.frequencyPenalty() != 0f) {
                return Optional.of("penalties are not available with greedy-only sampling");
            }
            if (p.topLogprobs() < 0 || p.topLogprobs() > 20) return Optional.of("topLogprobs must be in 0..20: " + p.topLogprobs());
            return Optional.empty();
        }
    };

    @Override
    public RunnerOutput.SampledToken sample(float[] logits, int offset, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[offset + i] > logits[offset + best]) best = i;
        if (!params.logprobs() && params.topLogprobs() == 0) return new RunnerOutput.SampledToken(best, null);
        double max = logits[offset + best];
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
        float logZ = (float) (max + Math.log(sum));
        int k = params.topLogprobs();
        int[] topIds = new int[k];
        float[] topLp = new float[k];
        boolean[] taken = new boolean[vocab];
        for (int j = 0; j < k; j++) {
            int arg = -1;
            for (int i = 0; i < vocab; i++) {
                if (!taken[i] && (arg < 0 || logits[offset + i] > logits[offset + arg])) arg = i;
            }
            taken[arg] = true;
            topIds[j] = arg;
            topLp[j] = logits[offset + arg] - logZ;
        }
        return new RunnerOutput.SampledToken(best, new TokenLogprobs(logits[offset + best] - logZ, topIds, topLp));
    }
}

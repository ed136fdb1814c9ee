package io.herd.model.sampling;

import java.util.SplittableRandom;

/**
 * Picks the next token of one sequence from its logits and remembers what it picked. One instance per sequence; not
 * thread-safe.
 *
 * <p>Order of operations on a copy of the logits (the model's logits are never modified):
 * <ol>
 *   <li>repetition penalty (CTRL / Hugging Face): for every distinct token of prompt and output, a positive logit is
 *       divided by the penalty and a negative one multiplied by it;</li>
 *   <li>frequency and presence penalties (OpenAI / vLLM) over output tokens only:
 *       {@code logit -= count · frequency + (count > 0 ? presence : 0)};</li>
 *   <li>temperature 0: argmax (lowest id on ties). Otherwise {@code logits / T}, then the filters in Hugging Face's
 *       order: top-k (keep the k largest), top-p over what is left (Meta's rule: sort descending and drop every token
 *       whose cumulative probability <em>before</em> it exceeds p, so the smallest prefix reaching p is kept, at least
 *       one token), min-p (drop tokens with probability below {@code minP · p_max}); renormalise and draw.</li>
 * </ol>
 * The draw walks the kept tokens from most to least likely with one uniform number from a {@link SplittableRandom}
 * seeded with {@link SamplingParams#seed()}: same seed and logits, same tokens. Only the kept prefix is ever sorted
 * (a bounded heap grows until the filters' cut falls inside it), so a 202,048-token vocabulary is never fully sorted
 * in the common case.
 *
 * <p>Log-probabilities, when requested, come from the unmodified model distribution: {@code log_softmax(logits)}
 * before penalties, temperature or filters.
 */
public final class Sampler {
    /** First size of the sorted prefix tried by top-p / min-p without top-k; doubled until the cut lies inside. */
    private static final int FIRST_PREFIX = 64;

    private final SamplingParams params;
    private final int vocabSize;
    private final SplittableRandom random;
    private final TokenCounts promptTokens;
    private final TokenCounts generated = new TokenCounts();
    private final float[] work;
    private final boolean penalized;
    private int nGenerated;

    /** What was sampled, with its log-probabilities when the parameters ask for them (else null). */
    public record Sample(int tokenId, TokenLogprobs logprobs) {}

    /**
     * @param promptTokens the prompt, for the repetition penalty
     * @throws IllegalArgumentException when a parameter is out of range
     */
    public Sampler(SamplingParams params, int vocabSize, int[] promptTokens) {
        validate(params);
        this.params = params;
        this.vocabSize = vocabSize;
        this.random = new SplittableRandom(params.seed());
        this.penalized = params.repetitionPenalty() != 1f || params.presencePenalty() != 0f
                || params.frequencyPenalty() != 0f;
        if (params.repetitionPenalty() != 1f) {
            this.promptTokens = new TokenCounts();
            for (int id : promptTokens) this.promptTokens.add(id);
        } else {
            this.promptTokens = null;
        }
        this.work = penalized || !params.isGreedy() ? new float[vocabSize] : null;
    }

    private static void validate(SamplingParams p) {
        require(p.temperature() >= 0f && Float.isFinite(p.temperature()), "temperature", p.temperature());
        require(p.topP() > 0f && p.topP() <= 1f, "top_p", p.topP());
        require(p.topK() >= 0, "top_k", p.topK());
        require(p.minP() >= 0f && p.minP() <= 1f, "min_p", p.minP());
        require(p.repetitionPenalty() > 0f && Float.isFinite(p.repetitionPenalty()), "repetition_penalty",
                p.repetitionPenalty());
        require(Float.isFinite(p.presencePenalty()), "presence_penalty", p.presencePenalty());
        require(Float.isFinite(p.frequencyPenalty()), "frequency_penalty", p.frequencyPenalty());
        require(p.topLogprobs() >= 0 && p.topLogprobs() <= 20, "top_logprobs", p.topLogprobs());
    }

    private static void require(boolean ok, String name, Object value) {
        if (!ok) throw new IllegalArgumentException(name + " out of range: " + value);
    }

    /** Samples from {@code logits[offset, offset + vocabSize)} and records the token as generated. */
    public Sample sample(float[] logits, int offset) {
        if (offset < 0 || offset + vocabSize > logits.length) {
            throw new IllegalArgumentException("logits of length " + logits.length + " have no row of " + vocabSize
                    + " at " + offset);
        }
        float[] values = logits;
        int base = offset;
        if (work != null) {
            System.arraycopy(logits, offset, work, 0, vocabSize);
            values = work;
            base = 0;
            if (penalized) applyPenalties(work);
        }
        int token = params.isGreedy() ? argmax(values, base, vocabSize) : draw(work);
        TokenLogprobs logprobs = params.logprobs() || params.topLogprobs() > 0
                ? logprobs(logits, offset, token, params.topLogprobs()) : null;
        accept(token);
        return new Sample(token, logprobs);
    }

    /** Records a token as generated without sampling it (e.g. a forced or speculative token). */
    public void accept(int tokenId) {
        generated.add(tokenId);
        if (promptTokens != null) promptTokens.add(tokenId);
        nGenerated++;
    }

    public int nGenerated() { return nGenerated; }

    private void applyPenalties(float[] l) {
        float repetition = params.repetitionPenalty();
        if (promptTokens != null) {
            // promptTokens also receives every generated token: the penalty covers prompt and output.
            promptTokens.forEach((id, count) -> {
                if (id >= 0 && id < vocabSize) l[id] = l[id] > 0 ? l[id] / repetition : l[id] * repetition;
            });
        }
        float presence = params.presencePenalty();
        float frequency = params.frequencyPenalty();
        if (presence != 0f || frequency != 0f) {
            generated.forEach((id, count) -> {
                if (id >= 0 && id < vocabSize) l[id] -= count * frequency + presence;
            });
        }
    }

    static int argmax(float[] values, int offset, int n) {
        int best = 0;
        float bestValue = values[offset];
        for (int i = 1; i < n; i++) {
            float v = values[offset + i];
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        if (Float.isNaN(bestValue)) throw new IllegalStateException("logits contain NaN");
        return best;
    }

    /** Temperature, filters and the draw, over {@code l[0, vocabSize)} (overwritten with scaled logits). */
    private int draw(float[] l) {
        float inverseTemperature = 1f / params.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            l[i] *= inverseTemperature;
            if (l[i] > max) max = l[i];
        }
        if (!(max > Float.NEGATIVE_INFINITY) || Float.isNaN(max) || max == Float.POSITIVE_INFINITY) {
            throw new IllegalStateException("logits have no finite maximum after temperature " + params.temperature());
        }
        int topK = params.topK() > 0 && params.topK() < vocabSize ? params.topK() : 0;
        boolean nucleus = params.topP() < 1f;
        boolean minP = params.minP() > 0f;
        double u = random.nextDouble();
        if (topK == 0 && !nucleus && !minP) return drawUnfiltered(l, max, u);

        int[] order;
        double[] weights; // exp(l - max) of the sorted prefix
        if (topK > 0) {
            order = TopSelection.top(l, 0, vocabSize, topK);
            weights = weights(l, order, max);
        } else {
            double total = 0;
            for (int i = 0; i < vocabSize; i++) total += Math.exp(l[i] - max);
            int prefix = Math.min(FIRST_PREFIX, vocabSize);
            while (true) {
                order = TopSelection.top(l, 0, vocabSize, prefix);
                weights = weights(l, order, max);
                double mass = 0;
                for (double w : weights) mass += w;
                boolean cutInside = prefix == vocabSize
                        || (nucleus && mass / total > params.topP())
                        || (minP && weights[prefix - 1] < params.minP());
                if (cutInside) break;
                prefix = Math.min(vocabSize, prefix * 4);
            }
            return pick(order, weights, keptByFilters(weights, total, nucleus, minP), u);
        }
        double mass = 0;
        for (double w : weights) mass += w;
        return pick(order, weights, keptByFilters(weights, mass, nucleus, minP), u);
    }

    /**
     * How many of the sorted tokens survive top-p and min-p. {@code total} is the mass the probabilities are relative
     * to (all tokens, or the top-k survivors); weights are relative to the maximum, which is weights[0] = 1.
     */
    private int keptByFilters(double[] weights, double total, boolean nucleus, boolean minP) {
        int kept = weights.length;
        if (nucleus) {
            double before = 0;
            for (int j = 0; j < weights.length; j++) {
                if (before / total > params.topP()) {
                    kept = j;
                    break;
                }
                before += weights[j];
            }
        }
        if (minP) {
            for (int j = 1; j < kept; j++) {
                if (weights[j] < params.minP()) {
                    kept = j;
                    break;
                }
            }
        }
        return Math.max(1, kept);
    }

    private static double[] weights(float[] l, int[] order, float max) {
        double[] w = new double[order.length];
        for (int j = 0; j < order.length; j++) w[j] = Math.exp(l[order[j]] - max);
        return w;
    }

    private static int pick(int[] order, double[] weights, int kept, double u) {
        double mass = 0;
        for (int j = 0; j < kept; j++) mass += weights[j];
        double target = u * mass;
        double cumulative = 0;
        for (int j = 0; j < kept; j++) {
            cumulative += weights[j];
            if (target < cumulative) return order[j];
        }
        return order[kept - 1];
    }

    /** Plain softmax sampling over every token in id order; no sort needed. Overwrites l with the weights. */
    private int drawUnfiltered(float[] l, float max, double u) {
        double total = 0;
        for (int i = 0; i < vocabSize; i++) {
            l[i] = (float) Math.exp(l[i] - max);
            total += l[i];
        }
        double target = u * total;
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (l[i] > 0) last = i;
            cumulative += l[i];
            if (target < cumulative) return i;
        }
        return last;
    }

    /** log_softmax of the raw logits at the sampled token, and the k most likely tokens. */
    static TokenLogprobs logprobs(float[] logits, int offset, int n, int token, int k) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[offset + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(logits[offset + i] - max);
        double logZ = max + Math.log(sum);
        if (!Double.isFinite(logZ)) throw new IllegalStateException("logits are not finite");
        int[] top = TopSelection.top(logits, offset, n, k);
        float[] topLogprobs = new float[top.length];
        for (int j = 0; j < top.length; j++) {
            topLogprobs[j] = (float) (logits[offset + top[j]] - logZ);
        }
        return new TokenLogprobs((float) (logits[offset + token] - logZ), top, topLogprobs);
    }

    private TokenLogprobs logprobs(float[] logits, int offset, int token, int k) {
        return logprobs(logits, offset, vocabSize, token, k);
    }
}

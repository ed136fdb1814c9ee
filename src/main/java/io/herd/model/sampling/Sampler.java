package io.herd.model.sampling;

import java.util.Arrays;
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
 * The draw walks the kept tokens in id order with one uniform number from a {@link SplittableRandom} seeded with
 * {@link SamplingParams#seed()}: same seed and logits, same tokens (the order of the walk does not change the
 * distribution). The vocabulary is not sorted: top-k is a bounded heap (a primitive sort only when k is a large share
 * of the vocabulary), min-p a threshold, and top-p a histogram of the weights in which only the bucket holding the
 * cut is sorted, so one step costs O(vocab).
 *
 * <p>Log-probabilities, when requested, come from the unmodified model distribution: {@code log_softmax(logits)}
 * before penalties, temperature or filters.
 */
public final class Sampler {
    private final SamplingParams params;
    private final int vocabSize;
    private final SplittableRandom random;
    /** Distinct prompt and output tokens, for the repetition penalty; null when it is off. */
    private final TokenCounts seenTokens;
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
        for (int id : params.logitBiasIds()) require(id >= 0 && id < vocabSize, "logit_bias token id", id);
        this.params = params;
        this.vocabSize = vocabSize;
        this.random = new SplittableRandom(params.seed());
        this.penalized = params.repetitionPenalty() != 1f || params.presencePenalty() != 0f
                || params.frequencyPenalty() != 0f || params.logitBiasIds().length > 0 || params.minTokens() > 0;
        if (params.repetitionPenalty() != 1f) {
            this.seenTokens = new TokenCounts();
            for (int id : promptTokens) this.seenTokens.add(id);
        } else {
            this.seenTokens = null;
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
        require(p.minTokens() >= 0, "min_tokens", p.minTokens());
        require(p.logitBiasIds().length == p.logitBiasValues().length, "logit_bias", p.logitBiasIds().length);
        for (float b : p.logitBiasValues()) require(b >= -100f && b <= 100f, "logit_bias", b);
    }

    private static void require(boolean ok, String name, Object value) {
        if (!ok) throw new IllegalArgumentException(name + " out of range: " + value);
    }

    /** Samples from {@code logits[offset, offset + vocabSize)} and records the token as generated. */
    public Sample sample(float[] logits, int offset) { return sample(logits, offset, null); }

    /**
     * Samples among the tokens set in {@code allowed} (a bitset over ids: bit {@code id & 63} of word
     * {@code id >>> 6}; null allows all): the others get logit -∞ after the penalties, so temperature and the filters
     * see only allowed tokens. Log-probabilities still come from the unconstrained distribution.
     *
     * @throws IllegalArgumentException when the mask allows no token
     */
    public Sample sample(float[] logits, int offset, long[] allowed) {
        if (offset < 0 || offset + vocabSize > logits.length) {
            throw new IllegalArgumentException("logits of length " + logits.length + " have no row of " + vocabSize
                    + " at " + offset);
        }
        float[] values = logits;
        int base = offset;
        float[] scratch = work;
        if (allowed != null && scratch == null) scratch = maskScratch();
        if (scratch != null) {
            System.arraycopy(logits, offset, scratch, 0, vocabSize);
            values = scratch;
            base = 0;
            if (penalized) applyPenalties(scratch);
            if (allowed != null) applyMask(scratch, allowed);
            else if (nGenerated < params.minTokens()) suppressStops(scratch);
        }
        int token = params.isGreedy() ? argmax(values, base, vocabSize) : draw(scratch);
        if (allowed != null && (allowed[token >>> 6] & (1L << token)) == 0) {
            // Rounding in the draw can land on a zero-weight token; the largest remaining value is allowed.
            token = argmax(scratch, 0, vocabSize);
        }
        TokenLogprobs logprobs = params.logprobs() || params.topLogprobs() > 0
                ? logprobs(logits, offset, token, params.topLogprobs()) : null;
        accept(token);
        return new Sample(token, logprobs);
    }

    private float[] maskScratch;

    private float[] maskScratch() {
        if (maskScratch == null) maskScratch = new float[vocabSize];
        return maskScratch;
    }

    /** Sets every token the mask does not allow to -∞: one pass over the zero bits of each word. */
    private void applyMask(float[] l, long[] allowed) {
        boolean any = false;
        for (int w = 0; w < allowed.length; w++) {
            long word = allowed[w];
            if (word != 0) any = true;
            long refused = ~word;
            while (refused != 0) {
                int id = (w << 6) + Long.numberOfTrailingZeros(refused);
                if (id >= vocabSize) break;
                l[id] = Float.NEGATIVE_INFINITY;
                refused &= refused - 1;
            }
        }
        if (!any) throw new IllegalArgumentException("the token mask allows no token");
    }

    /** Records a token as generated without sampling it (e.g. a forced or speculative token). */
    public void accept(int tokenId) {
        generated.add(tokenId);
        if (seenTokens != null) seenTokens.add(tokenId);
        nGenerated++;
    }

    public int nGenerated() { return nGenerated; }

    public SamplingParams params() { return params; }

    /** min_tokens: no stop token yet (an output constraint overrides it: a complete document may only stop). */
    private void suppressStops(float[] l) {
        for (int id : params.stopTokenIds()) if (id >= 0 && id < vocabSize) l[id] = Float.NEGATIVE_INFINITY;
    }

    private void applyPenalties(float[] l) {
        int[] biasIds = params.logitBiasIds();
        for (int i = 0; i < biasIds.length; i++) {
            if (biasIds[i] >= 0 && biasIds[i] < vocabSize) l[biasIds[i]] += params.logitBiasValues()[i];
        }

        float repetition = params.repetitionPenalty();
        if (seenTokens != null) {
            seenTokens.forEach((id, count) -> {
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

    /** Temperature, filters and the draw, over {@code l[0, vocabSize)} (overwritten). */
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
        if (topK > 0) return drawTopK(l, max, topK, nucleus, minP, u);

        // Weights relative to the most likely token (which has weight 1), in place.
        double total = 0;
        for (int i = 0; i < vocabSize; i++) {
            l[i] = (float) Math.exp(l[i] - max);
            total += l[i];
        }
        long minKeptKey = nucleus ? nucleusBoundary(l, total) : Long.MIN_VALUE;
        float minWeight = minP ? params.minP() : 0f;
        double mass = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (kept(l[i], i, minKeptKey, minWeight)) mass += l[i];
        }
        double target = u * mass;
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < vocabSize; i++) {
            if (!kept(l[i], i, minKeptKey, minWeight)) continue;
            last = i;
            cumulative += l[i];
            if (target < cumulative) return i;
        }
        return last;
    }

    /** The most likely token is always kept: it passes min-p (weight 1) and the nucleus cut (nothing before it). */
    private static boolean kept(float weight, int id, long minKeptKey, float minWeight) {
        return weight > 0f && weight >= minWeight && TopSelection.key(weight, id) >= minKeptKey;
    }

    /**
     * Meta's top-p cut without sorting the vocabulary: a histogram of the weights by their float bits (16 buckets per
     * octave) finds the one bucket in which the cumulative mass passes p; only that bucket is sorted. Returns the key
     * ({@link TopSelection#key}) of the last kept token: tokens with a larger or equal key are kept.
     */
    private long nucleusBoundary(float[] w, double total) {
        double limit = params.topP() * total;
        double[] bucketMass = new double[NUCLEUS_BUCKETS];
        int[] bucketCount = new int[NUCLEUS_BUCKETS];
        for (int i = 0; i < vocabSize; i++) {
            int b = bucket(w[i]);
            bucketMass[b] += w[i];
            bucketCount[b]++;
        }
        double before = 0;
        int boundary = 0;
        while (boundary < NUCLEUS_BUCKETS && before + bucketMass[boundary] <= limit) before += bucketMass[boundary++];
        if (boundary == NUCLEUS_BUCKETS) return Long.MIN_VALUE;
        long[] keys = new long[bucketCount[boundary]];
        int n = 0;
        for (int i = 0; i < vocabSize; i++) if (bucket(w[i]) == boundary) keys[n++] = TopSelection.key(w[i], i);
        Arrays.sort(keys);
        long lastKept = Long.MAX_VALUE;
        for (int j = n - 1; j >= 0; j--) {
            if (before > limit) break;
            lastKept = keys[j];
            before += Float.intBitsToFloat((int) (keys[j] >>> 32));
        }
        return lastKept;
    }

    /** 16 buckets per octave below 1; weights under 2^-40 share the last bucket. */
    private static final int NUCLEUS_BUCKETS = 40 * 16 + 1;

    private static int bucket(float weight) {
        int below = (Float.floatToRawIntBits(1f) - Float.floatToRawIntBits(weight)) >>> 19;
        return Math.min(below, NUCLEUS_BUCKETS - 1);
    }

    /** Top-k by partial selection, then top-p and min-p over the k survivors; the draw walks them in id order. */
    private int drawTopK(float[] l, float max, int topK, boolean nucleus, boolean minP, double u) {
        int[] order = TopSelection.top(l, 0, vocabSize, topK);
        double[] weights = new double[order.length];
        double mass = 0;
        for (int j = 0; j < order.length; j++) mass += weights[j] = Math.exp(l[order[j]] - max);
        int kept = keptByFilters(weights, mass, nucleus, minP);
        int[] ids = Arrays.copyOf(order, kept);
        Arrays.sort(ids);
        double keptMass = 0;
        for (int id : ids) keptMass += Math.exp(l[id] - max);
        double target = u * keptMass;
        double cumulative = 0;
        for (int id : ids) {
            cumulative += Math.exp(l[id] - max);
            if (target < cumulative) return id;
        }
        return ids[kept - 1];
    }

    /**
     * How many of the sorted tokens survive top-p and min-p. {@code total} is the mass the probabilities are relative
     * to (the top-k survivors); weights are relative to the maximum, which is weights[0] = 1.
     */
    private int keptByFilters(double[] weights, double total, boolean nucleus, boolean minP) {
        int kept = weights.length;
        if (nucleus) {
            double before = 0;
            for (int j = 0; j < weights.length; j++) {
                if (before > params.topP() * total) {
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

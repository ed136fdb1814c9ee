package io.herd.model.sampling;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SamplerTest {

    private static SamplingParams params(float temperature, float topP, int topK, float minP, long seed,
                                         float repetition, float presence, float frequency, int topLogprobs) {
        return new SamplingParams(temperature, topP, topK, minP, seed, repetition, presence, frequency, new int[0],
                64, topLogprobs > 0, topLogprobs);
    }

    private static SamplingParams temperature(float t, float topP, int topK, float minP, long seed) {
        return params(t, topP, topK, minP, seed, 1f, 0f, 0f, 0);
    }

    private static float[] logOf(double... probabilities) {
        float[] l = new float[probabilities.length];
        for (int i = 0; i < l.length; i++) l[i] = (float) Math.log(probabilities[i]);
        return l;
    }

    /** How often each token is drawn by n single-draw samplers with seeds 0 … n-1. */
    private static int[] counts(SamplingParams base, float[] logits, int n) {
        int[] count = new int[logits.length];
        for (int seed = 0; seed < n; seed++) {
            SamplingParams p = new SamplingParams(base.temperature(), base.topP(), base.topK(), base.minP(), seed,
                    base.repetitionPenalty(), base.presencePenalty(), base.frequencyPenalty(), new int[0], 1, false, 0);
            count[new Sampler(p, logits.length, new int[0]).sample(logits, 0).tokenId()]++;
        }
        return count;
    }

    /** The share of each token over n seeds. */
    private static double[] shares(SamplingParams base, float[] logits, int n) {
        double[] share = new double[logits.length];
        for (int seed = 0; seed < n; seed++) {
            SamplingParams p = new SamplingParams(base.temperature(), base.topP(), base.topK(), base.minP(), seed,
                    base.repetitionPenalty(), base.presencePenalty(), base.frequencyPenalty(), new int[0], 1, false, 0);
            share[new Sampler(p, logits.length, new int[0]).sample(logits, 0).tokenId()] += 1.0 / n;
        }
        return share;
    }

    @Test
    void greedyTakesTheArgmaxWithLowestIdOnTiesAndLeavesLogitsAlone() {
        float[] logits = {0.5f, 3f, 1f, 3f, -2f};
        float[] copy = logits.clone();
        Sampler sampler = new Sampler(SamplingParams.greedy(8), 5, new int[0]);
        assertThat(sampler.sample(logits, 0).tokenId()).isEqualTo(1);
        assertThat(logits).containsExactly(copy);
        float[] batch = {9f, 9f, 0f, 0f, 1f, 7f};
        assertThat(new Sampler(SamplingParams.greedy(8), 3, new int[0]).sample(batch, 3).tokenId()).isEqualTo(2);
        assertThat(sampler.sample(logits, 0).logprobs()).isNull();
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfPromptAndOutput() {
        SamplingParams p = params(0f, 1f, 0, 0f, 0, 1.2f, 0f, 0f, 0);
        // 2.0 / 1.2 = 1.667 < 1.9: the prompt token loses.
        assertThat(new Sampler(p, 2, new int[]{0}).sample(new float[]{2f, 1.9f}, 0).tokenId()).isEqualTo(1);
        // -1.0 · 1.2 = -1.2 < -1.1.
        assertThat(new Sampler(p, 2, new int[]{0}).sample(new float[]{-1f, -1.1f}, 0).tokenId()).isEqualTo(1);
        // Without the penalty the first wins.
        assertThat(new Sampler(p, 2, new int[]{5}).sample(new float[]{2f, 1.9f}, 0).tokenId()).isEqualTo(0);
        // Generated tokens are penalised too, once however often they occur.
        Sampler sampler = new Sampler(p, 2, new int[0]);
        sampler.accept(0);
        sampler.accept(0);
        // 2.0 / 1.2 = 1.667 > 1.6; penalised twice (1.389) it would lose.
        assertThat(sampler.sample(new float[]{2f, 1.6f}, 0).tokenId()).isEqualTo(0);
    }

    @Test
    void presencePenaltyIsOncePerTokenAndFrequencyPenaltyPerOccurrence() {
        Sampler presence = new Sampler(params(0f, 1f, 0, 0f, 0, 1f, 0.3f, 0f, 0), 2, new int[]{1, 1, 1});
        assertThat(presence.sample(new float[]{1f, 0.8f}, 0).tokenId()).as("prompt is not penalised").isEqualTo(0);
        // Token 0 was generated once: 1.0 - 0.3 = 0.7 < 0.8.
        assertThat(presence.sample(new float[]{1f, 0.8f}, 0).tokenId()).isEqualTo(1);
        Sampler presenceOnce = new Sampler(params(0f, 1f, 0, 0f, 0, 1f, 0.1f, 0f, 0), 2, new int[0]);
        for (int i = 0; i < 5; i++) presenceOnce.accept(0);
        assertThat(presenceOnce.sample(new float[]{1f, 0.8f}, 0).tokenId()).as("0.9 > 0.8").isEqualTo(0);

        Sampler frequency = new Sampler(params(0f, 1f, 0, 0f, 0, 1f, 0f, 0.2f, 0), 2, new int[0]);
        frequency.accept(0);
        frequency.accept(0);
        assertThat(frequency.sample(new float[]{1f, 0.5f}, 0).tokenId()).as("1 - 2·0.2 = 0.6 > 0.5").isEqualTo(0);
        assertThat(frequency.sample(new float[]{1f, 0.5f}, 0).tokenId()).as("1 - 3·0.2 = 0.4 < 0.5").isEqualTo(1);
    }

    @Test
    void topKKeepsOnlyTheKMostLikely() {
        float[] logits = logOf(0.1, 0.4, 0.2, 0.3);
        assertThat(counts(temperature(1f, 1f, 1, 0f, 0), logits, 300)).containsExactly(0, 300, 0, 0);
        double[] share = shares(temperature(1f, 1f, 2, 0f, 0), logits, 2000);
        assertThat(share[0]).isZero();
        assertThat(share[2]).isZero();
        assertThat(share[1]).isCloseTo(0.4 / 0.7, within(0.04));
        assertThat(share[3]).isCloseTo(0.3 / 0.7, within(0.04));
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        float[] logits = logOf(0.5, 0.3, 0.15, 0.05);
        // Cumulative mass before each token: 0, 0.5, 0.8, 0.95.
        assertThat(counts(temperature(1f, 0.4f, 0, 0f, 0), logits, 200)).containsExactly(200, 0, 0, 0);
        double[] share = shares(temperature(1f, 0.75f, 0, 0f, 0), logits, 2000);
        assertThat(share[2] + share[3]).isZero();
        assertThat(share[0]).isCloseTo(0.5 / 0.8, within(0.04));
        share = shares(temperature(1f, 0.85f, 0, 0f, 0), logits, 2000);
        assertThat(share[3]).isZero();
        assertThat(share[2]).isCloseTo(0.15 / 0.95, within(0.03));
    }

    @Test
    void topPAppliesToWhatTopKLeft() {
        float[] logits = logOf(0.4, 0.3, 0.2, 0.1);
        // Top-2 renormalised: 4/7, 3/7. Top-p 0.5 keeps only the first (4/7 ≥ 0.5); over all four it would keep two.
        assertThat(counts(temperature(1f, 0.5f, 2, 0f, 0), logits, 200)).containsExactly(200, 0, 0, 0);
        assertThat(shares(temperature(1f, 0.5f, 0, 0f, 0), logits, 2000)[1]).isPositive();
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheMostLikely() {
        float[] logits = logOf(0.5, 0.3, 0.15, 0.05);
        // Threshold 0.35 · 0.5 = 0.175: 0.15 and 0.05 go.
        double[] share = shares(temperature(1f, 1f, 0, 0.35f, 0), logits, 2000);
        assertThat(share[2] + share[3]).isZero();
        assertThat(share[1]).isCloseTo(0.3 / 0.8, within(0.04));
        assertThat(counts(temperature(1f, 1f, 0, 1f, 0), logits, 200)).containsExactly(200, 0, 0, 0);
    }

    @Test
    void temperatureSharpensOrFlattens() {
        float[] logits = logOf(0.5, 0.3, 0.15, 0.05);
        assertThat(counts(temperature(0.01f, 1f, 0, 0f, 0), logits, 200)).containsExactly(200, 0, 0, 0);
        double[] flat = shares(temperature(1000f, 1f, 0, 0f, 0), logits, 4000);
        for (double s : flat) assertThat(s).isCloseTo(0.25, within(0.03));
        double[] plain = shares(temperature(1f, 1f, 0, 0f, 0), logits, 4000);
        assertThat(plain[0]).isCloseTo(0.5, within(0.03));
        assertThat(plain[3]).isCloseTo(0.05, within(0.015));
    }

    @Test
    void sameSeedSameTokensAndOtherSeedOtherTokens() {
        float[] logits = new float[1000];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        int[] a = run(temperature(1f, 0.95f, 0, 0f, 42), logits);
        int[] b = run(temperature(1f, 0.95f, 0, 0f, 42), logits);
        int[] c = run(temperature(1f, 0.95f, 0, 0f, 43), logits);
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    private static int[] run(SamplingParams p, float[] logits) {
        Sampler sampler = new Sampler(p, logits.length, new int[0]);
        return IntStream.range(0, 50).map(i -> sampler.sample(logits, 0).tokenId()).toArray();
    }

    @Test
    void logprobsComeFromTheUnmodifiedDistribution() {
        float[] logits = {1f, 2f, 3f};
        double logZ = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
        // Penalties and temperature change the pick (token 2 is penalised away), never the reported log-probs.
        Sampler sampler = new Sampler(params(0.5f, 1f, 1, 0f, 0, 10f, 0f, 0f, 2), 3, new int[]{2});
        Sampler.Sample s = sampler.sample(logits, 0);
        assertThat(s.tokenId()).isEqualTo(1);
        assertThat((double) s.logprobs().logprob()).isCloseTo(2 - logZ, within(1e-6));
        assertThat(s.logprobs().topIds()).containsExactly(2, 1);
        assertThat((double) s.logprobs().topLogprobs()[0]).isCloseTo(3 - logZ, within(1e-6));
        assertThat((double) s.logprobs().topLogprobs()[1]).isCloseTo(2 - logZ, within(1e-6));
        SamplingParams onlyLogprob = new SamplingParams(0f, 1f, 0, 0f, 0, 1f, 0f, 0f, new int[0], 4, true, 0);
        TokenLogprobs lp = new Sampler(onlyLogprob, 3, new int[0]).sample(logits, 0).logprobs();
        assertThat((double) lp.logprob()).isCloseTo(3 - logZ, within(1e-6));
        assertThat(lp.topIds()).isEmpty();
    }

    @Test
    void rejectsParametersOutOfRange() {
        assertThatThrownBy(() -> new Sampler(temperature(1f, 0f, 0, 0f, 0), 4, new int[0]))
                .hasMessageContaining("top_p");
        assertThatThrownBy(() -> new Sampler(temperature(-1f, 1f, 0, 0f, 0), 4, new int[0]))
                .hasMessageContaining("temperature");
        assertThatThrownBy(() -> new Sampler(params(0f, 1f, 0, 0f, 0, 1f, 0f, 0f, 21), 4, new int[0]))
                .hasMessageContaining("top_logprobs");
        assertThatThrownBy(() -> new Sampler(SamplingParams.greedy(1), 4, new int[0]).sample(new float[3], 0))
                .hasMessageContaining("length 3");
    }

    /**
     * On a Llama 4-sized vocabulary the partial selection must pick exactly what a full sort with Meta's rule picks
     * for the same uniform number (the sampler's first draw from {@code SplittableRandom(seed)}).
     */
    @Test
    void partialSelectionEqualsAFullSortOnTheLlama4Vocabulary() {
        int vocab = 202_048;
        float[] peaked = new float[vocab];
        float[] flat = new float[vocab];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < vocab; i++) {
            peaked[i] = (float) (r.nextGaussian() * 3);
            flat[i] = (float) (r.nextGaussian() * 0.01);
        }
        float[][] settings = {{0.6f, 0.9f, 0, 0f}, {1f, 0.5f, 0, 0f}, {0.8f, 1f, 0, 0.2f}, {1f, 0.9f, 50, 0f},
                {1.3f, 0.95f, 0, 0.05f}, {1f, 1f, 0, 0f}, {0.7f, 1f, 1000, 0f}};
        // The flat case makes the sorted prefix grow to the whole vocabulary.
        float[][] flatSettings = {{0.6f, 0.9f, 0, 0f}, {1.3f, 0.95f, 0, 0.05f}, {0.7f, 1f, 1000, 0f}};
        for (float[] logits : new float[][]{peaked, flat}) {
            for (float[] s : logits == peaked ? settings : flatSettings) {
                SamplingParams settings0 = temperature(s[0], s[1], (int) s[2], s[3], 0);
                Reference ref = new Reference(logits, settings0);
                for (long seed = 0; seed < 3; seed++) {
                    SamplingParams p = temperature(s[0], s[1], (int) s[2], s[3], seed);
                    int expected = ref.pick(new SplittableRandom(seed).nextDouble());
                    int actual = new Sampler(p, vocab, new int[0]).sample(logits, 0).tokenId();
                    assertThat(actual).as("T=%s p=%s k=%s minP=%s seed=%d", s[0], s[1], s[2], s[3], seed)
                            .isEqualTo(expected);
                }
            }
        }
    }

    /** Full sort and Meta's top-p, HF's order of filters, then a walk over the kept tokens in id order. */
    private static final class Reference {
        final int[] keptIds;
        final double[] keptWeights;

        Reference(float[] logits, SamplingParams p) {
            int n = logits.length;
            float[] scaled = new float[n];
            for (int i = 0; i < n; i++) scaled[i] = logits[i] * (1f / p.temperature());
            float max = Float.NEGATIVE_INFINITY;
            for (float v : scaled) max = Math.max(max, v);
            double[] w = new double[n];
            for (int i = 0; i < n; i++) w[i] = (float) Math.exp(scaled[i] - max);
            int[] order = IntStream.range(0, n).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> -scaled[i]).thenComparingInt(i -> i))
                    .mapToInt(Integer::intValue).toArray();
            int candidates = p.topK() > 0 ? Math.min(p.topK(), n) : n;
            double total = 0;
            for (int j = 0; j < candidates; j++) total += w[order[j]];
            int keep = candidates;
            double before = 0;
            for (int j = 0; j < candidates; j++) {
                if (before > p.topP() * total) {
                    keep = j;
                    break;
                }
                before += w[order[j]];
            }
            for (int j = 1; j < keep; j++) {
                if (w[order[j]] < p.minP()) {
                    keep = j;
                    break;
                }
            }
            keptIds = Arrays.copyOf(order, Math.max(1, keep));
            Arrays.sort(keptIds);
            keptWeights = Arrays.stream(keptIds).mapToDouble(i -> w[i]).toArray();
        }

        int pick(double u) {
            double mass = Arrays.stream(keptWeights).sum();
            double c = 0;
            for (int j = 0; j < keptIds.length; j++) if (u * mass < (c += keptWeights[j])) return keptIds[j];
            return keptIds[keptIds.length - 1];
        }
    }

    @Test
    void topSelectionOrdersByValueThenId() {
        float[] v = {1f, 5f, -3f, 5f, 2f, Float.NEGATIVE_INFINITY, 2f};
        assertThat(TopSelection.top(v, 0, v.length, 4)).containsExactly(1, 3, 4, 6);
        assertThat(TopSelection.top(v, 0, v.length, 7)).containsExactly(1, 3, 4, 6, 0, 2, 5);
        assertThat(TopSelection.top(v, 2, 5, 2)).containsExactly(1, 2);
        TreeSet<Integer> seen = new TreeSet<>();
        for (int id : TopSelection.top(new float[500], 0, 500, 10)) seen.add(id);
        assertThat(seen).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    }
}

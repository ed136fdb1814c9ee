package io.herd.model.sampling;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The allowed-token mask: greedy and random draws only ever return allowed ids; logprobs stay unconstrained. */
final class SamplerMaskTest {
    private static final int VOCAB = 300;

    private static long[] maskOf(int... ids) {
        long[] m = new long[(VOCAB + 63) / 64];
        for (int id : ids) m[id >>> 6] |= 1L << id;
        return m;
    }

    @Test
    void greedyTakesTheBestAllowedToken() {
        float[] logits = new float[VOCAB];
        logits[7] = 10f;
        logits[200] = 3f;
        logits[130] = 5f;
        Sampler s = new Sampler(SamplingParams.greedy(10), VOCAB, new int[0]);
        assertThat(s.sample(logits, 0, maskOf(200, 130, 299)).tokenId()).isEqualTo(130);
        assertThat(s.sample(logits, 0, null).tokenId()).isEqualTo(7);
    }

    @Test
    void randomDrawsStayInsideTheMask() {
        SplittableRandom r = new SplittableRandom(1);
        long[] mask = maskOf(3, 64, 65, 127, 128, 250);
        for (int topK : new int[]{0, 5, 1000}) {
            Sampler s = new Sampler(new SamplingParams(1.5f, 0.9f, topK, 0.01f, 9, 1.2f, 0.5f, 0.5f, new int[0], 1000,
                    true, 2), VOCAB, new int[]{3, 64});
            for (int i = 0; i < 300; i++) {
                float[] logits = new float[VOCAB];
                for (int j = 0; j < VOCAB; j++) logits[j] = (float) r.nextGaussian() * 4f;
                logits[17] = 40f; // by far the most likely, and not allowed
                Sampler.Sample t = s.sample(logits, 0, mask);
                assertThat(mask[t.tokenId() >>> 6] & (1L << t.tokenId())).isNotZero();
                assertThat(t.logprobs().topIds()[0]).isEqualTo(17); // from the unconstrained distribution
            }
        }
    }

    @Test
    void logitBiasAndMinTokens() {
        float[] logits = new float[VOCAB];
        logits[7] = 10f;
        logits[9] = 9f;
        SamplingParams p = new SamplingParams(0f, 1f, 0, 0f, 1, 1f, 0f, 0f, new int[]{7}, 10, false, 0, 2,
                new int[]{9, 11}, new float[]{0.5f, 20f});
        Sampler s = new Sampler(p, VOCAB, new int[0]);
        assertThat(s.sample(logits, 0).tokenId()).isEqualTo(11); // biased up to 20
        logits[11] = -100f;
        assertThat(s.sample(logits, 0).tokenId()).isEqualTo(9); // 7 is a stop token before min_tokens = 2
        assertThat(s.sample(logits, 0).tokenId()).isEqualTo(7); // now it may stop
        assertThatThrownBy(() -> new Sampler(new SamplingParams(0f, 1f, 0, 0f, 1, 1f, 0f, 0f, new int[0], 10, false, 0, 0,
                new int[]{VOCAB}, new float[]{1f}), VOCAB, new int[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEmptyMaskIsRefused() {
        Sampler s = new Sampler(SamplingParams.greedy(10), VOCAB, new int[0]);
        assertThatThrownBy(() -> s.sample(new float[VOCAB], 0, new long[5])).isInstanceOf(IllegalArgumentException.class);
    }
}

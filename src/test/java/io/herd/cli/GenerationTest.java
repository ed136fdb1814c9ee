package io.herd.cli;

import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;
import io.herd.model.SingleSequence;
import io.herd.model.sampling.Sampler;
import io.herd.model.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The loop against a scripted forward pass: what it feeds back, when it stops. */
class GenerationTest {
    private static final int VOCAB = 16;

    /** Emits logits whose argmax is the next scripted token and records every chunk it was given. */
    static final class ScriptedForwardPass implements ForwardPass {
        final int[] script;
        final List<SequenceChunk> calls = new ArrayList<>();
        final Llama4Config config = new Llama4Config(8, 1, 2, 1, 4, 8, 8, 2, 1, new boolean[]{true},
                new boolean[]{true}, false, 8, false, 1f, 0.1f, 1e-5f, 10000f, null, VOCAB, 64, 1, new int[]{2}, 0);

        ScriptedForwardPass(int... script) { this.script = script; }

        @Override public Llama4Config config() { return config; }

        @Override public KvCacheSpec kvSpec() { return new KvCacheSpec(8, 8, 1, 0, 0); }

        @Override
        public List<float[]> forward(List<SequenceChunk> chunks) {
            calls.add(chunks.getFirst());
            float[] logits = new float[VOCAB];
            logits[script[calls.size() - 1]] = 5f;
            return List.of(logits);
        }

        @Override public void close() {}
    }

    @Test
    void stopsOnAStopIdAndFeedsEachTokenBack() {
        ScriptedForwardPass fp = new ScriptedForwardPass(5, 7, 2, 9);
        List<Integer> seen = new ArrayList<>();
        Generation.Result r = Generation.run(new SingleSequence(fp), new Sampler(SamplingParams.greedy(10), VOCAB,
                new int[0]), new int[]{1, 3, 4}, 10, new int[]{2}, (i, id, lp) -> seen.add(id));
        assertThat(r.completion()).containsExactly(5, 7, 2);
        assertThat(r.finishReason()).isEqualTo(Generation.FinishReason.STOP);
        assertThat(seen).containsExactly(5, 7, 2);
        assertThat(fp.calls).hasSize(3);
        assertThat(fp.calls.get(0).tokens()).containsExactly(1, 3, 4);
        assertThat(fp.calls.get(1).tokens()).containsExactly(5);
        assertThat(fp.calls.get(1).startPos()).isEqualTo(3);
        assertThat(fp.calls.get(2).tokens()).containsExactly(7);
        assertThat(fp.calls.get(2).startPos()).isEqualTo(4);
    }

    @Test
    void stopsAtMaxTokensWithoutComputingAnUnusedStep() {
        ScriptedForwardPass fp = new ScriptedForwardPass(5, 7, 9, 9);
        Generation.Result r = Generation.run(new SingleSequence(fp), new Sampler(SamplingParams.greedy(2), VOCAB,
                new int[0]), new int[]{1}, 2, new int[]{2}, (i, id, lp) -> {});
        assertThat(r.completion()).containsExactly(5, 7);
        assertThat(r.finishReason()).isEqualTo(Generation.FinishReason.LENGTH);
        assertThat(fp.calls).hasSize(2);
    }
}

package io.herd.model;

import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CPU engine in F32 mode against Hugging Face's logits, greedy continuations and their log-probabilities, on the
 * shared fixtures and the test-resource hf-cases.
 */
class CpuForwardPassFidelityTest {
    static List<String> models() { return Fixtures.ALL; }

    private static final int BLOCK_SIZE = 4;

    private record Model(SafetensorsCheckpoint checkpoint, Llama4Weights weights) implements AutoCloseable {
        static Model open(String name) {
            var dir = Fixtures.modelDir(name);
            Llama4Config config = Llama4ConfigParser.parse(dir.resolve("config.json"));
            SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir);
            return new Model(ckpt, Llama4Weights.load(ckpt, config, WeightQuantization.NONE));
        }

        CpuForwardPass forwardPass(int maxPositions, Precision precision) {
            return new CpuForwardPass(weights, KvBlockCounts.forSingleSequence(weights.config(), maxPositions, BLOCK_SIZE),
                    precision, 2);
        }

        @Override public void close() { checkpoint.close(); }
    }

    @ParameterizedTest
    @MethodSource("models")
    void promptLogitsMatchHuggingFace(String name) {
        var expected = Fixtures.expected(name);
        try (Model m = Model.open(name); CpuForwardPass fp = m.forwardPass(64, Precision.F32)) {
            int vocab = m.weights().config().vocabSize();
            for (var c : expected.cases()) {
                SingleSequence seq = new SingleSequence(fp);
                float[] logits = seq.append(c.promptIds(), c.promptIds().length);
                double worst = 0;
                for (int p = 0; p < c.promptIds().length; p++)
                    for (int v = 0; v < vocab; v++)
                        worst = Math.max(worst, Math.abs(logits[p * vocab + v] - c.promptLogits()[p][v]));
                System.out.printf("[F32 vs HF] %s/%s: %d positions, max |logit diff| %.2e%n", name, c.name(), c.promptIds().length, worst);
                assertThat(worst).as("%s/%s max |logit diff|", name, c.name()).isLessThanOrEqualTo(expected.logitsMaxAbs());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void greedyContinuationWithKvCacheMatches(String name) {
        var expected = Fixtures.expected(name);
        try (Model m = Model.open(name); CpuForwardPass fp = m.forwardPass(64, Precision.F32)) {
            for (var c : expected.cases()) {
                int[] ids = new SingleSequence(fp).greedy(c.promptIds(), c.greedyIds().length);
                assertThat(ids).as("%s/%s greedy", name, c.name()).containsExactly(c.greedyIds());
            }
        }
    }

    /** The log-softmax at every greedy step (prefill, then one decode per token) against HF's top-5 log-probabilities. */
    @ParameterizedTest
    @MethodSource("models")
    void greedyStepLogprobsMatchHuggingFace(String name) {
        var expected = Fixtures.expected(name);
        try (Model m = Model.open(name); CpuForwardPass fp = m.forwardPass(64, Precision.F32)) {
            for (var c : expected.cases()) {
                SingleSequence seq = new SingleSequence(fp);
                float[] logits = seq.prefill(c.promptIds());
                double worst = 0;
                for (int i = 0; i < c.greedyIds().length; i++) {
                    double[] logprobs = logSoftmax(logits);
                    for (int j = 0; j < c.greedyTopIds()[i].length; j++)
                        worst = Math.max(worst, Math.abs(logprobs[c.greedyTopIds()[i][j]] - c.greedyTopLogprobs()[i][j]));
                    assertThat(SingleSequence.argmax(logits)).as("%s/%s step %d", name, c.name(), i).isEqualTo(c.greedyIds()[i]);
                    logits = seq.decode(c.greedyIds()[i]);
                }
                System.out.printf("[F32 vs HF] %s/%s: %d steps, max |logprob diff| %.2e%n", name, c.name(), c.greedyIds().length, worst);
                assertThat(worst).as("%s/%s max |logprob diff|", name, c.name()).isLessThanOrEqualTo(expected.logitsMaxAbs());
            }
        }
    }

    private static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) max = Math.max(max, l);
        for (float l : logits) sum += Math.exp(l - max);
        double logZ = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < out.length; i++) out[i] = logits[i] - logZ;
        return out;
    }

    @ParameterizedTest
    @MethodSource("models")
    void chunkedPrefillGivesTheSameGreedyContinuation(String name) {
        var expected = Fixtures.expected(name);
        try (Model m = Model.open(name); CpuForwardPass fp = m.forwardPass(64, Precision.F32)) {
            for (var c : expected.cases()) {
                for (int piece : new int[] {1, 3, 5}) {
                    SingleSequence seq = new SingleSequence(fp);
                    int[] prompt = c.promptIds();
                    float[] logits = null;
                    for (int off = 0; off < prompt.length; off += piece)
                        logits = seq.prefill(Arrays.copyOfRange(prompt, off, Math.min(prompt.length, off + piece)));
                    int[] ids = new int[c.greedyIds().length];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = SingleSequence.argmax(logits);
                        logits = seq.decode(ids[i]);
                    }
                    assertThat(ids).as("%s/%s prompt fed in pieces of %d", name, c.name(), piece).containsExactly(c.greedyIds());
                }
            }
        }
    }

    /** All cases of a fixture decoded together: one forward call per step with every sequence in the batch. */
    @ParameterizedTest
    @MethodSource("models")
    void batchedSequencesMatch(String name) {
        var expected = Fixtures.expected(name);
        List<Fixtures.Case> cases = expected.cases();
        int maxLen = 64, blocksPerSeq = maxLen / BLOCK_SIZE, n = cases.size();
        try (Model m = Model.open(name);
             CpuForwardPass fp = new CpuForwardPass(m.weights(), new KvBlockCounts(BLOCK_SIZE, n * blocksPerSeq, n * blocksPerSeq),
                     Precision.F32, 2)) {
            int vocab = m.weights().config().vocabSize();
            int[] pos = new int[n];
            int[][] generated = new int[n][];
            List<ForwardPass.SequenceChunk> step = new ArrayList<>();
            for (int s = 0; s < n; s++) {
                generated[s] = new int[cases.get(s).greedyIds().length];
                step.add(chunk(cases.get(s).promptIds(), 0, s, blocksPerSeq, cases.get(s).promptIds().length));
            }
            // Interleave: sequence s's blocks are s*blocksPerSeq … (s+1)*blocksPerSeq-1 (reverse order to scramble ids).
            List<float[]> out = fp.forward(step);
            for (int s = 0; s < n; s++) {
                var c = cases.get(s);
                float[] all = out.get(s);
                double worst = 0;
                for (int p = 0; p < c.promptIds().length; p++)
                    for (int v = 0; v < vocab; v++)
                        worst = Math.max(worst, Math.abs(all[p * vocab + v] - c.promptLogits()[p][v]));
                assertThat(worst).as("%s/%s batched prompt logits", name, c.name()).isLessThanOrEqualTo(expected.logitsMaxAbs());
                generated[s][0] = SingleSequence.argmax(Arrays.copyOfRange(all, all.length - vocab, all.length));
                pos[s] = c.promptIds().length;
            }
            for (int i = 1; i < generated[0].length; i++) {
                step.clear();
                for (int s = 0; s < n; s++) step.add(chunk(new int[] {generated[s][i - 1]}, pos[s], s, blocksPerSeq, 1));
                out = fp.forward(step);
                for (int s = 0; s < n; s++) {
                    generated[s][i] = SingleSequence.argmax(out.get(s));
                    pos[s]++;
                }
            }
            for (int s = 0; s < n; s++)
                assertThat(generated[s]).as("%s/%s batched greedy", name, cases.get(s).name()).containsExactly(cases.get(s).greedyIds());
        }
    }

    private static ForwardPass.SequenceChunk chunk(int[] tokens, int start, int seq, int blocksPerSeq, int nLogits) {
        int nLogical = Math.ceilDiv(start + tokens.length, BLOCK_SIZE);
        int[] ids = new int[nLogical];
        for (int b = 0; b < nLogical; b++) ids[b] = (seq + 1) * blocksPerSeq - 1 - b;
        return new ForwardPass.SequenceChunk(tokens, start, new ForwardPass.BlockTable(ids, ids.clone()), nLogits);
    }
}

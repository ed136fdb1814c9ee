package io.herd.model;

import io.herd.compute.DType;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@link ForwardPass} contract of the CPU engine: block tables, copy-on-write, argument checks. */
class CpuForwardPassTest {
    @TempDir static Path dir;
    static SafetensorsCheckpoint checkpoint;
    static Llama4Weights weights;
    static final Llama4Config CONFIG = GeneratedCheckpointFidelityTest.CONFIG;
    static final int BS = 2;

    @BeforeAll
    static void load() {
        RandomLlama4Checkpoint.write(dir, CONFIG, DType.F32, 7, Llama4TensorNames.CAUSAL_LM, 1);
        checkpoint = SafetensorsCheckpoint.open(dir);
        weights = Llama4Weights.load(checkpoint, Llama4ConfigParser.parse(dir), WeightQuantization.NONE);
    }

    @AfterAll
    static void close() { checkpoint.close(); }

    private static ForwardPass.SequenceChunk chunk(int[] tokens, int start, int[] global, int[] chunked, int nLogits) {
        return new ForwardPass.SequenceChunk(tokens, start, new ForwardPass.BlockTable(global, chunked), nLogits);
    }

    @Test
    void kvSpecReportsBlocksAndBytes() {
        try (CpuForwardPass fp = new CpuForwardPass(weights, new KvBlockCounts(BS, 10, 6), Precision.F32, 1)) {
            ForwardPass.KvCacheSpec spec = fp.kvSpec();
            assertThat(spec.blockSize()).isEqualTo(BS);
            assertThat(spec.nGlobalBlocks()).isEqualTo(10);
            assertThat(spec.nChunkedBlocks()).isEqualTo(6);
            // 1 NoPE layer, 3 RoPE layers; K and V of BS positions × kvDim floats each.
            assertThat(spec.bytesPerGlobalBlock()).isEqualTo(1L * 2 * BS * CONFIG.kvDim() * 4);
            assertThat(spec.bytesPerChunkedBlock()).isEqualTo(3L * 2 * BS * CONFIG.kvDim() * 4);
        }
    }

    @Test
    void copiedBlocksContinueTheSequence() {
        int[] prompt = {3, 4, 5};   // positions 0..2: blocks 0 (full) and 1 (partial)
        try (CpuForwardPass fp = new CpuForwardPass(weights, new KvBlockCounts(BS, 8, 8), Precision.F32, 2)) {
            fp.forward(List.of(chunk(prompt, 0, new int[] {0, 1}, new int[] {0, 1}, 0)));
            // Copy-on-write of the partial block 1 into block 5, in both groups; the next token goes to the copy.
            fp.copyBlock(ForwardPass.KvGroup.GLOBAL, 1, 5);
            fp.copyBlock(ForwardPass.KvGroup.CHUNKED, 1, 5);
            float[] viaCopy = fp.forward(List.of(chunk(new int[] {6}, 3, new int[] {0, 5}, new int[] {0, 5}, 1))).getFirst();
            float[] original = fp.forward(List.of(chunk(new int[] {6}, 3, new int[] {0, 1}, new int[] {0, 1}, 1))).getFirst();
            assertThat(viaCopy).containsExactly(original);
            // Without the copy, block 6 holds no K/V for position 2: the result must differ.
            float[] wrong = fp.forward(List.of(chunk(new int[] {6}, 3, new int[] {0, 6}, new int[] {0, 6}, 1))).getFirst();
            assertThat(wrong).isNotEqualTo(original);
        }
    }

    @Test
    void releasedChunkedBlocksBeforeTheCurrentAttentionChunkAreNeverRead() {
        // Attention chunk 4, block size 2: at positions 4..5 the chunked blocks 0 and 1 are outside the chunk.
        int[] prompt = {9, 8, 7, 6};
        try (CpuForwardPass fp = new CpuForwardPass(weights, new KvBlockCounts(BS, 8, 8), Precision.F32, 2)) {
            fp.forward(List.of(chunk(prompt, 0, new int[] {0, 1}, new int[] {0, 1}, 0)));
            float[] released = fp.forward(List.of(chunk(new int[] {5, 4}, 4, new int[] {0, 1, 2}, new int[] {-1, -1, 2}, 2))).getFirst();
            float[] kept = fp.forward(List.of(chunk(new int[] {5, 4}, 4, new int[] {0, 1, 2}, new int[] {0, 1, 2}, 2))).getFirst();
            assertThat(released).containsExactly(kept);
            // A -1 where a key is needed is a broken invariant, reported with the position.
            // (position 3 lies in attention chunk 0..3, so it reads logical block 0.)
            assertThatThrownBy(() -> fp.forward(List.of(chunk(new int[] {6}, 3, new int[] {0, 1}, new int[] {-1, 1}, 1))))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("position 0").hasMessageContaining("chunked");
        }
    }

    @Test
    void longPromptWithAllLogitsMatchesTokenByToken() {
        // 150 tokens: 38 attention chunks of 4 and more logit rows than one lm_head block.
        int[] prompt = new java.util.SplittableRandom(3).ints(150, 0, CONFIG.vocabSize()).toArray();
        int v = CONFIG.vocabSize();
        try (CpuForwardPass fp = new CpuForwardPass(weights, KvBlockCounts.forSingleSequence(CONFIG, 160, BS), Precision.F32, 2)) {
            float[] all = new SingleSequence(fp).append(prompt, prompt.length);
            SingleSequence stepwise = new SingleSequence(fp);
            double worst = 0;
            for (int p = 0; p < prompt.length; p++) {
                float[] row = stepwise.decode(prompt[p]);
                for (int j = 0; j < v; j++) worst = Math.max(worst, Math.abs(row[j] - all[p * v + j]));
            }
            assertThat(worst).isLessThan(1e-4);
        }
    }

    @Test
    void noLogitsRequestedGivesEmptyArray() {
        try (CpuForwardPass fp = new CpuForwardPass(weights, new KvBlockCounts(BS, 4, 4), Precision.F32, 1)) {
            List<float[]> out = fp.forward(List.of(chunk(new int[] {1, 2}, 0, new int[] {0}, new int[] {0}, 0)));
            assertThat(out).hasSize(1);
            assertThat(out.getFirst()).isEmpty();
        }
    }

    @Test
    void badArgumentsAreRejected() {
        try (CpuForwardPass fp = new CpuForwardPass(weights, new KvBlockCounts(BS, 4, 4), Precision.F32, 1)) {
            assertThatThrownBy(() -> fp.forward(List.of(chunk(new int[] {CONFIG.vocabSize()}, 0, new int[] {0}, new int[] {0}, 1))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id " + CONFIG.vocabSize());
            assertThatThrownBy(() -> fp.forward(List.of(chunk(new int[] {1}, 0, new int[] {9}, new int[] {0}, 1))))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("global block 9");
            assertThatThrownBy(() -> fp.forward(List.of(chunk(new int[] {1, 2, 3}, 0, new int[] {0}, new int[] {0}, 1))))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("no entry for position 2");
            assertThatThrownBy(() -> fp.copyBlock(ForwardPass.KvGroup.GLOBAL, 0, 4)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void singleSequenceRefusesToOverrunItsBlocks() {
        try (CpuForwardPass fp = new CpuForwardPass(weights, KvBlockCounts.forSingleSequence(CONFIG, 8, BS), Precision.F32, 1)) {
            SingleSequence seq = new SingleSequence(fp);
            assertThat(seq.capacity()).isEqualTo(8);
            seq.prefill(new int[] {1, 2, 3, 4, 5, 6, 7});
            seq.decode(8);
            assertThatThrownBy(() -> seq.decode(9)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity of 8");
        }
    }
}

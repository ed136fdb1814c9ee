package io.herd.model.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.model.ForwardPass.BlockTable;
import io.herd.model.ForwardPass.SequenceChunk;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The per-step metadata the CUDA forward pass uploads: layout, validation, and attention-chunk splitting. */
class StepLayoutTest {
    // maxBatchTokens 32, maxSeqs 3, maxBlocksPerSeq 6, block size 4, 8 blocks per group
    private static final CudaForwardPass.Options O =
            new CudaForwardPass.Options(null, 32, false, 4, 8, 8, 32, 3, 6, 8, true);
    private static final int VOCAB = 100, CHUNK = 8;

    private static int[] range(int from, int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = from + i;
        return r;
    }

    private static StepLayout layout(List<SequenceChunk> chunks) {
        return StepLayout.of(chunks, VOCAB, CHUNK, O, 8, 8);
    }

    @Test
    void tokensRowsTilesAndTablesLandAtTheirOffsets() {
        SequenceChunk prefill = new SequenceChunk(range(10, 20), 0,
                new BlockTable(new int[] {7, 6, 5, 4, 3}, new int[] {-1, -1, 0, 1, 2}), 2);
        SequenceChunk decode = new SequenceChunk(new int[] {99}, 9, new BlockTable(new int[] {0, 1, 2}, new int[] {3, 4, 5}), 1);
        // the prefill writes positions 0..19: its chunked blocks 0..1 are needed, so -1 there is rejected
        assertThatThrownBy(() -> layout(List.of(prefill, decode))).hasMessageContaining("chunked block 0 maps to -1");

        SequenceChunk p2 = new SequenceChunk(range(10, 20), 0,
                new BlockTable(new int[] {7, 6, 5, 4, 3}, new int[] {0, 1, 2, 3, 4}), 2);
        StepLayout s = layout(List.of(p2, decode));
        int mt = 32;
        assertThat(s.nTok).isEqualTo(21);
        assertThat(s.nRows).isEqualTo(3);
        assertThat(s.pureDecode).isFalse();
        assertThat(Arrays.copyOfRange(s.meta, 0, 21)).containsExactly(concat(range(10, 20), new int[] {99}));
        assertThat(Arrays.copyOfRange(s.meta, mt, mt + 21)).containsExactly(concat(range(0, 20), new int[] {9}));
        assertThat(s.meta[2 * mt + 19]).isZero();
        assertThat(s.meta[2 * mt + 20]).isEqualTo(1);
        assertThat(Arrays.copyOfRange(s.meta, 3 * mt, 3 * mt + 3)).containsExactly(18, 19, 20);
        assertThat(s.rowChunk).containsExactly(0, 0, 1);
        assertThat(s.rowIndexInChunk).containsExactly(0, 1, 0);
        assertThat(s.nTiles).isEqualTo(3);
        assertThat(Arrays.copyOfRange(s.meta, 4 * mt, 4 * mt + 3)).containsExactly(0, 16, 20);
        assertThat(Arrays.copyOfRange(s.meta, 5 * mt, 5 * mt + 3)).containsExactly(16, 4, 1);
        int g = StepLayout.globalTablesOffset(O), c = StepLayout.chunkedTablesOffset(O);
        assertThat(g).isEqualTo(6 * mt);
        assertThat(c).isEqualTo(g + 3 * 6);
        assertThat(Arrays.copyOfRange(s.meta, g, g + 6)).containsExactly(7, 6, 5, 4, 3, -1);
        assertThat(Arrays.copyOfRange(s.meta, g + 6, g + 12)).containsExactly(0, 1, 2, -1, -1, -1);
        assertThat(Arrays.copyOfRange(s.meta, c + 6, c + 9)).containsExactly(3, 4, 5);
        assertThat(s.meta).hasSize(StepLayout.metaInts(O));
    }

    @Test
    void releasedChunkedBlocksBeforeTheCurrentAttentionChunkAreAllowed() {
        // position 9 is in attention chunk [8, 16): chunked blocks 0 and 1 (positions 0..7) may be released
        SequenceChunk decode = new SequenceChunk(new int[] {5}, 9, new BlockTable(new int[] {0, 1, 2}, new int[] {-1, -1, 6}), 1);
        StepLayout s = layout(List.of(decode, new SequenceChunk(new int[] {6}, 0,
                new BlockTable(new int[] {3}, new int[] {7}), 1)));
        assertThat(s.pureDecode).isTrue();
    }

    @Test
    void badInputNamesTheChunkAndValue() {
        BlockTable t = new BlockTable(new int[] {0, 1}, new int[] {0, 1});
        assertThatThrownBy(() -> layout(List.of(new SequenceChunk(new int[] {100}, 0, t, 1))))
                .hasMessageContaining("chunk 0: token id 100 outside vocabulary of 100");
        assertThatThrownBy(() -> layout(List.of(new SequenceChunk(range(0, 9), 0, t, 1))))
                .hasMessageContaining("global block table has 2 entries, positions up to 8 need 3");
        assertThatThrownBy(() -> layout(List.of(new SequenceChunk(new int[] {1}, 0, new BlockTable(new int[] {8},
                new int[] {0}), 1)))).hasMessageContaining("global block 0 maps to 8, outside 0..7");
        assertThatThrownBy(() -> layout(List.of(new SequenceChunk(range(0, 33), 0, t, 1))))
                .hasMessageContaining("33 tokens exceed maxBatchTokens 32");
    }

    @Test
    void recycledChunkedBlocksWithinOneStepAreDetected() {
        // 12 tokens from position 0 cross the attention chunk at 8; chunked blocks recycled every chunk (ids 0,1,0)
        BlockTable recycled = new BlockTable(new int[] {0, 1, 2}, new int[] {0, 1, 0});
        BlockTable distinct = new BlockTable(new int[] {0, 1, 2}, new int[] {0, 1, 2});
        assertThat(StepLayout.reusesChunkedBlockWithinStep(List.of(new SequenceChunk(range(0, 12), 0, recycled, 1)),
                CHUNK, 4)).isTrue();
        assertThat(StepLayout.reusesChunkedBlockWithinStep(List.of(new SequenceChunk(range(0, 12), 0, distinct, 1)),
                CHUNK, 4)).isFalse();
        // within one attention chunk nothing is reused
        assertThat(StepLayout.reusesChunkedBlockWithinStep(List.of(new SequenceChunk(range(0, 4), 8, recycled, 1)),
                CHUNK, 4)).isFalse();
    }

    @Test
    void splittingAtAttentionChunksKeepsTokensPositionsAndLogitRows() {
        SequenceChunk c = new SequenceChunk(range(50, 12), 5, new BlockTable(new int[8], new int[8]), 5);
        List<SequenceChunk> pieces = StepLayout.splitAtAttentionChunks(c, CHUNK);
        assertThat(pieces).extracting(SequenceChunk::startPos).containsExactly(5, 8, 16);
        assertThat(pieces).extracting(p -> p.tokens().length).containsExactly(3, 8, 1);
        assertThat(pieces).extracting(SequenceChunk::nLogits).containsExactly(0, 4, 1);
        assertThat(pieces.get(1).tokens()).containsExactly(range(53, 8));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

package io.herd.compute.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Launch sizing of the flash-decoding kernel: enough blocks to fill the GPU, never more than the scratch holds. */
class AttentionSplitsTest {
    @Test
    void batchOneOfScoutSpreadsEachHeadOverSeveralBlocks() {
        // 40 query heads on an H100/H200 (132 multiprocessors): 264 blocks wanted, 7 splits per head
        assertThat(CudaOps.splitsFor(40, 132)).isEqualTo(7);
        assertThat(CudaOps.splitsFor(1, 132)).isEqualTo(CudaOps.MAX_ATTENTION_SPLITS);
        // batch 64 of Scout already launches 2560 blocks: no split
        assertThat(CudaOps.splitsFor(64 * 40, 132)).isEqualTo(1);
    }

    @Test
    void scratchSizedForTheLargestBatchCoversEverySmallerOne() {
        for (int sms : new int[] {1, 80, 108, 132, 170}) {
            for (int maxHeads : new int[] {4, 40, 320, 2560}) {
                long entries = CudaOps.splitEntriesFor(maxHeads, sms);
                for (int heads = 1; heads <= maxHeads; heads++) {
                    assertThat((long) heads * CudaOps.splitsFor(heads, sms)).as("%d heads on %d SMs", heads, sms)
                            .isLessThanOrEqualTo(entries);
                }
            }
        }
    }

    @Test
    void theSplitKernelsServeOnlyHeadDim128() {
        assertThat(DecodeAttentionKernel.SPLIT_KEYS_HD128.supports(128)).isTrue();
        assertThat(DecodeAttentionKernel.SPLIT_KEYS_HD128.supports(64)).isFalse();
        assertThat(DecodeAttentionKernel.BLOCK_PER_HEAD_HD128.supports(256)).isFalse();
        assertThat(DecodeAttentionKernel.WARP_PER_HEAD.supports(16)).isTrue();
        assertThat(DecodeAttentionKernel.WARP_PER_HEAD.supports(258)).isFalse();
        assertThatThrownBy(() -> CudaOps.splitsFor(0, 132)).hasMessageContaining("tokenHeads");
    }

    @Test
    void theGqaKernelServesGroupsOfUpToEightQueryHeads() {
        // Scout: 40 query heads over 8 KV heads
        assertThat(DecodeAttentionKernel.GQA_SPLIT_HD128.supports(128, 40, 8)).isTrue();
        assertThat(DecodeAttentionKernel.GQA_SPLIT_HD128.supports(128, 64, 8)).isTrue();
        assertThat(DecodeAttentionKernel.GQA_SPLIT_HD128.supports(128, 72, 8)).isFalse();
        assertThat(DecodeAttentionKernel.GQA_SPLIT_HD128.supports(128, 40, 3)).isFalse();
        assertThat(DecodeAttentionKernel.GQA_SPLIT_HD128.supports(64, 40, 8)).isFalse();
        // the other kernels do not care how heads are grouped
        assertThat(DecodeAttentionKernel.SPLIT_KEYS_HD128.supports(128, 72, 8)).isTrue();
    }

    @Test
    void gqaPartialStatesFitTheScratchReservedForTheLargestBatch() {
        // the GQA kernel launches (token, KV head) blocks but writes (token, query head, split) states
        int sms = 132, nHeads = 40, nKv = 8;
        for (int maxSeqs : new int[] {1, 4, 64, 256}) {
            long entries = CudaOps.splitEntriesFor((long) maxSeqs * nHeads, 2 * sms)
                    * DecodeAttentionKernel.MAX_GQA_GROUP;
            for (int t = 1; t <= maxSeqs; t++) {
                assertThat((long) t * nHeads * CudaOps.gqaSplitsFor(t * nKv, sms)).as("%d tokens", t)
                        .isLessThanOrEqualTo(entries);
            }
        }
    }

    @Test
    void gqaSplitsTargetFourBlocksPerMultiprocessor() {
        // Scout batch 64: 512 (token, KV head) blocks on 132 SMs get two splits, batch 1 the maximum
        assertThat(CudaOps.gqaSplitsFor(64 * 8, 132)).isEqualTo(2);
        assertThat(CudaOps.gqaSplitsFor(8, 132)).isEqualTo(CudaOps.MAX_ATTENTION_SPLITS);
        assertThat(CudaOps.gqaSplitsFor(256 * 8, 132)).isEqualTo(1);
    }
}

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
}

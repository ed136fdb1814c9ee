package io.herd.compute.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Sizing of the dequantization blocks of the many-row INT8/INT4 linear path. */
class DequantBlockTest {
    @Test
    void blocksStayNearTheL2BudgetAndAreWholeTensorCoreTiles() {
        for (int nIn : new int[] {256, 5120, 8192, 16384, 1 << 20}) {
            int rows = CudaOps.dequantBlockRows(nIn);
            assertThat(rows % 64).as("nIn %d", nIn).isZero();
            assertThat(rows).as("nIn %d", nIn).isGreaterThanOrEqualTo(64);
            // never above the budget unless a single 64-row tile already is
            assertThat((long) rows * nIn).as("nIn %d", nIn)
                    .isLessThanOrEqualTo(Math.max(CudaOps.DEQUANT_BLOCK_ELEMENTS, 64L * nIn));
        }
        // Scout's shared expert (16384 x 5120): 1600-row blocks, 11 of them
        assertThat(CudaOps.dequantBlockRows(5120)).isEqualTo(1600);
    }

    @Test
    void everyCandidateBlockFitsTheScratchReservedForTheWidestInput() {
        long largest = 0;
        for (long c : CudaOps.DEQUANT_BLOCK_CANDIDATES) largest = Math.max(largest, c);
        for (int maxIn : new int[] {256, 5120, 8192, 1 << 20}) {
            long reserved = Math.max(largest, 64L * maxIn);
            for (long block : CudaOps.DEQUANT_BLOCK_CANDIDATES) {
                for (int nIn = 32; nIn <= maxIn; nIn *= 2) {
                    assertThat((long) CudaOps.dequantBlockRows(nIn, block) * nIn).as("nIn %d, block %d", nIn, block)
                            .isLessThanOrEqualTo(reserved);
                }
            }
        }
        // the wide candidate: Scout's shared expert gate_up in two blocks (13056 + 3328 rows)
        assertThat(CudaOps.dequantBlockRows(5120, 64L << 20)).isEqualTo(13056);
        // the whole-matrix candidate: all 16384 rows in one block
        assertThat(CudaOps.dequantBlockRows(5120, 128L << 20)).isEqualTo(26176);
    }
}

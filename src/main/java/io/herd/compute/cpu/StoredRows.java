package io.herd.compute.cpu;

/**
 * Weights as they sit in memory: {@code nRows} stored rows of {@code nCols} contiguous values. For an [out, in]
 * matrix a stored row is an output's weights; for an input-major [in, out] matrix it is one input's column of
 * outputs. Kernels only ever ask for a run of one stored row, widened to fp32.
 */
interface StoredRows {
    /** Writes stored row {@code row}, columns {@code [col0, col0+n)}, as fp32 into dst[dstOff..dstOff+n). */
    void decode(int row, int col0, int n, float[] dst, int dstOff);
}

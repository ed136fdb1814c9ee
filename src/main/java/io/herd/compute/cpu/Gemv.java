package io.herd.compute.cpu;

/** How decode matmuls are split over the pool. */
final class Gemv {
    private Gemv() {}

    /** Below this many weight bytes a matmul runs on the caller alone: waking the pool would cost more. */
    static final long PARALLEL_MIN_BYTES = 256 << 10;

    /** A few tasks per thread so a thread slowed by other load does not hold up the rest; one for small matrices. */
    static int tasks(CpuThreadPool pool, int nOut, long bytes) {
        if (bytes < PARALLEL_MIN_BYTES) return 1;
        return Math.max(1, Math.min(pool.parallelism() * 4, nOut / 64));
    }

    /** Output rows {@code [o0, o1)} of one task. */
    interface RowRange {
        void run(int o0, int o1);
    }

    /**
     * Row-major work split over the pool in {@link #tasks} ranges of output rows, each a multiple of {@code rowTile}
     * rows (the kernel's row tile) but the last.
     */
    static void byOutputRows(CpuThreadPool pool, int nOut, long bytes, int rowTile, RowRange range) {
        int nTasks = tasks(pool, nOut, bytes);
        int per = Simd.roundUp((nOut + nTasks - 1) / nTasks, rowTile);
        pool.parallelFor((nOut + per - 1) / per, task -> range.run(task * per, Math.min(nOut, (task + 1) * per)));
    }
}

package io.herd.compute.cpu;

/** How decode matmuls are split over the pool. */
final class Gemv {
    private Gemv() {}

    /** Below this many weight bytes a matmul runs on the caller alone: waking the pool would cost more. */
    static final long PARALLEL_MIN_BYTES = 256 << 10;

    /**
     * A few tasks per thread so a thread slowed by other load does not hold up the rest; one for small matrices.
     * Input-major ranges use this: each task adds a partial output vector the caller sums afterwards.
     */
    static int tasks(CpuThreadPool pool, int nOut, long bytes) {
        return tasks(pool, nOut, bytes, 4);
    }

    /**
     * Row-major ranges: sixteen per thread. With four, the two threads of a 2-core machine could finish a decode GEMV
     * up to a task apart (a q8 lm_head task was 137 MB); sixteen streamed 3-7% faster in alternating in-JVM runs
     * (q8 [202048, 5120]: 9 of 10 rounds; bf16 [16384, 5120]: 10 of 10), sixty-four no better than sixteen.
     */
    static final int ROW_TASKS_PER_THREAD = 16;

    private static int tasks(CpuThreadPool pool, int nOut, long bytes, int perThread) {
        if (bytes < PARALLEL_MIN_BYTES) return 1;
        return Math.max(1, Math.min(pool.parallelism() * perThread, nOut / 64));
    }

    /** Output rows {@code [o0, o1)} of one task. */
    interface RowRange {
        void run(int o0, int o1);
    }

    /**
     * Row-major work split over the pool in ranges of output rows ({@link #ROW_TASKS_PER_THREAD} per thread), each a
     * multiple of {@code rowTile} rows (the kernel's row tile) but the last.
     */
    static void byOutputRows(CpuThreadPool pool, int nOut, long bytes, int rowTile, RowRange range) {
        int nTasks = tasks(pool, nOut, bytes, ROW_TASKS_PER_THREAD);
        int per = Simd.roundUp((nOut + nTasks - 1) / nTasks, rowTile);
        pool.parallelFor((nOut + per - 1) / per, task -> range.run(task * per, Math.min(nOut, (task + 1) * per)));
    }
}

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
}

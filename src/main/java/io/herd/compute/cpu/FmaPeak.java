package io.herd.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.LANES;

/**
 * The fp32 multiply-add rate this machine sustains on every thread of a pool: twelve independent chains of vector
 * FMAs on registers only (enough to cover the FMA latency on two ports), no memory traffic. A matmul's GFLOP/s over
 * this says how compute-bound it is.
 */
public final class FmaPeak {
    private FmaPeak() {}

    private static final int CHAINS = 12;

    /**
     * Best of {@code repetitions} passes of {@code iterations} loop trips per thread, in GFLOP/s (2 per FMA lane).
     * Take many short passes: the first ones run before the JIT has compiled the loop (a hundred times slower).
     */
    public static double measureGflops(CpuThreadPool pool, long iterations, int repetitions) {
        if (iterations < 1 || repetitions < 1) throw new IllegalArgumentException(iterations + " iterations, " + repetitions + " repetitions");
        int threads = pool.parallelism();
        float[] sink = new float[threads];
        double best = 0;
        for (int rep = 0; rep <= repetitions; rep++) {
            long t0 = System.nanoTime();
            pool.parallelFor(threads, t -> sink[t] += chains(iterations));
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (rep > 0) best = Math.max(best, 2.0 * LANES * CHAINS * iterations * threads / seconds / 1e9);
        }
        float total = 0;
        for (float s : sink) total += s;
        if (!(total > 0)) throw new IllegalStateException("FMA pass produced " + total);
        return best;
    }

    private static float chains(long iterations) {
        FloatVector m = FloatVector.broadcast(F, 0.999f), c = FloatVector.broadcast(F, 0.001f);
        FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}

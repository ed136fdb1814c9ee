package io.herd.compute.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.herd.compute.cpu.Simd.F;
import static io.herd.compute.cpu.Simd.LANES;
import static io.herd.compute.cpu.Simd.LE;

/**
 * Sustained read bandwidth of this machine, measured the way decode uses memory: every thread of the compute pool
 * streams its own slice of one large off-heap buffer with vector loads and sums it (STREAM's "sum" kernel, reads
 * only). The buffer must be much larger than the last-level cache, or the result is cache bandwidth.
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {}

    /**
     * Read bandwidth in GB/s (10⁹ bytes per second) over {@code repetitions} timed passes.
     *
     * @param bestGBps the fastest pass: what the memory system can deliver
     * @param meanGBps all bytes over all the time: what a long run gets when other processes compete for the cores
     */
    public record Measurement(double bestGBps, double meanGBps) {}

    /** Best of {@code repetitions} passes over a {@code bufferBytes} buffer, in GB/s (10⁹ bytes per second). */
    public static double measureReadGBps(long bufferBytes, int repetitions, CpuThreadPool pool) {
        return measure(bufferBytes, repetitions, pool).bestGBps();
    }

    /** Untimed passes first: the first ones run before the JIT has compiled {@link #sum} and read at half speed. */
    private static final int WARM_UP_PASSES = 3;

    /** Best and mean of {@code repetitions} passes over a {@code bufferBytes} buffer (after the warm-up passes). */
    public static Measurement measure(long bufferBytes, int repetitions, CpuThreadPool pool) {
        if (bufferBytes < 1 << 20) throw new IllegalArgumentException("buffer of " + bufferBytes + " bytes is too small");
        if (repetitions < 1) throw new IllegalArgumentException("repetitions " + repetitions);
        // Owner: this method; the buffer is freed before it returns.
        try (Arena arena = Arena.ofShared()) {
            int nSlices = pool.parallelism();
            long slice = bufferBytes / nSlices / (4L * LANES * 4) * (4L * LANES * 4);
            MemorySegment buffer = arena.allocate(slice * nSlices, 4096);
            // Touch every page with non-zero data so the reads below hit real, distinct memory.
            pool.parallelFor(nSlices, s -> {
                for (long off = s * slice; off < (s + 1) * slice; off += 4096) buffer.set(ValueLayout.JAVA_FLOAT, off, 1f);
            });
            double[] sums = new double[nSlices];
            double best = 0, totalSeconds = 0;
            for (int rep = -WARM_UP_PASSES; rep < repetitions; rep++) {
                long t0 = System.nanoTime();
                pool.parallelFor(nSlices, s -> sums[s] += sum(buffer, s * slice, slice));
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (rep < 0) continue;
                best = Math.max(best, slice * nSlices / seconds / 1e9);
                totalSeconds += seconds;
            }
            double total = 0;
            for (double s : sums) total += s;
            if (!(total > 0)) throw new IllegalStateException("bandwidth pass read no data (sum " + total + ")");
            return new Measurement(best, (double) slice * nSlices * repetitions / totalSeconds / 1e9);
        }
    }

    private static float sum(MemorySegment buffer, long from, long length) {
        FloatVector a = FloatVector.zero(F), b = a, c = a, d = a;
        long step = 4L * LANES * 4;
        for (long off = from, end = from + length; off < end; off += step) {
            a = a.add(FloatVector.fromMemorySegment(F, buffer, off, LE));
            b = b.add(FloatVector.fromMemorySegment(F, buffer, off + 4L * LANES, LE));
            c = c.add(FloatVector.fromMemorySegment(F, buffer, off + 8L * LANES, LE));
            d = d.add(FloatVector.fromMemorySegment(F, buffer, off + 12L * LANES, LE));
        }
        return a.add(b).add(c).add(d).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}

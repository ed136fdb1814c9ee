package io.herd.compute.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits the GPU time of eagerly queued work into named phases: {@link #mark} records a CUDA event and names the
 * work queued from there to the next mark; {@link #finish} waits for the stream and sums, per phase, the time
 * between consecutive events and the kernel launches queued in between. Events are reused across rounds, so
 * profiling many steps creates them once. Not for use inside a graph capture.
 */
public final class CudaPhaseTimer implements AutoCloseable {

    /** Accumulated GPU milliseconds, kernel launches and occurrences of one phase. */
    public record Phase(double millis, long launches, long occurrences) {}

    private final CudaDevice device;
    private final List<MemorySegment> events = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final List<Long> launchCounts = new ArrayList<>();
    private final Map<String, double[]> totals = new LinkedHashMap<>();
    private int used;
    private int rounds;
    private boolean closed;

    public CudaPhaseTimer(CudaDevice device) {
        this.device = device;
    }

    /** Starts phase {@code name}: the work queued after this call, up to the next mark or finish, belongs to it. */
    public void mark(String name) {
        if (closed) throw new IllegalStateException("phase timer closed");
        if (used == events.size()) events.add(device.runtime().eventCreate());
        device.runtime().eventRecord(events.get(used), device.stream());
        if (names.size() > used) {
            names.set(used, name);
            launchCounts.set(used, device.launchCount());
        } else {
            names.add(name);
            launchCounts.add(device.launchCount());
        }
        used++;
    }

    /** Ends the round: waits for the stream and adds this round's phases to the totals. */
    public void finish() {
        mark("");  // closing event
        device.runtime().eventSynchronize(events.get(used - 1));
        for (int i = 0; i + 1 < used; i++) {
            double ms = device.runtime().eventElapsedMillis(events.get(i), events.get(i + 1));
            double[] t = totals.computeIfAbsent(names.get(i), k -> new double[3]);
            t[0] += ms;
            t[1] += launchCounts.get(i + 1) - launchCounts.get(i);
            t[2] += 1;
        }
        used = 0;
        rounds++;
    }

    /** Rounds finished so far. */
    public int rounds() {
        return rounds;
    }

    /** Per phase, in order of first appearance: totals over all finished rounds. */
    public Map<String, Phase> totals() {
        Map<String, Phase> out = new LinkedHashMap<>();
        totals.forEach((k, v) -> out.put(k, new Phase(v[0], (long) v[1], (long) v[2])));
        return out;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (MemorySegment e : events) device.runtime().eventDestroy(e);
        events.clear();
    }
}

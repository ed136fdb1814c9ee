package io.herd.messaging;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Which requests partitions this instance owns, and every record of them that it has taken and not yet let go of.
 *
 * <p>Why: a rebalance may revoke a partition while one of its records waits for an admission slot, waits for the
 * broker to acknowledge its running marker, streams, or waits for its finished marker. The new owner reads the
 * attempts partition as soon as it is assigned, so before the revoke returns every such record must either be
 * dropped (not started yet) or stopped with its writes flushed. Each step of a record's life asks {@link #advance}
 * first; one lock orders those steps against {@link #revoke}, so a record is never started after its partition
 * was given away.
 */
public final class PartitionWork {

    /** Where a record is in its life here. */
    public enum Stage {
        /** Taken from the consumer: decoding, validating, deciding, waiting for an admission slot. */
        ACCEPTED,
        /**
         * Its running marker is written and its stream runs in the frontend (events held until the marker is
         * acknowledged), then its finished marker is written.
         */
        RUNNING
    }

    /** One record taken from a requests partition. */
    public static final class Ticket {
        private final int partition;
        private final long offset;
        private String requestId;
        private Stage stage = Stage.ACCEPTED;
        private boolean revoked;
        private boolean closed;
        /** Completes when the current stage's outside work (a marker write, a stream) has settled. */
        private CompletableFuture<Void> settled = CompletableFuture.completedFuture(null);

        Ticket(int partition, long offset) {
            this.partition = partition;
            this.offset = offset;
        }

        public int partition() { return partition; }

        public long offset() { return offset; }

        public synchronized String requestId() { return requestId; }

        public synchronized Stage stage() { return stage; }

        public synchronized boolean revoked() { return revoked; }

        @Override
        public String toString() { return "record " + partition + "@" + offset + (requestId == null ? "" : " (" + requestId + ")"); }
    }

    /** A record that was in flight when its partition was revoked, with what the revoke has to wait for. */
    public record Revoked(Ticket ticket, Stage stage, String requestId, CompletableFuture<Void> settled) {}

    private final Set<Integer> owned = new HashSet<>();
    private final Map<Integer, Set<Ticket>> open = new HashMap<>();

    /** Takes ownership of partitions (rebalance: assigned). */
    public synchronized void assign(Iterable<Integer> partitions) {
        for (int p : partitions) owned.add(p);
    }

    /** True while the partition is owned here. */
    public synchronized boolean owns(int partition) { return owned.contains(partition); }

    public synchronized Set<Integer> ownedPartitions() { return Set.copyOf(owned); }

    public synchronized boolean ownsAny() { return !owned.isEmpty(); }

    /** Registers a record taken from the consumer; null when its partition is not (or no longer) owned here. */
    public synchronized Ticket open(int partition, long offset) {
        if (!owned.contains(partition)) return null;
        Ticket t = new Ticket(partition, offset);
        open.computeIfAbsent(partition, p -> new LinkedHashSet<>()).add(t);
        return t;
    }

    /** Names the request a record carries, once it is decoded. */
    public synchronized void identify(Ticket t, String requestId) {
        synchronized (t) {
            t.requestId = requestId;
        }
    }

    /**
     * Moves a record to its next stage, whose outside work completes {@code settled}. False when the partition was
     * revoked: the caller then gives back what it holds and leaves the record alone (the new owner has it).
     */
    public synchronized boolean advance(Ticket t, Stage next, CompletableFuture<Void> settled) {
        synchronized (t) {
            if (t.revoked || t.closed) return false;
            if (next.ordinal() < t.stage.ordinal()) throw new IllegalStateException(t + ": " + t.stage + " → " + next);
            t.stage = next;
            t.settled = settled;
            return true;
        }
    }

    /**
     * Sends a record back to its first stage to run it again as its next attempt (its events could not be
     * published). False when the partition was revoked meanwhile.
     */
    public synchronized boolean restart(Ticket t) {
        synchronized (t) {
            if (t.revoked || t.closed) return false;
            t.stage = Stage.ACCEPTED;
            t.settled = CompletableFuture.completedFuture(null);
            return true;
        }
    }

    /** The record is done here (acknowledged, skipped, dead-lettered or dropped). */
    public synchronized void close(Ticket t) {
        synchronized (t) {
            t.closed = true;
        }
        Set<Ticket> s = open.get(t.partition);
        if (s != null) {
            s.remove(t);
            if (s.isEmpty()) open.remove(t.partition);
        }
    }

    /**
     * Gives partitions away (revoked or lost): from now on no record of theirs advances. Returns the records that
     * were in flight, so the caller can stop their streams and wait for their writes.
     */
    public synchronized List<Revoked> revoke(Iterable<Integer> partitions) {
        List<Revoked> out = new ArrayList<>();
        for (int p : partitions) {
            owned.remove(p);
            Set<Ticket> s = open.remove(p);
            if (s == null) continue;
            for (Ticket t : s) {
                synchronized (t) {
                    t.revoked = true;
                    out.add(new Revoked(t, t.stage, t.requestId, t.settled));
                }
            }
        }
        return out;
    }

    /** Records taken and not yet let go of (all partitions). */
    public synchronized int openCount() {
        int n = 0;
        for (Set<Ticket> s : open.values()) n += s.size();
        return n;
    }

    /** Request ids of the records in the given stage. */
    public synchronized List<String> requestIds(Stage stage) {
        List<String> ids = new ArrayList<>();
        for (Set<Ticket> s : open.values()) {
            for (Ticket t : s) {
                synchronized (t) {
                    if (t.stage == stage && t.requestId != null) ids.add(t.requestId);
                }
            }
        }
        return ids;
    }
}

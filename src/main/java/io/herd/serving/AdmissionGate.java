package io.herd.serving;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Bounds the requests in flight. {@link #acquire()} completes at once while a slot is free, else when one is
 * released; the consumer waits on it before taking the next record, which is how a full queue pauses consumption
 * without dropping anything.
 */
final class AdmissionGate {

    private final int capacity;
    private final ArrayDeque<CompletableFuture<Void>> waiters = new ArrayDeque<>();
    private int used;

    AdmissionGate(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("admission capacity must be >= 1, got " + capacity);
        this.capacity = capacity;
    }

    CompletionStage<Void> acquire() {
        synchronized (this) {
            if (used < capacity) {
                used++;
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> waiter = new CompletableFuture<>();
            waiters.add(waiter);
            return waiter;
        }
    }

    void release() {
        CompletableFuture<Void> next;
        synchronized (this) {
            if (used <= 0) throw new IllegalStateException("admission slot released twice (used=" + used + ")");
            next = waiters.poll();
            if (next == null) used--;
        }
        // Completed outside the lock: the waiter's continuation may acquire again.
        if (next != null) next.complete(null);
    }

    synchronized int used() { return used; }

    synchronized int waiting() { return waiters.size(); }

    int capacity() { return capacity; }
}

package io.herd.messaging;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Lets one request at a time run its last allowed attempt on this instance.
 *
 * <p>Why: a request that crashes the process takes every request running beside it down too, and each of those
 * re-runs costs them an attempt as well. Were their last attempts to run beside the culprit's, innocent requests
 * would reach {@code herd.max-attempts} with it and be dead-lettered. Run one at a time, a last attempt that crashes
 * the process is the culprit's (or a first-time request's, which then has attempts to spare), and the others wait
 * their turn without being charged. Waiters are served in arrival order.
 */
final class LastAttemptGate {

    private final ArrayDeque<CompletableFuture<Void>> waiting = new ArrayDeque<>();
    private boolean held;

    /** Completes when the caller holds the gate; it must {@link #release()} it exactly once. */
    synchronized CompletionStage<Void> acquire() {
        if (!held) {
            held = true;
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        waiting.add(f);
        return f;
    }

    void release() {
        CompletableFuture<Void> next;
        synchronized (this) {
            if (!held) throw new IllegalStateException("last-attempt gate released while not held");
            next = waiting.poll();
            if (next == null) held = false;
        }
        if (next != null) next.complete(null); // handed straight on: stays held
    }

    synchronized int waiting() { return waiting.size(); }
}

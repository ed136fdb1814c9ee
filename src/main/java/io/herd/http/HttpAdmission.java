package io.herd.http;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * HTTP's share of the admission slots, and its bounded waiting line.
 *
 * <p>Kafka and HTTP draw on one shared gate of {@code max-in-flight} slots. An HTTP request must first hold one of
 * {@code quota} HTTP slots ({@code quota = share × max-in-flight}) and only then asks the shared gate for a slot, so
 * HTTP never holds or waits for more than {@code quota} shared slots at once: at least {@code max-in-flight - quota}
 * slots stay for Kafka records however many HTTP clients knock. (The shared gate serves its waiters in arrival
 * order, so a Kafka record never waits behind more than {@code quota} HTTP requests.)
 *
 * <p>HTTP requests waiting for either slot are at most {@code maxWaiting}; past that {@link #enter()} refuses at once
 * (the caller answers 429) instead of letting a flood build an unbounded line of open connections. A request that
 * took an HTTP slot but finds the shared gate full while the line is already full is refused as well; its pending
 * shared slot is given back the moment it is granted.
 *
 * <p>Thread-safe; futures are completed outside the lock, since their continuations start streams.
 */
public final class HttpAdmission {

    /** The shared gate (the frontend's admission slots). */
    public interface SharedSlots {
        CompletionStage<Void> acquire();

        void release();
    }

    private enum State { QUEUED, AWAITING_SHARED, ADMITTED, STARTED, LEFT }

    private final int quota;
    private final int maxWaiting;
    private final SharedSlots shared;
    private final ArrayDeque<Ticket> queued = new ArrayDeque<>();
    private int held;            // HTTP slots taken (waiting for a shared slot, admitted or running)
    private int awaitingShared;  // of those, still waiting for the shared slot

    public HttpAdmission(int maxInFlight, double share, int maxWaiting, SharedSlots shared) {
        if (!(share > 0 && share <= 1)) throw new IllegalArgumentException("HTTP admission share must be in (0, 1], got " + share);
        if (maxWaiting < 0) throw new IllegalArgumentException("HTTP max queue must be >= 0, got " + maxWaiting);
        this.quota = quotaOf(maxInFlight, share);
        this.maxWaiting = maxWaiting;
        this.shared = shared;
    }

    /** HTTP slots for a share of max-in-flight: at least one, so HTTP is never shut out entirely. */
    static int quotaOf(int maxInFlight, double share) {
        if (maxInFlight < 1) throw new IllegalArgumentException("max in flight must be >= 1, got " + maxInFlight);
        return Math.max(1, (int) Math.floor(maxInFlight * share));
    }

    /** A place in line, or null when the line is full (answer 429). */
    public Ticket enter() {
        Ticket ticket = new Ticket();
        synchronized (this) {
            if (held < quota) {
                held++;
                ticket.state = State.AWAITING_SHARED;
                awaitingShared++;
            } else if (waiting() < maxWaiting) {
                ticket.state = State.QUEUED;
                queued.add(ticket);
                return ticket;
            } else {
                return null;
            }
        }
        if (!askShared(ticket)) {
            // The shared gate is full too and the line is already at its bound: refuse; the pending shared slot is
            // handed straight back when it comes.
            ticket.leave();
            return null;
        }
        return ticket;
    }

    /**
     * Asks the shared gate for {@code ticket}; false when that left it waiting although the line was already full
     * without it.
     */
    private boolean askShared(Ticket ticket) {
        CompletionStage<Void> slot = shared.acquire();
        boolean immediate = slot.toCompletableFuture().isDone();
        boolean overLine;
        synchronized (this) {
            overLine = !immediate && awaitingShared + queued.size() > maxWaiting;
        }
        slot.thenRun(() -> granted(ticket));
        return !overLine;
    }

    private void granted(Ticket ticket) {
        boolean giveBack;
        synchronized (this) {
            awaitingShared--;
            giveBack = ticket.state == State.LEFT;
            if (!giveBack) ticket.state = State.ADMITTED;
        }
        if (giveBack) {
            shared.release();
            releaseHttpSlot();
        } else {
            ticket.admitted.complete(null);
        }
    }

    /** Gives back one HTTP slot, passing it to the first ticket in line. */
    private void releaseHttpSlot() {
        Ticket next;
        synchronized (this) {
            next = queued.poll();
            if (next == null) {
                held--;
                return;
            }
            next.state = State.AWAITING_SHARED;
            awaitingShared++;
        }
        askShared(next); // already counted in the line, so never over it
    }

    /** HTTP requests waiting for an HTTP slot or a shared slot. */
    public synchronized int waiting() { return queued.size() + awaitingShared; }

    /** HTTP slots taken (waiting for a shared slot, admitted or running). */
    public synchronized int held() { return held; }

    public int quota() { return quota; }

    /** One HTTP request's claim on admission. */
    public final class Ticket {
        private final CompletableFuture<Void> admitted = new CompletableFuture<>();
        private State state;

        private Ticket() {}

        /** Completes when the request holds an HTTP slot and a shared slot; then call {@link #start()}. */
        public CompletionStage<Void> admitted() { return admitted; }

        /**
         * Hands the shared slot to the stream about to start (the frontend gives it back when the stream ends);
         * false when the client already left, and then nothing may be started.
         */
        public boolean start() {
            synchronized (HttpAdmission.this) {
                if (state != State.ADMITTED) return false;
                state = State.STARTED;
                return true;
            }
        }

        /** {@link #leave()} unless the stream was started (then it must be cancelled); true when it left. */
        public boolean leaveUnlessStarted() { return leave(true); }

        /**
         * The request is over (its stream ended) or its client left: gives back what it holds. Idempotent. A shared
         * slot still being waited for is given back when it is granted.
         */
        public void leave() { leave(false); }

        private boolean leave(boolean unlessStarted) {
            State was;
            synchronized (HttpAdmission.this) {
                was = state;
                if (was == State.LEFT) return true;
                if (was == State.STARTED && unlessStarted) return false;
                state = State.LEFT;
                if (was == State.QUEUED) {
                    queued.remove(this);
                    return true;
                }
            }
            switch (was) {
                case ADMITTED -> {
                    shared.release();
                    releaseHttpSlot();
                }
                case STARTED -> releaseHttpSlot();
                default -> { } // AWAITING_SHARED: granted() gives both back
            }
            return true;
        }
    }
}

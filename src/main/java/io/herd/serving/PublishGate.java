package io.herd.serving;

/**
 * Whether stream events may leave now. Closed while this instance cannot be sure it still owns the requests it is
 * streaming (e.g. just after the process was frozen longer than the group lets a member go silent): events are then
 * held in order, and sent when it opens again or dropped if their request was meanwhile given away.
 */
@FunctionalInterface
public interface PublishGate {

    /** Always open: for tests and for outputs that no partition owns (the engine alone). */
    PublishGate ALWAYS_OPEN = nowNanos -> true;

    boolean isOpen(long nowNanos);

    /** Completes once the gate is open (at once when it is). */
    default java.util.concurrent.CompletionStage<Void> whenOpen() {
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    }
}

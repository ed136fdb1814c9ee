package io.herd.messaging;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * How long the service's writes to Kafka (events, markers, dead letters) have been waiting without any of them
 * being acknowledged: the measure of a broker outage as this instance sees it.
 *
 * <p>Why this measure: during an outage the producers keep every write (their delivery timeout is set above the
 * outage the contract rides out), so nothing fails and nothing is lost; what grows is the time since the last
 * acknowledgement while writes are pending. Readiness and liveness turn on that age (see HerdHealth).
 */
@jakarta.inject.Singleton
public final class BrokerWrites {

    private final LongSupplier nanoTime;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong lastProgressNanos;

    @jakarta.inject.Inject
    public BrokerWrites() { this(System::nanoTime); }

    BrokerWrites(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.lastProgressNanos = new AtomicLong(nanoTime.getAsLong());
    }

    /** A write was handed to a producer. */
    public void sent() {
        if (pending.getAndIncrement() == 0) lastProgressNanos.set(nanoTime.getAsLong());
    }

    /** A write was acknowledged, or failed for good. */
    public void settled(boolean acknowledged) {
        pending.decrementAndGet();
        if (acknowledged) lastProgressNanos.set(nanoTime.getAsLong());
    }

    /** Nanoseconds the pending writes have gone without any acknowledgement; 0 when nothing is pending. */
    public long stalledNanos() {
        if (pending.get() <= 0) return 0;
        return Math.max(0, nanoTime.getAsLong() - lastProgressNanos.get());
    }

    public int pending() { return pending.get(); }
}

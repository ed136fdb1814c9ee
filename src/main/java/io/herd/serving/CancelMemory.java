package io.herd.serving;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Cancels that arrived before their request, remembered for a while so the request ends as soon as it starts.
 *
 * <p>Why bounded and ordered: anyone may write cancels for ids that never come, and they are handled on the thread
 * that streams every response. Lookups are O(1); expiry pops only from the oldest end (arrival order is expiry
 * order), and past {@code capacity} the oldest is forgotten, so a flood costs O(1) per cancel and fixed memory.
 * Not thread-safe: one thread owns it.
 */
final class CancelMemory {

    private final int capacity;
    private final long ttlNanos;
    private final LinkedHashMap<String, Long> byId = new LinkedHashMap<>();

    CancelMemory(int capacity, long ttlNanos) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be positive: " + capacity);
        this.capacity = capacity;
        this.ttlNanos = ttlNanos;
    }

    /** Remembers a cancel for {@code id} received at {@code nowNanos}. */
    void remember(String id, long nowNanos) {
        expire(nowNanos);
        byId.remove(id); // re-inserted at the young end, so arrival order stays expiry order
        byId.put(id, nowNanos);
        if (byId.size() > capacity) {
            Iterator<String> oldest = byId.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
    }

    /** True (and forgotten) when a live cancel for {@code id} was waiting. */
    boolean take(String id, long nowNanos) {
        Long at = byId.remove(id);
        return at != null && nowNanos - at <= ttlNanos;
    }

    /** Forgets cancels older than the time to live. */
    void expire(long nowNanos) {
        for (Iterator<Map.Entry<String, Long>> it = byId.entrySet().iterator(); it.hasNext(); ) {
            if (nowNanos - it.next().getValue() <= ttlNanos) break;
            it.remove();
        }
    }

    int size() { return byId.size(); }
}

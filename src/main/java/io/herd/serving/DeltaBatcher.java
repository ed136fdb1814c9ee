package io.herd.serving;

import io.herd.model.sampling.TokenLogprobs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collects one stream's tokens into deltas. A delta goes out at once while fewer than {@code maxUnacked} earlier
 * deltas of the stream await the broker's acknowledgement (low load: one token per delta); otherwise tokens
 * accumulate until an acknowledgement arrives or the oldest waiting token has waited {@code maxLatencyNanos}
 * (under load several tokens share one delta, with bounded extra latency). Confined to the output thread.
 */
final class DeltaBatcher {

    private final long maxLatencyNanos;
    private final int maxUnacked;
    private int[] tokenIds = new int[8];
    private int nTokens;
    private List<TokenLogprobs> logprobs;
    private long pendingSinceNanos;
    private int unacked;

    DeltaBatcher(long maxLatencyNanos, int maxUnacked) {
        this.maxLatencyNanos = maxLatencyNanos;
        this.maxUnacked = maxUnacked;
    }

    void add(int tokenId, TokenLogprobs lp, long nowNanos) {
        if (nTokens == 0) pendingSinceNanos = nowNanos;
        if (nTokens == tokenIds.length) tokenIds = Arrays.copyOf(tokenIds, nTokens * 2);
        tokenIds[nTokens++] = tokenId;
        if (lp != null) {
            if (logprobs == null) logprobs = new ArrayList<>();
            logprobs.add(lp);
        }
    }

    boolean hasPending() { return nTokens > 0; }

    /** True when the pending tokens should go out now. */
    boolean due(long nowNanos) {
        return nTokens > 0 && (unacked < maxUnacked || nowNanos - pendingSinceNanos >= maxLatencyNanos);
    }

    /** When the pending tokens become due by age alone; Long.MAX_VALUE when none are pending. */
    long dueAtNanos() {
        return nTokens == 0 ? Long.MAX_VALUE : pendingSinceNanos + maxLatencyNanos;
    }

    int[] takeTokenIds() {
        int[] out = Arrays.copyOf(tokenIds, nTokens);
        nTokens = 0;
        return out;
    }

    List<TokenLogprobs> takeLogprobs() {
        List<TokenLogprobs> out = logprobs;
        logprobs = null;
        return out;
    }

    void sent() { unacked++; }

    void acked() { unacked--; }

    int unacked() { return unacked; }
}

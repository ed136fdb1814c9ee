package io.herd.cli;

import java.util.Arrays;

/**
 * When one request's tokens arrived at the client, measured from the moment it was sent. Tokens arrive in groups
 * (a Kafka delta carries one or more; the engine's sink hands over one at a time): a group of k tokens counts as k
 * tokens arriving together, so it adds one gap since the previous token and k − 1 gaps of zero.
 *
 * <p>Written by one thread (the consumer's poll loop or the engine thread) and read by another only after the
 * request ended and was handed over through a concurrent queue, which orders the writes before the reads.
 */
public final class StreamTimeline {
    private final String id;
    private final long sentNanos;
    private long firstTokenNanos = -1;
    private long lastTokenNanos = -1;
    private long endNanos = -1;
    private int nTokens;
    private int nDeltas;
    private double[] gapsMs = new double[64];
    private int nGaps;
    private int promptTokens = -1;
    private int cachedTokens = -1;
    private String finishReason;
    private String error;
    private double serverTtftMs = Double.NaN;
    private double firstDeltaHopMs = Double.NaN;
    private double sendToStartedMs = Double.NaN;
    private double startedToFirstDeltaMs = Double.NaN;
    private double[] serverInterTokenMs = new double[0];

    public StreamTimeline(String id, long sentNanos) {
        this.id = id;
        this.sentNanos = sentNanos;
    }

    public String id() { return id; }

    /**
     * Milliseconds from the service's producer creating the first delta record (its CreateTime) to its arrival here:
     * the way back alone, which splits client TTFT − service TTFT into the way in and the way back (same host clock).
     */
    public void firstDeltaHopMs(double ms) {
        if (Double.isNaN(firstDeltaHopMs)) firstDeltaHopMs = ms;
    }

    public double firstDeltaHopMs() { return firstDeltaHopMs; }

    /**
     * The way in, split by the service's own record timestamps (same host clock, millisecond resolution): client send →
     * the service's producer creating {@code started} (consumer poll, decoding, admission, the running marker's round
     * trip), then {@code started} → the first delta's record (prefill and the hand-off to the producer).
     */
    public void serviceRecordTimes(double sendToStartedMs, double startedToFirstDeltaMs) {
        if (!Double.isNaN(sendToStartedMs)) this.sendToStartedMs = sendToStartedMs;
        if (!Double.isNaN(startedToFirstDeltaMs) && Double.isNaN(this.startedToFirstDeltaMs)) {
            this.startedToFirstDeltaMs = startedToFirstDeltaMs;
        }
    }

    public double sendToStartedMs() { return sendToStartedMs; }

    public double startedToFirstDeltaMs() { return startedToFirstDeltaMs; }

    public void started(int promptTokens, int cachedTokens) {
        this.promptTokens = promptTokens;
        this.cachedTokens = cachedTokens;
    }

    /** {@code count} tokens arrived together at {@code nanos} ({@link System#nanoTime()}); 0 tokens is no delta. */
    public void tokensArrived(long nanos, int count) {
        if (count < 0) throw new IllegalArgumentException("token count must be >= 0, got " + count);
        if (count == 0) return;
        nDeltas++;
        for (int i = 0; i < count; i++) {
            if (firstTokenNanos < 0) firstTokenNanos = nanos;
            else addGap(i == 0 ? (nanos - lastTokenNanos) / 1e6 : 0);
            lastTokenNanos = nanos;
        }
        nTokens += count;
    }

    /** The stream ended normally (finish reason as the contract names it: stop, length, cancelled). */
    public void finished(long nanos, String reason) {
        endNanos = nanos;
        finishReason = reason;
    }

    /** The stream ended with an error event. */
    public void failed(long nanos, String code) {
        endNanos = nanos;
        error = code;
    }

    /** The service's own time to first token (received → first token), from the done event's timings. */
    public void serverTtftMs(double ms) { serverTtftMs = ms; }

    /** The service's own gaps between tokens (done event's timings.itl_ms): when the engine produced them. */
    public void serverInterTokenMs(double[] ms) { serverInterTokenMs = ms.clone(); }

    public double[] serverInterTokenMs() { return serverInterTokenMs.clone(); }

    private void addGap(double ms) {
        if (nGaps == gapsMs.length) gapsMs = Arrays.copyOf(gapsMs, nGaps * 2);
        gapsMs[nGaps++] = ms;
    }

    public boolean ended() { return endNanos >= 0; }

    public boolean failed() { return error != null; }

    public String error() { return error; }

    public String finishReason() { return finishReason; }

    public long sentNanos() { return sentNanos; }

    public long endNanos() { return endNanos; }

    public int tokens() { return nTokens; }

    public int deltas() { return nDeltas; }

    public int promptTokens() { return promptTokens; }

    public int cachedTokens() { return cachedTokens; }

    public double serverTtftMs() { return serverTtftMs; }

    /** Sent → first token, in ms; NaN if no token arrived. */
    public double ttftMs() { return firstTokenNanos < 0 ? Double.NaN : (firstTokenNanos - sentNanos) / 1e6; }

    /** Sent → end of stream, in ms; NaN if it has not ended. */
    public double endToEndMs() { return endNanos < 0 ? Double.NaN : (endNanos - sentNanos) / 1e6; }

    /** The gap before each token after the first (tokens − 1 values), in ms. */
    public double[] interTokenMs() { return Arrays.copyOf(gapsMs, nGaps); }
}

package io.herd.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;

/**
 * Count, mean and nearest-rank percentiles of a set of latencies in milliseconds. Nearest rank (the smallest value
 * with at least p% of the samples at or below it) always reports a value that was measured, never an interpolation.
 */
public record LatencySummary(int count, double mean, double p50, double p90, double p99, double max) {

    /** An empty set: every statistic NaN, so a missing measurement never reads as zero. */
    public static final LatencySummary EMPTY = new LatencySummary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    /** Summarises the values (any order; the array is not modified). */
    public static LatencySummary of(double[] valuesMs) {
        if (valuesMs.length == 0) return EMPTY;
        double[] sorted = valuesMs.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (double v : sorted) sum += v;
        return new LatencySummary(sorted.length, sum / sorted.length, percentile(sorted, 50), percentile(sorted, 90),
                percentile(sorted, 99), sorted[sorted.length - 1]);
    }

    /** Nearest-rank percentile of ascending values; NaN for none. */
    public static double percentile(double[] sorted, double p) {
        if (p <= 0 || p > 100) throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        if (sorted.length == 0) return Double.NaN;
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
    }

    /** Writes the statistics into {@code node}, rounded to microseconds; NaN (no samples) as null. */
    public ObjectNode writeTo(ObjectNode node) {
        node.put("count", count);
        put(node, "mean", mean);
        put(node, "p50", p50);
        put(node, "p90", p90);
        put(node, "p99", p99);
        put(node, "max", max);
        return node;
    }

    /** Reads what {@link #writeTo} wrote. */
    public static LatencySummary readFrom(com.fasterxml.jackson.databind.JsonNode node) {
        return new LatencySummary(node.path("count").asInt(), get(node, "mean"), get(node, "p50"), get(node, "p90"),
                get(node, "p99"), get(node, "max"));
    }

    private static void put(ObjectNode node, String field, double v) {
        if (Double.isNaN(v)) node.putNull(field);
        else node.put(field, Math.round(v * 1000) / 1000.0);
    }

    private static double get(com.fasterxml.jackson.databind.JsonNode node, String field) {
        com.fasterxml.jackson.databind.JsonNode v = node.path(field);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }
}

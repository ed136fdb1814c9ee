package io.herd.serving;

import java.util.List;

/**
 * Finds stop strings in generated text. Text that could still become the start of a stop string is held back, so
 * the client never sees part of a stop string and a match can only lie in the unsent text.
 */
final class StopMatcher {

    private final List<String> stops;
    private final StringBuilder unsent = new StringBuilder();
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = stops;
    }

    /** Adds decoded text; returns true when a stop string completed (the text from it on is dropped). */
    boolean append(String text) {
        if (stopped || text.isEmpty()) return stopped;
        int searchFrom = Math.max(0, unsent.length() - maxStopLength() + 1);
        unsent.append(text);
        int cut = -1;
        for (String stop : stops) {
            int at = unsent.indexOf(stop, searchFrom);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0) {
            unsent.setLength(cut);
            stopped = true;
        }
        return stopped;
    }

    boolean stopped() { return stopped; }

    boolean hasUnsent() { return !unsent.isEmpty(); }

    /** Text that can go out now: all of it once stopped or at the end, else all but a possible stop prefix. */
    String take(boolean end) {
        int keep = end || stopped ? 0 : heldBackLength();
        String out = unsent.substring(0, unsent.length() - keep);
        unsent.delete(0, unsent.length() - keep);
        return out;
    }

    /** Length of the longest suffix of the unsent text that is a proper prefix of some stop string. */
    private int heldBackLength() {
        int best = 0;
        String tail = unsent.substring(Math.max(0, unsent.length() - maxStopLength()));
        for (String stop : stops) {
            for (int n = Math.min(stop.length() - 1, tail.length()); n > best; n--) {
                if (tail.regionMatches(tail.length() - n, stop, 0, n)) {
                    best = n;
                    break;
                }
            }
        }
        return best;
    }

    private int maxStopLength() {
        int max = 1;
        for (String s : stops) max = Math.max(max, s.length());
        return max;
    }
}

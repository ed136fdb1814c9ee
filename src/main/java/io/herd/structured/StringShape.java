package io.herd.structured;

import java.util.BitSet;

/**
 * What a JSON string's content may be: a code point automaton (a pattern or format; {@link RegexDfa#ANY} for none)
 * and length bounds in code points (JSON Schema counts code points). Answers whether a partial content can still be
 * completed within the bounds, so a generator never walks into a string it cannot close.
 */
final class StringShape {
    /** Largest length bound the feasibility table is built for, times the automaton's states. */
    static final long MAX_TABLE_BITS = 20_000_000L;

    final RegexDfa dfa;
    final int minLength;
    /** -1: unbounded. */
    final int maxLength;
    /** Per automaton state, the exact path lengths (in code points) to acceptance, up to the bound; null when unused. */
    private final BitSet[] lengths;
    /**
     * Per automaton state, the fewest code points to an accepting state (used where {@code lengths} is not): the
     * distance a sequence running out of tokens must shrink, so a pattern such as an e-mail address is steered
     * to its end instead of growing until the budget is gone.
     */
    private final int[] toAccept;

    StringShape(RegexDfa dfa, int minLength, int maxLength) {
        this.dfa = dfa;
        this.toAccept = shortestToAccept(dfa);
        this.minLength = minLength;
        this.maxLength = maxLength;
        if (maxLength >= 0 && minLength > maxLength) {
            throw new InvalidConstraintException("minLength " + minLength + " is above maxLength " + maxLength);
        }
        boolean bounded = minLength > 0 || maxLength >= 0;
        if (!bounded || dfa == RegexDfa.ANY) {
            this.lengths = null;
        } else {
            int n = dfa.nStates();
            long limit = maxLength >= 0 ? maxLength : (long) minLength + n;
            if (limit * n > MAX_TABLE_BITS) {
                throw new InvalidConstraintException("string length bounds too large for a pattern of this size");
            }
            this.lengths = new BitSet[n];
            for (int s = 0; s < n; s++) {
                lengths[s] = new BitSet();
                if (dfa.accepting(s)) lengths[s].set(0);
            }
            for (int k = 1; k <= limit; k++) {
                for (int s = 0; s < n; s++) {
                    for (int i = 0; i < dfa.nPieces(s); i++) {
                        if (lengths[dfa.pieceTarget(s, i)].get(k - 1)) {
                            lengths[s].set(k);
                            break;
                        }
                    }
                }
            }
        }
        if (!feasible(0, 0)) throw new InvalidConstraintException("no string satisfies the pattern and length bounds");
    }

    /** Whether content in automaton state {@code state} after {@code count} code points can still be completed. */
    boolean feasible(int state, int count) {
        if (maxLength >= 0 && count > maxLength) return false;
        if (lengths == null) {
            // ANY (every state accepting, every code point allowed) or no bounds at all (the automaton is trimmed).
            return true;
        }
        int from = Math.max(0, minLength - count);
        int to = maxLength >= 0 ? maxLength - count : from + dfa.nStates();
        int k = lengths[state].nextSetBit(from);
        return k >= 0 && k <= to;
    }

    /**
     * The count a state keeps after {@code count} code points: without an upper bound, counts past the lower bound
     * behave alike, so they are merged (a free string then stays in one state, and its token mask is computed once).
     */
    int saturate(int count) { return maxLength < 0 ? Math.min(count, minLength) : count; }

    /** The fewest code points that complete content in {@code state} after {@code count} (0 when it may end). */
    int minRemaining(int state, int count) {
        int from = Math.max(0, minLength - count);
        if (lengths == null) return dfa == RegexDfa.ANY ? from : Math.max(from, toAccept[state]);
        int k = lengths[state].nextSetBit(from);
        return k < 0 ? from : k;
    }

    /** Shortest path (code points) from each state to acceptance by relaxation over the transitions; FAR if none. */
    private static int[] shortestToAccept(RegexDfa dfa) {
        if (dfa == RegexDfa.ANY) return null;
        int n = dfa.nStates();
        int[] d = new int[n];
        for (int s = 0; s < n; s++) d[s] = dfa.accepting(s) ? 0 : CompletionDistance.FAR;
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < dfa.nPieces(s); i++) {
                    int t = d[dfa.pieceTarget(s, i)];
                    if (t < CompletionDistance.FAR && t + 1 < d[s]) {
                        d[s] = t + 1;
                        changed = true;
                    }
                }
            }
        }
        return d;
    }

    /** Whether the content may end here. */
    boolean canClose(int state, int count) {
        return dfa.accepting(state) && count >= minLength && (maxLength < 0 || count <= maxLength);
    }

    /** The state after {@code cp} when it keeps the content completable, else -1. */
    int advance(int state, int cp, int count) {
        int t = dfa.step(state, cp);
        return t >= 0 && feasible(t, count + 1) ? t : -1;
    }

    /** Whether some code point in {@code [lo, hi]} may come next (used while a UTF-8 sequence is incomplete). */
    boolean anyAllowed(int state, int lo, int hi, int count) {
        for (int i = 0; i < dfa.nPieces(state); i++) {
            int a = Math.max(lo, dfa.pieceLo(state, i)), b = Math.min(hi, dfa.pieceHi(state, i));
            if (a > b) continue;
            if (!isRawAllowed(a, b)) continue;
            if (feasible(dfa.pieceTarget(state, i), count + 1)) return true;
        }
        return false;
    }

    /** Raw (unescaped) characters in JSON text: everything from U+0020 except {@code "} and {@code \}. */
    private static boolean isRawAllowed(int a, int b) {
        // Only called for multi-byte sequences (a ≥ 0x80), all of which may be written raw.
        return b >= 0x80 || (a >= 0x20 && a != '"' && a != '\\');
    }
}

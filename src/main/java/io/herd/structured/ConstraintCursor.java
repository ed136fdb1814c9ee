package io.herd.structured;

/**
 * Where one sequence stands in its constraint: the tokens it may sample next and the state after each accepted token.
 * One per sequence, owned by the thread that samples it; it lives as long as the sequence (preemption and re-prefill
 * do not touch it: the tokens it has accepted stay accepted).
 */
public final class ConstraintCursor {
    private final OutputGrammar grammar;
    private GrammarState state;
    private boolean stopped;

    public ConstraintCursor(OutputGrammar grammar) {
        this.grammar = grammar;
        this.state = grammar.start;
    }

    /**
     * Tokens left when a sequence starts closing its document: beyond the shortest completion, this many spare
     * tokens let a model finish in its own words before only shortening tokens remain.
     */
    static final int CLOSING_SLACK = 8;

    /** The ids that may come next, as a bitset over the vocabulary (shared: do not modify). */
    public long[] allowedTokens() {
        if (stopped) throw new IllegalStateException("generation under " + grammar + " has already stopped");
        return grammar.vocabulary.mask(state);
    }

    /**
     * The ids that may come next when at most {@code remainingTokens} may still be generated: once that is within
     * {@link #CLOSING_SLACK} of the shortest completion, only tokens that shorten the way to a complete document (and
     * the stop tokens where it is complete), so generation ends with a stop token before the budget runs out.
     */
    public long[] allowedTokens(int remainingTokens) {
        long[] mask = allowedTokens();
        if ((long) remainingTokens > (long) state.distance() + CLOSING_SLACK) return mask;
        long[] closing = state.closingMask;
        if (closing == null) {
            closing = closingMask(mask);
            state.closingMask = closing;
        }
        return closing;
    }

    private long[] closingMask(long[] mask) {
        int d = state.distance();
        long[] m = mask.clone();
        boolean any = false;
        for (int w = 0; w < m.length; w++) {
            long bits = m[w];
            while (bits != 0) {
                long low = bits & -bits;
                bits ^= low;
                int id = (w << 6) + Long.numberOfTrailingZeros(low);
                if (grammar.vocabulary.isStop(id)) {
                    any = true;
                    continue;
                }
                GrammarState next = state.step(grammar.vocabulary.bytes(id));
                if (next != null && next.distance() < d) any = true;
                else m[w] &= ~low;
            }
        }
        return any ? m : mask;
    }

    /**
     * Moves past a sampled token.
     *
     * @throws IllegalStateException when the token was not allowed (the sampler ignored the mask)
     */
    public void accept(int tokenId) {
        if (stopped) throw new IllegalStateException("token " + tokenId + " after the stop token");
        if (grammar.vocabulary.isStop(tokenId)) {
            if (!state.accepting) throw new IllegalStateException("stop token " + tokenId + " before the document is complete");
            stopped = true;
            return;
        }
        byte[] bytes = grammar.vocabulary.bytes(tokenId);
        GrammarState next = bytes == null ? null : state.step(bytes);
        if (next == null) throw new IllegalStateException("token " + tokenId + " is not allowed by " + grammar);
        state = next;
    }

    /** Whether the text so far is a complete document. */
    public boolean complete() { return state.accepting; }

    /** Whether nothing but a stop token may follow. */
    public boolean finished() { return state.finished || stopped; }
}

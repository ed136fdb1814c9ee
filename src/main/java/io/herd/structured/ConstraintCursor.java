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

    /** The ids that may come next, as a bitset over the vocabulary (shared: do not modify). */
    public long[] allowedTokens() {
        if (stopped) throw new IllegalStateException("generation under " + grammar + " has already stopped");
        return grammar.vocabulary.mask(state);
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

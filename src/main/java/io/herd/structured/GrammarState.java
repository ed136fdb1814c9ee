package io.herd.structured;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One interned position of a generator in an {@link OutputGrammar}: the set of frame stacks still alive (several while
 * alternatives are undecided). Byte transitions and the token mask are computed on first use and kept; everything a
 * state memoizes is a pure function of it, so concurrent first uses only duplicate work.
 */
final class GrammarState {
    private static final GrammarState DEAD = new GrammarState(null, Set.of());

    final OutputGrammar grammar;
    final Set<MatchStack> stacks;
    /** The document may end here. */
    final boolean accepting;
    /** Nothing may follow: only a stop token. */
    final boolean finished;
    private final GrammarState[] next = new GrammarState[256];
    /** Allowed tokens, set by {@link TokenVocabulary#mask}. */
    volatile long[] mask;
    /** Allowed tokens that bring the document closer to its end; set by {@link ConstraintCursor}. */
    volatile long[] closingMask;
    private int distance = -1;

    /** Bytes to the nearest complete document ({@link CompletionDistance}). */
    int distance() {
        if (distance < 0) distance = CompletionDistance.of(this);
        return distance;
    }

    GrammarState(OutputGrammar grammar, Set<MatchStack> stacks) {
        this.grammar = grammar;
        this.stacks = stacks;
        boolean acc = false;
        for (MatchStack s : stacks) acc |= s.accepting();
        this.accepting = acc;
        this.finished = stacks.size() == 1 && stacks.contains(MatchStack.EMPTY);
    }

    /** The state after byte {@code b} (0 … 255), or null when the byte is not allowed. */
    GrammarState step(int b) {
        GrammarState n = next[b];
        if (n == null) {
            List<MatchStack> out = new ArrayList<>();
            for (MatchStack s : stacks) ByteMatcher.advance(s, b, out);
            n = out.isEmpty() ? DEAD : grammar.intern(new LinkedHashSet<>(out));
            next[b] = n;
        }
        return n == DEAD ? null : n;
    }

    /** The state after all of {@code bytes}, or null. */
    GrammarState step(byte[] bytes) {
        GrammarState s = this;
        for (int i = 0; i < bytes.length && s != null; i++) s = s.step(bytes[i] & 0xFF);
        return s;
    }
}

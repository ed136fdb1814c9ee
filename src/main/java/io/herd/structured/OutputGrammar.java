package io.herd.structured;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A compiled constraint: the grammar's root and the interned states a generator has visited. Thread-safe; states are
 * shared by every sequence generating under the same constraint, so their masks are computed once.
 */
public final class OutputGrammar {
    /** States beyond this are still correct but no longer memoized (bounds the memory one constraint can hold). */
    static final int MAX_INTERNED_STATES = 200_000;

    private final String description;
    final TokenVocabulary vocabulary;
    private final Map<Set<MatchStack>, GrammarState> states = new ConcurrentHashMap<>();
    final AtomicInteger masksCached = new AtomicInteger();
    final GrammarState start;

    OutputGrammar(GrammarNode root, TokenVocabulary vocabulary, String description) {
        this.description = description;
        this.vocabulary = vocabulary;
        List<MatchStack> initial = new ArrayList<>();
        ByteMatcher.open(root, MatchStack.EMPTY, initial);
        this.start = intern(new java.util.LinkedHashSet<>(initial));
    }

    GrammarState intern(Set<MatchStack> stacks) {
        GrammarState existing = states.get(stacks);
        if (existing != null) return existing;
        GrammarState fresh = new GrammarState(this, Set.copyOf(stacks));
        if (states.size() >= MAX_INTERNED_STATES) return fresh;
        GrammarState raced = states.putIfAbsent(fresh.stacks, fresh);
        return raced != null ? raced : fresh;
    }

    /** Whether {@code text} (UTF-8) is a complete document of this grammar. */
    public boolean accepts(byte[] text) {
        GrammarState s = start.step(text);
        return s != null && s.accepting;
    }

    /** Whether {@code text} is a prefix of some document. */
    public boolean acceptsPrefix(byte[] text) { return start.step(text) != null; }

    public int nStates() { return states.size(); }

    @Override
    public String toString() { return description; }
}

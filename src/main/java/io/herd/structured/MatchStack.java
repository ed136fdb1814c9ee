package io.herd.structured;

/**
 * An immutable stack of {@link MatchFrame}s: the top is what the next byte continues, the rest is what follows it.
 * {@link #EMPTY} is a finished document. Structural equality with a cached hash, so equal positions intern to one
 * {@link GrammarState}.
 */
final class MatchStack {
    static final MatchStack EMPTY = new MatchStack(null, null);

    final MatchFrame top;
    final MatchStack below;
    final int depth;
    private final int hash;

    MatchStack(MatchFrame top, MatchStack below) {
        this.top = top;
        this.below = below;
        this.depth = below == null ? 0 : below.depth + 1;
        this.hash = top == null ? 0 : 31 * below.hash + top.hashCode();
    }

    MatchStack push(MatchFrame frame) { return new MatchStack(frame, this); }

    /** Whether everything on the stack may end now. */
    boolean accepting() {
        for (MatchStack s = this; s != EMPTY; s = s.below) if (!s.top.canEnd()) return false;
        return true;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof MatchStack other) || other.hash != hash || other.depth != depth) return false;
        MatchStack a = this, b = other;
        while (a != EMPTY) {
            if (a == b) return true;
            if (!a.top.equals(b.top)) return false;
            a = a.below;
            b = b.below;
        }
        return true;
    }

    @Override
    public int hashCode() { return hash; }
}

package io.herd.structured;

/**
 * How far a position is from a complete document, in bytes (an estimate that is exact for the structural parts and
 * counts one byte per code point still due in strings). {@link ConstraintCursor} uses it to steer a sequence that is
 * running out of tokens onto the shortest way to close its document, so generation ends with a stop token whatever
 * the model prefers (a random model, too) as long as the token budget covers the document's minimum.
 */
final class CompletionDistance {
    static final int FAR = Integer.MAX_VALUE / 4;

    private CompletionDistance() {}

    /** Fewest bytes that finish any of the state's stacks. */
    static int of(GrammarState state) {
        int best = FAR;
        for (MatchStack s : state.stacks) best = Math.min(best, of(s));
        return best;
    }

    private static int of(MatchStack stack) {
        long sum = 0;
        for (MatchStack s = stack; s != MatchStack.EMPTY; s = s.below) sum += toEnd(s.top);
        return (int) Math.min(sum, FAR);
    }

    private static int toEnd(MatchFrame frame) {
        return switch (frame) {
            case MatchFrame.LiteralAt l -> l.node().bytes.length - l.pos();
            case MatchFrame.BlankRun ignored -> 0;
            case MatchFrame.TextAt t -> {
                StringShape shape = t.node().shape;
                if (t.need() > 0) yield t.need() + shape.minRemaining(t.state(), t.count() + 1) + (t.node().raw ? 0 : 1);
                int content = shape.minRemaining(t.state(), t.count()) + (t.escape() ? 1 : 0);
                if (t.node().raw) yield content;
                yield content + (t.open() ? 1 : 2);
            }
            case MatchFrame.NumberAt n -> n.node().shape.complete(n.text()) ? 0 : 1;
            case MatchFrame.SequenceAt s -> {
                long sum = 0;
                for (int i = s.index(); i < s.node().items.length; i++) sum += minBytes(s.node().items[i]);
                yield (int) Math.min(sum, FAR);
            }
            case MatchFrame.ObjectAt o -> {
                if (o.phase() == 0) yield minBytes(o.node());
                GrammarNode.ObjectShape node = o.node();
                long rest = 0;
                for (int j = o.next(); j < node.members.length; j++) {
                    if (node.required[j]) rest += minBytes(node.members[j]) + 1;
                }
                if (o.phase() == 3 && rest == 0) {
                    long cheapest = FAR;
                    if (node.freeMember != null) cheapest = minBytes(node.freeMember);
                    for (int j = o.next(); j < node.members.length; j++) cheapest = Math.min(cheapest, minBytes(node.members[j]));
                    rest = cheapest;
                }
                yield (int) Math.min(rest + 1, FAR);
            }
            case MatchFrame.ArrayAt a -> {
                if (a.phase() == 0) yield minBytes(a.node());
                long rest = 0;
                for (int i = a.count(); i < a.node().minItems; i++) {
                    GrammarNode item = a.node().itemAt(i);
                    rest += (item == null ? FAR : minBytes(item)) + 1;
                }
                if (a.phase() == 3 && rest == 0) {
                    GrammarNode item = a.node().itemAt(a.count());
                    rest = item == null ? FAR : minBytes(item);
                }
                yield (int) Math.min(rest + 1, FAR);
            }
        };
    }

    /** Fewest bytes of a document of {@code node}; recursion through references counts as unreachable. */
    static int minBytes(GrammarNode node) {
        if (node.minBytes >= 0) return node.minBytes;
        if (node.minBytes == -2) return FAR;
        node.minBytes = -2;
        long v = switch (node) {
            case GrammarNode.Literal l -> l.bytes.length;
            case GrammarNode.Blank ignored -> 0;
            case GrammarNode.Text t -> t.shape.minRemaining(0, 0) + (t.raw ? 0 : 2);
            case GrammarNode.Numeric ignored -> 1;
            case GrammarNode.Choice c -> {
                long best = FAR;
                for (GrammarNode o : c.options) if (o.productive) best = Math.min(best, minBytes(o));
                yield best;
            }
            case GrammarNode.Sequence s -> {
                long sum = 0;
                for (GrammarNode i : s.items) sum += minBytes(i);
                yield sum;
            }
            case GrammarNode.ObjectShape o -> {
                long sum = 2;
                for (int j = 0; j < o.members.length; j++) if (o.required[j]) sum += minBytes(o.members[j]) + 1;
                yield sum;
            }
            case GrammarNode.ArrayShape a -> {
                long sum = 2;
                for (int i = 0; i < a.minItems; i++) {
                    GrammarNode item = a.itemAt(i);
                    sum += (item == null ? FAR : minBytes(item)) + 1;
                }
                yield sum;
            }
            case GrammarNode.Reference r -> minBytes(r.target);
        };
        int result = (int) Math.min(v, FAR);
        // A value computed while a reference cycle was open may be an overestimate; keep it only when finite.
        node.minBytes = result < FAR ? result : -1;
        return result;
    }
}

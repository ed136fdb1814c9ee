package io.herd.structured;

import java.util.List;

/** Starts grammar nodes as frames and moves stacks of frames over one byte. */
final class ByteMatcher {
    private ByteMatcher() {}

    /** The stacks that begin matching {@code node} with {@code below} to follow (only productive alternatives). */
    static void open(GrammarNode node, MatchStack below, List<MatchStack> out) {
        switch (node) {
            case GrammarNode.Literal l -> out.add(below.push(new MatchFrame.LiteralAt(l, 0)));
            case GrammarNode.Blank ignored -> out.add(below.push(MatchFrame.BlankRun.START));
            case GrammarNode.Text t -> out.add(below.push(MatchFrame.TextAt.start(t)));
            case GrammarNode.Numeric n -> out.add(below.push(new MatchFrame.NumberAt(n, "")));
            case GrammarNode.Choice c -> {
                for (GrammarNode option : c.options) if (option.productive) open(option, below, out);
            }
            case GrammarNode.Sequence s -> out.add(below.push(new MatchFrame.SequenceAt(s, 0)));
            case GrammarNode.ObjectShape o -> out.add(below.push(new MatchFrame.ObjectAt(o, 0, 0, 0)));
            case GrammarNode.ArrayShape a -> out.add(below.push(new MatchFrame.ArrayAt(a, 0, 0, 0)));
            case GrammarNode.Reference r -> open(r.target, below, out);
        }
    }

    static void startAndAdvance(GrammarNode node, MatchStack below, int b, List<MatchStack> out) {
        List<MatchStack> opened = new java.util.ArrayList<>(2);
        open(node, below, opened);
        for (MatchStack s : opened) advance(s, b, out);
    }

    /** Every stack that {@code stack} becomes by reading byte {@code b} (0 … 255). */
    static void advance(MatchStack stack, int b, List<MatchStack> out) {
        if (stack == MatchStack.EMPTY) return;
        MatchFrame top = stack.top;
        top.advance(b, stack.below, out);
        if (!top.transparent() && top.canEnd()) advance(stack.below, b, out);
    }

    /** Whether a node can match nothing at all (only runs of blanks can). */
    static boolean nullable(GrammarNode node) {
        return switch (node) {
            case GrammarNode.Blank ignored -> true;
            case GrammarNode.Sequence s -> {
                for (GrammarNode item : s.items) if (!nullable(item)) yield false;
                yield true;
            }
            default -> false;
        };
    }
}

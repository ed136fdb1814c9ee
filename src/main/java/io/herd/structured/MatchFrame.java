package io.herd.structured;

import java.util.List;

/**
 * A position inside one grammar node. {@link #advance} consumes one byte and adds the resulting stacks (this frame's
 * successor on top of {@code below}, children pushed above it, or {@code below} itself when the byte ends the frame);
 * each frame only takes bytes after which its node can still be completed. Records: equal positions are equal.
 */
sealed interface MatchFrame permits MatchFrame.LiteralAt, MatchFrame.BlankRun, MatchFrame.TextAt,
        MatchFrame.NumberAt, MatchFrame.SequenceAt, MatchFrame.ObjectAt, MatchFrame.ArrayAt {

    void advance(int b, MatchStack below, List<MatchStack> out);

    /** Whether the node may end here without another byte. */
    boolean canEnd();

    /** A transparent frame does its own popping in {@link #advance} (it only stands for what is left to start). */
    default boolean transparent() { return false; }

    static boolean isBlank(int b) { return b == ' ' || b == '\n' || b == '\t' || b == '\r'; }

    record LiteralAt(GrammarNode.Literal node, int pos) implements MatchFrame {
        public void advance(int b, MatchStack below, List<MatchStack> out) {
            if ((node.bytes[pos] & 0xFF) != b) return;
            out.add(pos + 1 == node.bytes.length ? below : below.push(new LiteralAt(node, pos + 1)));
        }

        public boolean canEnd() { return false; }
    }

    record BlankRun(int count) implements MatchFrame {
        static final BlankRun START = new BlankRun(0);

        public void advance(int b, MatchStack below, List<MatchStack> out) {
            if (isBlank(b) && count < GrammarNode.MAX_BLANKS) out.add(below.push(new BlankRun(count + 1)));
        }

        public boolean canEnd() { return true; }
    }

    /**
     * Inside a JSON string. {@code state} is the content automaton's state after {@code count} code points;
     * {@code need} continuation bytes of a UTF-8 sequence are still due, the code points it can still become being
     * {@code [lo, hi]}; {@code escape} after a backslash. Escapes are the short ones ({@code \" \\ \/ \b \f \n \r \t});
     * other control characters cannot be written.
     */
    record TextAt(GrammarNode.Text node, boolean open, int state, int count, int need, int lo, int hi, boolean escape)
            implements MatchFrame {
        static TextAt start(GrammarNode.Text node) { return new TextAt(node, node.raw, 0, 0, 0, 0, 0, false); }

        public void advance(int b, MatchStack below, List<MatchStack> out) {
            StringShape shape = node.shape;
            if (node.raw && need == 0) {
                rawByte(b, below, out);
                return;
            }
            if (!open) {
                if (b == '"') out.add(below.push(new TextAt(node, true, 0, 0, 0, 0, 0, false)));
                return;
            }
            if (escape) {
                int cp = switch (b) {
                    case '"' -> '"';
                    case '\\' -> '\\';
                    case '/' -> '/';
                    case 'b' -> '\b';
                    case 'f' -> '\f';
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    case 't' -> '\t';
                    default -> -1;
                };
                if (cp >= 0) character(cp, below, out);
                return;
            }
            if (need > 0) {
                if ((b & 0xC0) != 0x80) return;
                int shift = 6 * (need - 1);
                if (shape.dfa == RegexDfa.ANY && lo < 0) {
                    // Free content: after the first continuation byte every continuation byte is valid, and which
                    // code point it becomes does not matter, so all such positions are one state.
                    if (need == 1) character(0x80, below, out);
                    else out.add(below.push(new TextAt(node, true, state, count, need - 1, -1, -1, false)));
                    return;
                }
                // The lead byte fixed the bits above this byte's six; lo and hi share them.
                int prefix = (lo >>> (shift + 6)) << (shift + 6) | ((b & 0x3F) << shift);
                int a = Math.max(lo, prefix);
                int z = Math.min(hi, prefix | ((1 << shift) - 1));
                if (a > z) return;
                if (need == 1) {
                    character(a, below, out);
                } else if (shape.dfa == RegexDfa.ANY) {
                    if (shape.anyAllowed(state, a, z, count)) {
                        out.add(below.push(new TextAt(node, true, state, count, need - 1, -1, -1, false)));
                    }
                } else if (shape.anyAllowed(state, a, z, count)) {
                    out.add(below.push(new TextAt(node, true, state, count, need - 1, a, z, false)));
                }
                return;
            }
            if (b == '"') {
                if (shape.canClose(state, count)) out.add(below);
                return;
            }
            if (b == '\\') {
                if (escapeFeasible()) out.add(below.push(new TextAt(node, true, state, count, 0, 0, 0, true)));
                return;
            }
            if (b < 0x20) return;
            if (b < 0x80) {
                character(b, below, out);
                return;
            }
            leadByte(b, below, out);
        }

        /** Regex output: no quotes, no escapes, any code point (control characters too). */
        private void rawByte(int b, MatchStack below, List<MatchStack> out) {
            if (b < 0x80) {
                character(b, below, out);
                return;
            }
            leadByte(b, below, out);
        }

        private void leadByte(int b, MatchStack below, List<MatchStack> out) {
            int n, a, z;
            if (b >= 0xC2 && b <= 0xDF) { n = 1; a = (b & 0x1F) << 6; z = a | 0x3F; }
            else if (b >= 0xE0 && b <= 0xEF) {
                n = 2; a = (b & 0x0F) << 12; z = a | 0xFFF;
                if (b == 0xE0) a = 0x800;
                if (b == 0xED) z = 0xD7FF;
            } else if (b >= 0xF0 && b <= 0xF4) {
                n = 3; a = (b & 0x07) << 18; z = a | 0x3FFFF;
                if (b == 0xF0) a = 0x10000;
                if (b == 0xF4) z = 0x10FFFF;
            } else return;
            if (node.shape.anyAllowed(state, a, z, count)) {
                out.add(below.push(new TextAt(node, true, state, count, n, a, z, false)));
            }
        }

        private boolean escapeFeasible() {
            for (int cp : new int[]{'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'}) {
                if (node.shape.advance(state, cp, count) >= 0) return true;
            }
            return false;
        }

        private void character(int cp, MatchStack below, List<MatchStack> out) {
            int next = node.shape.advance(state, cp, count);
            if (next >= 0) out.add(below.push(new TextAt(node, true, next, node.shape.saturate(count + 1), 0, 0, 0, false)));
        }

        public boolean canEnd() { return node.raw && need == 0 && node.shape.canClose(state, count); }
    }

    record NumberAt(GrammarNode.Numeric node, String text) implements MatchFrame {
        public void advance(int b, MatchStack below, List<MatchStack> out) {
            if (!(b == '-' || b == '.' || (b >= '0' && b <= '9'))) return;
            String next = text + (char) b;
            if (node.shape.syntaxPrefix(next) && node.shape.feasible(next)) out.add(below.push(new NumberAt(node, next)));
        }

        public boolean canEnd() { return node.shape.complete(text); }
    }

    /** Items {@code index …} of a sequence are still to start. */
    record SequenceAt(GrammarNode.Sequence node, int index) implements MatchFrame {
        public void advance(int b, MatchStack below, List<MatchStack> out) {
            MatchStack rest = index + 1 == node.items.length ? below : below.push(new SequenceAt(node, index + 1));
            ByteMatcher.startAndAdvance(node.items[index], rest, b, out);
        }

        public boolean canEnd() {
            for (int i = index; i < node.items.length; i++) if (!ByteMatcher.nullable(node.items[i])) return false;
            return true;
        }

        public boolean transparent() { return true; }
    }

    /**
     * Inside an object. Phase 0: before {@code {}; 1: after it; 2: after a member; 3: after a comma. {@code next} is
     * the first declared property that may still come; {@code blanks} counts whitespace in this gap.
     */
    record ObjectAt(GrammarNode.ObjectShape node, int phase, int next, int blanks) implements MatchFrame {
        public void advance(int b, MatchStack below, List<MatchStack> out) {
            switch (phase) {
                case 0 -> {
                    if (b == '{') out.add(below.push(new ObjectAt(node, 1, 0, 0)));
                }
                case 1, 3 -> {
                    if (MatchFrame.isBlank(b)) {
                        if (blanks < GrammarNode.MAX_BLANKS) out.add(below.push(new ObjectAt(node, phase, next, blanks + 1)));
                    } else if (b == '}') {
                        if (phase == 1 && canClose()) out.add(below);
                    } else if (b == '"') {
                        startMember(b, below, out);
                    }
                }
                default -> {
                    if (b == '}' && canClose()) out.add(below);
                    else if (b == ',' && hasMoreMembers()) out.add(below.push(new ObjectAt(node, 3, next, 0)));
                }
            }
        }

        private boolean canClose() {
            if (node.freeMember != null) return true;
            for (int j = next; j < node.required.length; j++) if (node.required[j]) return false;
            return true;
        }

        private boolean hasMoreMembers() {
            if (node.freeMember != null) return node.freeMember.productive;
            for (int j = next; j < node.members.length; j++) {
                if (node.members[j].productive) return true;
                if (node.required[j]) return false;
            }
            return false;
        }

        private void startMember(int b, MatchStack below, List<MatchStack> out) {
            if (node.freeMember != null) {
                if (node.freeMember.productive) {
                    ByteMatcher.startAndAdvance(node.freeMember, below.push(new ObjectAt(node, 2, 0, 0)), b, out);
                }
                return;
            }
            for (int j = next; j < node.members.length; j++) {
                if (node.members[j].productive) {
                    ByteMatcher.startAndAdvance(node.members[j], below.push(new ObjectAt(node, 2, j + 1, 0)), b, out);
                }
                if (node.required[j]) break;
            }
        }

        public boolean canEnd() { return false; }
    }

    /** Inside an array: phases as in {@link ObjectAt}; {@code count} items so far. */
    record ArrayAt(GrammarNode.ArrayShape node, int phase, int count, int blanks) implements MatchFrame {
        public void advance(int b, MatchStack below, List<MatchStack> out) {
            switch (phase) {
                case 0 -> {
                    if (b == '[') out.add(below.push(new ArrayAt(node, 1, 0, 0)));
                }
                case 1, 3 -> {
                    if (MatchFrame.isBlank(b) && blanks < GrammarNode.MAX_BLANKS) {
                        out.add(below.push(new ArrayAt(node, phase, count, blanks + 1)));
                        return;
                    }
                    if (b == ']' && phase == 1 && count >= node.minItems) {
                        out.add(below);
                        return;
                    }
                    GrammarNode item = mayAdd() ? node.itemAt(count) : null;
                    if (item != null) {
                        MatchStack rest = below.push(new ArrayAt(node, 2, count + 1, 0)).push(BlankRun.START);
                        ByteMatcher.startAndAdvance(item, rest, b, out);
                    }
                }
                default -> {
                    if (b == ']' && count >= node.minItems) out.add(below);
                    else if (b == ',' && mayAdd() && node.itemAt(count) != null) {
                        out.add(below.push(new ArrayAt(node, 3, count, 0)));
                    }
                }
            }
        }

        private boolean mayAdd() { return node.maxItems < 0 || count < node.maxItems; }

        public boolean canEnd() { return false; }
    }
}

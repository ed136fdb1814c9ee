package io.herd.structured;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses the ECMA-262 regular expressions JSON Schema's {@code pattern} uses (and Herd's {@code regex} constraint) into
 * a tree: literals, escapes ({@code \d \w \s} and their negations, {@code \t \n \r \f \v \0 \xHH}, u-escapes of four hex digits or in braces),
 * classes, {@code .}, groups ({@code (…) (?:…) (?<name>…)}), alternation and the quantifiers {@code * + ? {n} {n,}
 * {n,m}} (a lazy {@code ?} suffix is accepted: laziness does not change the language). Anchors are allowed only at the
 * two ends of a top-level alternative. Back-references, look-around and word boundaries are refused: they are not
 * regular, or not cheaply so.
 */
final class RegexSyntax {
    /** Largest {n,m} bound; larger ones would blow up the automaton. */
    static final int MAX_REPEAT = 1000;
    static final int MAX_PATTERN_CHARS = 4096;

    sealed interface Node permits Chars, Concat, Alt, Repeat {}

    record Chars(CodePointSet set) implements Node {}

    record Concat(List<Node> items) implements Node {}

    record Alt(List<Node> options) implements Node {}

    /** @param max -1 for unbounded */
    record Repeat(Node node, int min, int max) implements Node {}

    static final CodePointSet DIGIT = CodePointSet.range('0', '9');
    static final CodePointSet WORD = CodePointSet.range('a', 'z').union(CodePointSet.range('A', 'Z')).union(DIGIT)
            .union(CodePointSet.of('_'));
    static final CodePointSet SPACE = CodePointSet.range(0x09, 0x0D).union(CodePointSet.of(0x20))
            .union(CodePointSet.of(0xA0)).union(CodePointSet.of(0x1680)).union(CodePointSet.range(0x2000, 0x200A))
            .union(CodePointSet.range(0x2028, 0x2029)).union(CodePointSet.of(0x202F)).union(CodePointSet.of(0x205F))
            .union(CodePointSet.of(0x3000)).union(CodePointSet.of(0xFEFF));
    private static final CodePointSet LINE_TERMINATORS = CodePointSet.of('\n').union(CodePointSet.of('\r'))
            .union(CodePointSet.range(0x2028, 0x2029));

    private final int[] cps;
    private final String source;
    private int pos;

    private RegexSyntax(String pattern) {
        this.source = pattern;
        this.cps = pattern.codePoints().toArray();
    }

    /**
     * @param search true: JSON Schema semantics (the pattern may match anywhere unless anchored); false: the whole
     *               text must match
     */
    static Node parse(String pattern, boolean search) {
        if (pattern.length() > MAX_PATTERN_CHARS) {
            throw new InvalidConstraintException("pattern longer than " + MAX_PATTERN_CHARS + " characters");
        }
        RegexSyntax p = new RegexSyntax(pattern);
        List<Node> branches = new ArrayList<>();
        do {
            boolean anchoredStart = p.eat('^');
            List<Node> items = new ArrayList<>();
            boolean anchoredEnd = false;
            while (p.pos < p.cps.length && p.peek() != '|') {
                if (p.peek() == '$' && (p.pos + 1 == p.cps.length || p.cps[p.pos + 1] == '|')) {
                    p.pos++;
                    anchoredEnd = true;
                    break;
                }
                items.add(p.repeat());
            }
            if (search && !anchoredStart) items.addFirst(anything());
            if (search && !anchoredEnd) items.add(anything());
            branches.add(new Concat(items));
        } while (p.eat('|'));
        if (p.pos != p.cps.length) throw p.error("unexpected '" + Character.toString(p.peek()) + "'");
        return branches.size() == 1 ? branches.getFirst() : new Alt(branches);
    }

    private static Node anything() { return new Repeat(new Chars(CodePointSet.ALL), 0, -1); }

    private Node alternation() {
        List<Node> options = new ArrayList<>();
        do {
            options.add(concatenation());
        } while (eat('|'));
        return options.size() == 1 ? options.getFirst() : new Alt(options);
    }

    private Node concatenation() {
        List<Node> items = new ArrayList<>();
        while (pos < cps.length && peek() != '|' && peek() != ')') items.add(repeat());
        return new Concat(items);
    }

    private Node repeat() {
        Node atom = atom();
        while (pos < cps.length) {
            int c = peek();
            int min, max;
            if (c == '*') { min = 0; max = -1; pos++; }
            else if (c == '+') { min = 1; max = -1; pos++; }
            else if (c == '?') { min = 0; max = 1; pos++; }
            else if (c == '{' && isBraceQuantifier()) {
                pos++;
                min = number();
                max = min;
                if (eat(',')) max = peek() == '}' ? -1 : number();
                expect('}');
                if (max != -1 && max < min) throw error("quantifier {" + min + "," + max + "} out of order");
                if (min > MAX_REPEAT || max > MAX_REPEAT) throw error("quantifier bound above " + MAX_REPEAT);
            } else break;
            eat('?');
            atom = new Repeat(atom, min, max);
        }
        return atom;
    }

    private boolean isBraceQuantifier() {
        int i = pos + 1;
        int digits = 0;
        while (i < cps.length && cps[i] >= '0' && cps[i] <= '9') { i++; digits++; }
        if (digits == 0) return false;
        if (i < cps.length && cps[i] == ',') {
            i++;
            while (i < cps.length && cps[i] >= '0' && cps[i] <= '9') i++;
        }
        return i < cps.length && cps[i] == '}';
    }

    private int number() {
        long n = 0;
        int start = pos;
        while (pos < cps.length && peek() >= '0' && peek() <= '9') {
            n = Math.min(n * 10 + (peek() - '0'), Integer.MAX_VALUE);
            pos++;
        }
        if (pos == start) throw error("number expected");
        return (int) n;
    }

    private Node atom() {
        int c = next();
        switch (c) {
            case '(' -> {
                if (eat('?')) {
                    if (eat(':')) { /* non-capturing */ }
                    else if (peek() == '<' && pos + 1 < cps.length && cps[pos + 1] != '=' && cps[pos + 1] != '!') {
                        while (pos < cps.length && next() != '>') { /* group name */ }
                    } else throw error("look-around and inline flags are not supported");
                }
                Node inner = alternation();
                expect(')');
                return inner;
            }
            case '[' -> { return new Chars(characterClass()); }
            case '.' -> { return new Chars(LINE_TERMINATORS.complement()); }
            case '\\' -> { return new Chars(escape(false)); }
            case '^', '$' -> throw error("anchors are only supported at the start and end of the pattern");
            case '*', '+', '?' -> throw error("nothing to repeat");
            case ')' -> throw error("unbalanced ')'");
            default -> { return new Chars(CodePointSet.of(c)); }
        }
    }

    private CodePointSet characterClass() {
        boolean negated = eat('^');
        CodePointSet set = CodePointSet.EMPTY;
        boolean first = true;
        while (true) {
            if (pos >= cps.length) throw error("unterminated character class");
            if (peek() == ']' && !first) break;
            first = false;
            CodePointSet item = classAtom();
            if (peek() == '-' && pos + 1 < cps.length && cps[pos + 1] != ']') {
                pos++;
                CodePointSet upper = classAtom();
                if (item.nRanges() != 1 || item.lo(0) != item.hi(0) || upper.nRanges() != 1
                        || upper.lo(0) != upper.hi(0)) throw error("a class range needs single characters");
                if (upper.lo(0) < item.lo(0)) throw error("class range out of order");
                item = CodePointSet.range(item.lo(0), upper.lo(0));
            }
            set = set.union(item);
        }
        pos++;
        return negated ? set.complement() : set;
    }

    private CodePointSet classAtom() {
        int c = next();
        if (c == '\\') return escape(true);
        return CodePointSet.of(c);
    }

    private CodePointSet escape(boolean inClass) {
        if (pos >= cps.length) throw error("pattern ends with '\\'");
        int c = next();
        return switch (c) {
            case 'd' -> DIGIT;
            case 'D' -> DIGIT.complement();
            case 'w' -> WORD;
            case 'W' -> WORD.complement();
            case 's' -> SPACE;
            case 'S' -> SPACE.complement();
            case 't' -> CodePointSet.of('\t');
            case 'n' -> CodePointSet.of('\n');
            case 'r' -> CodePointSet.of('\r');
            case 'f' -> CodePointSet.of('\f');
            case 'v' -> CodePointSet.of(0x0B);
            case '0' -> CodePointSet.of(0);
            case 'b' -> {
                if (inClass) yield CodePointSet.of('\b');
                throw error("word boundaries (\\b) are not supported");
            }
            case 'x' -> CodePointSet.of(hex(2));
            case 'u' -> {
                if (eat('{')) {
                    int v = 0, digits = 0;
                    while (!eat('}')) {
                        v = v * 16 + hexDigit(next());
                        if (++digits > 6 || v > CodePointSet.MAX) throw error("\\u{…} out of range");
                    }
                    yield CodePointSet.of(v);
                }
                yield CodePointSet.of(hex(4));
            }
            default -> {
                if (c >= '1' && c <= '9') throw error("back-references are not supported");
                if (Character.isLetterOrDigit(c)) throw error("unknown escape \\" + Character.toString(c));
                yield CodePointSet.of(c);
            }
        };
    }

    private int hex(int n) {
        int v = 0;
        for (int i = 0; i < n; i++) {
            if (pos >= cps.length) throw error("truncated hex escape");
            v = v * 16 + hexDigit(next());
        }
        return v;
    }

    private int hexDigit(int c) {
        int d = Character.digit(c, 16);
        if (d < 0) throw error("bad hex digit");
        return d;
    }

    private int peek() { return cps[pos]; }

    private int next() {
        if (pos >= cps.length) throw error("pattern ends early");
        return cps[pos++];
    }

    private boolean eat(int c) {
        if (pos < cps.length && cps[pos] == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(int c) {
        if (!eat(c)) throw error("'" + Character.toString(c) + "' expected");
    }

    private InvalidConstraintException error(String what) {
        return new InvalidConstraintException("pattern " + quote(source) + ": " + what + " at " + pos);
    }

    private static String quote(String s) {
        return "\"" + (s.length() > 80 ? s.substring(0, 80) + "…" : s) + "\"";
    }
}

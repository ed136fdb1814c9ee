package io.herd.structured;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A deterministic automaton over code points, built from a {@link RegexSyntax} tree through a Thompson NFA and the
 * subset construction, then trimmed so that every state left can still reach an accepting one (no dead ends: a
 * generator that only takes live transitions always can finish). Transitions of a state are sorted disjoint code point
 * ranges. Immutable once built.
 */
final class RegexDfa {
    static final int MAX_NFA_STATES = 20_000;
    static final int MAX_DFA_STATES = 4_000;

    /** The one-state automaton that takes any code point: a string without a pattern. */
    static final RegexDfa ANY = new RegexDfa(new int[][]{{0}}, new int[][]{{CodePointSet.MAX}}, new int[][]{{0}},
            new boolean[]{true});

    private final int[][] lo;
    private final int[][] hi;
    private final int[][] target;
    private final boolean[] accepting;

    private RegexDfa(int[][] lo, int[][] hi, int[][] target, boolean[] accepting) {
        this.lo = lo;
        this.hi = hi;
        this.target = target;
        this.accepting = accepting;
    }

    static RegexDfa compile(String pattern, boolean search) { return fromSyntax(RegexSyntax.parse(pattern, search)); }

    int nStates() { return accepting.length; }

    boolean accepting(int state) { return accepting[state]; }

    /** The state after {@code cp}, or -1. State 0 is the start. */
    int step(int state, int cp) {
        int[] l = lo[state], h = hi[state];
        int a = 0, b = l.length - 1;
        while (a <= b) {
            int m = (a + b) >>> 1;
            if (cp < l[m]) b = m - 1;
            else if (cp > h[m]) a = m + 1;
            else return target[state][m];
        }
        return -1;
    }

    int nPieces(int state) { return lo[state].length; }

    int pieceLo(int state, int i) { return lo[state][i]; }

    int pieceHi(int state, int i) { return hi[state][i]; }

    int pieceTarget(int state, int i) { return target[state][i]; }

    // ---- construction ----

    private static final class Nfa {
        final List<int[]> eps = new ArrayList<>();
        final List<List<Object[]>> edges = new ArrayList<>();

        int add() {
            if (eps.size() >= MAX_NFA_STATES) throw new InvalidConstraintException("pattern too large (more than "
                    + MAX_NFA_STATES + " automaton states)");
            eps.add(new int[0]);
            edges.add(new ArrayList<>());
            return eps.size() - 1;
        }

        void epsilon(int from, int to) {
            int[] e = eps.get(from);
            int[] n = Arrays.copyOf(e, e.length + 1);
            n[e.length] = to;
            eps.set(from, n);
        }

        /** Builds {@code node} between fresh start and end states; returns {start, end}. */
        int[] build(RegexSyntax.Node node) {
            int s = add();
            switch (node) {
                case RegexSyntax.Chars c -> {
                    int e = add();
                    if (!c.set().isEmpty()) edges.get(s).add(new Object[]{c.set(), e});
                    return new int[]{s, e};
                }
                case RegexSyntax.Concat c -> {
                    int at = s;
                    for (RegexSyntax.Node item : c.items()) {
                        int[] f = build(item);
                        epsilon(at, f[0]);
                        at = f[1];
                    }
                    return new int[]{s, at};
                }
                case RegexSyntax.Alt a -> {
                    int e = add();
                    for (RegexSyntax.Node option : a.options()) {
                        int[] f = build(option);
                        epsilon(s, f[0]);
                        epsilon(f[1], e);
                    }
                    return new int[]{s, e};
                }
                case RegexSyntax.Repeat r -> {
                    int at = s;
                    for (int i = 0; i < r.min(); i++) {
                        int[] f = build(r.node());
                        epsilon(at, f[0]);
                        at = f[1];
                    }
                    if (r.max() < 0) {
                        int[] f = build(r.node());
                        int e = add();
                        epsilon(at, f[0]);
                        epsilon(at, e);
                        epsilon(f[1], f[0]);
                        epsilon(f[1], e);
                        return new int[]{s, e};
                    }
                    int e = add();
                    for (int i = r.min(); i < r.max(); i++) {
                        epsilon(at, e);
                        int[] f = build(r.node());
                        epsilon(at, f[0]);
                        at = f[1];
                    }
                    epsilon(at, e);
                    return new int[]{s, e};
                }
            }
        }

        int[] closure(int[] states) {
            BitSet seen = new BitSet();
            ArrayDeque<Integer> todo = new ArrayDeque<>();
            for (int st : states) if (!seen.get(st)) { seen.set(st); todo.push(st); }
            while (!todo.isEmpty()) {
                for (int t : eps.get(todo.pop())) if (!seen.get(t)) { seen.set(t); todo.push(t); }
            }
            return seen.stream().toArray();
        }
    }

    static RegexDfa fromSyntax(RegexSyntax.Node root) {
        Nfa nfa = new Nfa();
        int[] frag = nfa.build(root);
        int nfaAccept = frag[1];
        Map<List<Integer>, Integer> index = new HashMap<>();
        List<int[]> sets = new ArrayList<>();
        List<int[]> los = new ArrayList<>(), his = new ArrayList<>(), targets = new ArrayList<>();
        int[] start = nfa.closure(new int[]{frag[0]});
        index.put(key(start), 0);
        sets.add(start);
        for (int d = 0; d < sets.size(); d++) {
            int[] set = sets.get(d);
            List<Object[]> edges = new ArrayList<>();
            for (int st : set) edges.addAll(nfa.edges.get(st));
            int[] points = boundaries(edges);
            List<int[]> pieces = new ArrayList<>(); // lo, hi, target
            for (int i = 0; i + 1 < points.length; i++) {
                int a = points[i], b = points[i + 1] - 1;
                BitSet next = new BitSet();
                for (Object[] e : edges) if (((CodePointSet) e[0]).contains(a)) next.set((Integer) e[1]);
                if (next.isEmpty()) continue;
                int[] closed = nfa.closure(next.stream().toArray());
                List<Integer> k = key(closed);
                Integer t = index.get(k);
                if (t == null) {
                    if (sets.size() >= MAX_DFA_STATES) {
                        throw new InvalidConstraintException("pattern too complex (more than " + MAX_DFA_STATES
                                + " automaton states)");
                    }
                    t = sets.size();
                    index.put(k, t);
                    sets.add(closed);
                }
                if (!pieces.isEmpty() && pieces.getLast()[2] == t && pieces.getLast()[1] == a - 1) {
                    pieces.getLast()[1] = b;
                } else {
                    pieces.add(new int[]{a, b, t});
                }
            }
            los.add(pieces.stream().mapToInt(p -> p[0]).toArray());
            his.add(pieces.stream().mapToInt(p -> p[1]).toArray());
            targets.add(pieces.stream().mapToInt(p -> p[2]).toArray());
        }
        int n = sets.size();
        boolean[] accepting = new boolean[n];
        for (int d = 0; d < n; d++) accepting[d] = Arrays.binarySearch(sets.get(d), nfaAccept) >= 0;
        return trimmed(los, his, targets, accepting);
    }

    /** Drops transitions into states that cannot reach acceptance; fails when the start cannot. */
    private static RegexDfa trimmed(List<int[]> los, List<int[]> his, List<int[]> targets, boolean[] accepting) {
        int n = accepting.length;
        BitSet live = new BitSet(n);
        for (int d = 0; d < n; d++) if (accepting[d]) live.set(d);
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int d = 0; d < n; d++) {
                if (live.get(d)) continue;
                for (int t : targets.get(d)) {
                    if (live.get(t)) {
                        live.set(d);
                        changed = true;
                        break;
                    }
                }
            }
        }
        if (!live.get(0)) throw new InvalidConstraintException("pattern matches no string");
        int[][] lo = new int[n][], hi = new int[n][], tg = new int[n][];
        for (int d = 0; d < n; d++) {
            int[] l = los.get(d), h = his.get(d), t = targets.get(d);
            int m = 0;
            for (int i = 0; i < t.length; i++) if (live.get(t[i])) m++;
            lo[d] = new int[m];
            hi[d] = new int[m];
            tg[d] = new int[m];
            int j = 0;
            for (int i = 0; i < t.length; i++) {
                if (!live.get(t[i])) continue;
                lo[d][j] = l[i];
                hi[d][j] = h[i];
                tg[d][j++] = t[i];
            }
        }
        return new RegexDfa(lo, hi, tg, accepting);
    }

    private static int[] boundaries(List<Object[]> edges) {
        int[] all = new int[0];
        int n = 0;
        for (Object[] e : edges) {
            CodePointSet s = (CodePointSet) e[0];
            if (all.length < n + 2 * s.nRanges()) all = Arrays.copyOf(all, Math.max(16, 2 * (n + 2 * s.nRanges())));
            for (int i = 0; i < s.nRanges(); i++) {
                all[n++] = s.lo(i);
                all[n++] = s.hi(i) + 1;
            }
        }
        return Arrays.stream(all, 0, n).sorted().distinct().toArray();
    }

    private static List<Integer> key(int[] set) { return Arrays.stream(set).boxed().toList(); }
}

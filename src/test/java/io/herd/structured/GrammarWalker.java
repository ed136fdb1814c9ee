package io.herd.structured;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Random generation at the byte level: uniformly random allowed bytes for a budget, then a depth-first completion
 * (closing bytes first). A state without allowed bytes that is not complete, or one that cannot be completed, fails.
 */
final class GrammarWalker {
    private GrammarWalker() {}

    static List<Integer> allowedBytes(GrammarState s) {
        List<Integer> out = new ArrayList<>();
        for (int b = 0; b < 256; b++) if (s.step(b) != null) out.add(b);
        return out;
    }

    static byte[] walk(OutputGrammar g, SplittableRandom random, int budget) {
        GrammarState s = g.start;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int steps = 0; ; steps++) {
            if (s.accepting && (s.finished || random.nextInt(4) == 0)) return out.toByteArray();
            List<Integer> allowed = allowedBytes(s);
            if (allowed.isEmpty()) {
                if (s.accepting) return out.toByteArray();
                throw new AssertionError("dead end after " + show(out));
            }
            if (steps >= budget) {
                out.writeBytes(completion(s, out));
                return out.toByteArray();
            }
            int b = allowed.get(random.nextInt(allowed.size()));
            out.write(b);
            s = s.step(b);
        }
    }

    /** Closing bytes first, openers last, then every UTF-8 continuation byte. */
    private static final int[] FINISHING_BYTES = finishingBytes();

    private static int[] finishingBytes() {
        LinkedHashSet<Integer> order = new LinkedHashSet<>();
        for (char c : "\"}]0a1:,nul-.ABZ@".toCharArray()) order.add((int) c);
        for (int b = 0x21; b < 0x7F; b++) if (b != '[' && b != '{') order.add(b);
        for (int b = 0x80; b < 0xC0; b++) order.add(b);
        order.add((int) '[');
        order.add((int) '{');
        order.add(0xC3);
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A way to a complete document: shows that the state can still finish. */
    static byte[] completion(GrammarState from, ByteArrayOutputStream sofar) {
        Set<GrammarState> seen = new HashSet<>();
        ArrayDeque<Integer> path = new ArrayDeque<>();
        if (!finish(from, seen, path, 0)) throw new AssertionError("no completion found after " + show(sofar));
        byte[] out = new byte[path.size()];
        int i = 0;
        for (int b : path) out[i++] = (byte) b;
        return out;
    }

    private static boolean finish(GrammarState s, Set<GrammarState> seen, ArrayDeque<Integer> path, int depth) {
        if (s.accepting) return true;
        if (depth > 3000 || !seen.add(s)) return false;
        for (int b : FINISHING_BYTES) {
            GrammarState t = s.step(b);
            if (t == null) continue;
            path.addLast(b);
            if (finish(t, seen, path, depth + 1)) return true;
            path.removeLast();
        }
        return false;
    }

    static String show(ByteArrayOutputStream out) {
        return out.toString(StandardCharsets.UTF_8).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
    }
}

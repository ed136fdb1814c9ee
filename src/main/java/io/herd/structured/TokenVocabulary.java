package io.herd.structured;

import io.herd.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * A model's vocabulary as a byte trie, for turning a grammar state into the set of tokens that may come next. The trie
 * is stored in pre-order (label, depth, the index just past each subtree, the tokens ending at each node), so one mask
 * is a single forward walk that skips every subtree whose prefix the grammar already refuses: its cost follows the
 * allowed prefixes, not the vocabulary. Special tokens never appear in constrained text; the stop tokens are allowed
 * exactly where the document may end. Immutable and thread-safe.
 */
public final class TokenVocabulary {
    /** Masks kept per compiled constraint; further states are computed again when revisited. */
    static final int MAX_CACHED_MASKS = 512;

    private final int vocabSize;
    private final byte[][] tokenBytes;
    private final int[] stopIds;
    private final byte[] label;
    private final int[] depth;
    private final int[] skip;
    private final int[] tokenStart;
    private final int[] tokenCount;
    private final int[] sortedIds;
    private final int maxDepth;

    /**
     * @param tokenBytes per id the token's bytes, null for ids that must never be generated under a constraint
     * @param stopIds    ids that end generation (allowed exactly when the document is complete)
     */
    public TokenVocabulary(byte[][] tokenBytes, int[] stopIds) {
        this.vocabSize = tokenBytes.length;
        this.tokenBytes = tokenBytes;
        this.stopIds = stopIds.clone();
        Integer[] order = new Integer[vocabSize];
        int n = 0;
        for (int id = 0; id < vocabSize; id++) if (tokenBytes[id] != null && tokenBytes[id].length > 0) order[n++] = id;
        Integer[] ids = Arrays.copyOf(order, n);
        Arrays.sort(ids, (a, b) -> Arrays.compareUnsigned(tokenBytes[a], tokenBytes[b]));
        sortedIds = new int[n];
        int totalBytes = 0, longest = 0;
        for (int i = 0; i < n; i++) {
            sortedIds[i] = ids[i];
            totalBytes += tokenBytes[ids[i]].length;
            longest = Math.max(longest, tokenBytes[ids[i]].length);
        }
        byte[] lab = new byte[totalBytes];
        int[] dep = new int[totalBytes], sk = new int[totalBytes], ts = new int[totalBytes], tc = new int[totalBytes];
        int[] nodeAt = new int[longest + 1];
        int nodes = 0, pathLength = 0;
        byte[] previous = new byte[0];
        for (int i = 0; i < n; i++) {
            byte[] b = tokenBytes[sortedIds[i]];
            int lcp = 0;
            while (lcp < Math.min(pathLength, b.length) && previous[lcp] == b[lcp]) lcp++;
            for (int d = pathLength; d > lcp; d--) sk[nodeAt[d]] = nodes;
            for (int d = lcp + 1; d <= b.length; d++) {
                lab[nodes] = b[d - 1];
                dep[nodes] = d;
                ts[nodes] = -1;
                nodeAt[d] = nodes++;
            }
            int end = nodeAt[b.length];
            if (ts[end] < 0) ts[end] = i;
            tc[end]++;
            pathLength = b.length;
            previous = b;
        }
        for (int d = pathLength; d > 0; d--) sk[nodeAt[d]] = nodes;
        this.label = Arrays.copyOf(lab, nodes);
        this.depth = Arrays.copyOf(dep, nodes);
        this.skip = Arrays.copyOf(sk, nodes);
        this.tokenStart = Arrays.copyOf(ts, nodes);
        this.tokenCount = Arrays.copyOf(tc, nodes);
        this.maxDepth = longest;
    }

    /** The tokenizer's vocabulary: every non-special token, with its stop tokens. */
    public static TokenVocabulary of(Tokenizer tokenizer) {
        byte[][] bytes = new byte[tokenizer.vocabSize()][];
        for (int id = 0; id < bytes.length; id++) if (!tokenizer.isSpecial(id)) bytes[id] = tokenizer.tokenBytes(id);
        return new TokenVocabulary(bytes, tokenizer.stopTokenIds());
    }

    public int vocabSize() { return vocabSize; }

    public int nTrieNodes() { return label.length; }

    boolean isStop(int id) {
        for (int s : stopIds) if (s == id) return true;
        return false;
    }

    /** The bytes of a generable token, or null. */
    byte[] bytes(int id) { return id >= 0 && id < vocabSize ? tokenBytes[id] : null; }

    /** Allowed tokens in {@code state} as a bitset over ids (bit {@code id & 63} of word {@code id >>> 6}). */
    long[] mask(GrammarState state) {
        long[] cached = state.mask;
        if (cached != null) return cached;
        long[] m = new long[(vocabSize + 63) >>> 6];
        if (!state.finished) walk(state, m);
        if (state.accepting) for (int id : stopIds) m[id >>> 6] |= 1L << id;
        if (state.grammar.masksCached.get() < MAX_CACHED_MASKS) {
            state.mask = m;
            state.grammar.masksCached.incrementAndGet();
        }
        return m;
    }

    private void walk(GrammarState root, long[] m) {
        GrammarState[] at = new GrammarState[maxDepth + 1];
        at[0] = root;
        int n = label.length;
        int i = 0;
        while (i < n) {
            int d = depth[i];
            GrammarState next = at[d - 1].step(label[i] & 0xFF);
            if (next == null) {
                i = skip[i];
                continue;
            }
            at[d] = next;
            for (int k = 0, c = tokenCount[i]; k < c; k++) {
                int id = sortedIds[tokenStart[i] + k];
                m[id >>> 6] |= 1L << id;
            }
            i++;
        }
    }
}

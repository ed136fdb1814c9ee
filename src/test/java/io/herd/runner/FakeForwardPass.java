package io.herd.runner;

import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A stand-in model that really uses the paged KV cache it is given. Each position writes a cell (its position, its
 * token, a context value) into its GLOBAL and CHUNKED block slots; the context value chains on the previous cell
 * read back through the block table, and logits are derived from every cell the position may attend to (all earlier
 * GLOBAL cells, the CHUNKED cells of its own attention chunk). So a wrong block table, an overwritten block or a
 * wrongly reused prefix changes the tokens (or throws when a cell holds another position), and
 * {@link #referenceGreedy} gives the tokens a correct cache must produce.
 */
public final class FakeForwardPass implements ForwardPass {
    private static final long GLOBAL_SEED = 0x9E3779B97F4A7C15L;
    private static final long CHUNK_SEED = 0xC2B2AE3D27D4EB4FL;

    private final Llama4Config config;
    private final KvCacheSpec spec;
    private final Cells global;
    private final Cells chunked;
    private final int chunk;
    /** Per forward call: number of chunks and tokens. */
    public final List<int[]> calls = new ArrayList<>();

    private static final class Cells {
        final int[] pos;
        final int[] token;
        final long[] ctx;

        Cells(int n) {
            pos = new int[n];
            token = new int[n];
            ctx = new long[n];
            Arrays.fill(pos, -1);
        }
    }

    public FakeForwardPass(int vocab, int attentionChunk, int maxPositions, int blockSize, int nGlobalBlocks, int nChunkedBlocks) {
        this.config = config(vocab, attentionChunk, maxPositions);
        this.spec = new KvCacheSpec(blockSize, nGlobalBlocks, nChunkedBlocks, 1024L * blockSize, 3072L * blockSize);
        this.global = new Cells(nGlobalBlocks * blockSize);
        this.chunked = new Cells(nChunkedBlocks * blockSize);
        this.chunk = attentionChunk;
    }

    /** A 4-layer config: layers 0-2 RoPE (chunked), layer 3 NoPE, like Scout's 3:1 interleave. */
    public static Llama4Config config(int vocab, int attentionChunk, int maxPositions) {
        boolean[] rope = {true, true, true, false};
        return new Llama4Config(16, 4, 2, 1, 8, 16, 16, 1, 1, new boolean[4], rope, false, attentionChunk, false,
                4f, 0.1f, 1e-5f, 500000f, null, vocab, maxPositions, 1, new int[] {2}, 0);
    }

    @Override
    public Llama4Config config() { return config; }

    @Override
    public KvCacheSpec kvSpec() { return spec; }

    @Override
    public List<float[]> forward(List<SequenceChunk> chunks) {
        int nTokens = 0;
        List<float[]> out = new ArrayList<>();
        for (SequenceChunk c : chunks) {
            nTokens += c.tokens().length;
            float[] logits = new float[c.nLogits() * config.vocabSize()];
            for (int i = 0; i < c.tokens().length; i++) {
                int p = c.startPos() + i;
                write(c, p, c.tokens()[i]);
                int fromEnd = c.tokens().length - i;
                if (fromEnd <= c.nLogits()) {
                    int next = nextToken(readContext(c.blocks(), p), config.vocabSize());
                    logits[(c.nLogits() - fromEnd) * config.vocabSize() + next] = 1f;
                }
            }
            out.add(logits);
        }
        calls.add(new int[] {chunks.size(), nTokens});
        return out;
    }

    private void write(SequenceChunk c, int p, int token) {
        long prevG = p == 0 ? GLOBAL_SEED : read(global, c.blocks().global(), p - 1, "GLOBAL");
        int g = slot(c.blocks().global(), p, "GLOBAL");
        global.pos[g] = p;
        global.token[g] = token;
        global.ctx[g] = mix(prevG, token, p);
        if (spec.nChunkedBlocks() > 0) {
            long prevC = p % chunk == 0 ? CHUNK_SEED : read(chunked, c.blocks().chunked(), p - 1, "CHUNKED");
            int s = slot(c.blocks().chunked(), p, "CHUNKED");
            chunked.pos[s] = p;
            chunked.token[s] = token;
            chunked.ctx[s] = mix(prevC, token, p);
        }
    }

    /** Combines every cell position p attends to, read back through the tables. */
    private long readContext(BlockTable t, int p) {
        long acc = 17;
        for (int q = 0; q <= p; q++) acc = mix(acc, read(global, t.global(), q, "GLOBAL"), q);
        if (spec.nChunkedBlocks() > 0) {
            for (int q = p / chunk * chunk; q <= p; q++) acc = mix(acc, read(chunked, t.chunked(), q, "CHUNKED"), -q);
        }
        return acc;
    }

    private long read(Cells cells, int[] table, int p, String group) {
        int s = slot(table, p, group);
        if (cells.pos[s] != p) {
            throw new AssertionError(group + " slot " + s + " for position " + p + " holds position " + cells.pos[s]);
        }
        return cells.ctx[s];
    }

    private int slot(int[] table, int p, String group) {
        int b = spec.blockSize();
        int logical = p / b;
        if (logical >= table.length) throw new AssertionError(group + " table has no block for position " + p);
        int block = table[logical];
        if (block < 0) throw new AssertionError(group + " block for position " + p + " is released (-1)");
        int nBlocks = group.equals("GLOBAL") ? spec.nGlobalBlocks() : spec.nChunkedBlocks();
        if (block >= nBlocks) throw new AssertionError(group + " block id " + block + " out of range");
        return block * b + p % b;
    }

    /** Greedy tokens a correct KV cache yields for {@code prompt}, computed without any cache. */
    public static int[] referenceGreedy(int[] prompt, int nTokens, int vocab, int attentionChunk) {
        int[] seq = Arrays.copyOf(prompt, prompt.length + nTokens);
        long[] g = new long[seq.length];
        long[] c = new long[seq.length];
        for (int p = 0; p < seq.length; p++) {
            if (p >= prompt.length) {
                long acc = 17;
                int q0 = p - 1;
                for (int q = 0; q <= q0; q++) acc = mix(acc, g[q], q);
                for (int q = q0 / attentionChunk * attentionChunk; q <= q0; q++) acc = mix(acc, c[q], -q);
                seq[p] = nextToken(acc, vocab);
            }
            g[p] = mix(p == 0 ? GLOBAL_SEED : g[p - 1], seq[p], p);
            c[p] = mix(p % attentionChunk == 0 ? CHUNK_SEED : c[p - 1], seq[p], p);
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    private static int nextToken(long acc, int vocab) {
        // Token 0 is kept out so tests can use it freely; the rest is spread evenly.
        return 1 + (int) Long.remainderUnsigned(acc, vocab - 1);
    }

    private static long mix(long a, long b, int p) {
        long z = a * 31 + b + (long) p * 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public void close() {}
}

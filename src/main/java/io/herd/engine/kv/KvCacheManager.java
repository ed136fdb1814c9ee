package io.herd.engine.kv;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Block tables of every live sequence over the two {@link BlockPool}s (GLOBAL and CHUNKED), with automatic prefix
 * caching. The scheduler sees only block ids and counts; the KV memory itself belongs to the runner.
 *
 * <p>CHUNKED group rules (Llama 4 RoPE layers read only the query's attention chunk {@code [p/C*C, p]}):
 * a sequence holds CHUNKED blocks only from the chunk of its next position to compute; blocks wholly before it are
 * released after each step (they stay in the prefix cache until evicted). A cached prefix of n tokens is a hit only
 * when the GLOBAL blocks of {@code [0, n)} and the CHUNKED blocks of {@code [chunkStart(n), n)} are all cached:
 * position n onwards never reads earlier chunks, so their CHUNKED blocks are not needed.
 */
public final class KvCacheManager {
    private final KvCacheLayout layout;
    private final BlockPool global;
    private final BlockPool chunked;
    private final boolean enablePrefixCaching;
    private final Map<String, KvBlocks> tables = new HashMap<>();

    public KvCacheManager(KvCacheLayout layout, boolean enablePrefixCaching) {
        this.layout = layout;
        this.global = new BlockPool("GLOBAL", layout.nGlobalBlocks());
        this.chunked = layout.hasChunkedGroup() ? new BlockPool("CHUNKED", layout.nChunkedBlocks()) : null;
        this.enablePrefixCaching = enablePrefixCaching;
    }

    public KvCacheLayout layout() { return layout; }

    public BlockPool globalPool() { return global; }

    /** The CHUNKED pool; empty when the model has no chunked-attention layers. */
    public Optional<BlockPool> chunkedPool() { return Optional.ofNullable(chunked); }

    /** Fraction of KV bytes held by running sequences (cached-but-free blocks count as free, as in vLLM). */
    public double usage() {
        double used = (double) global.nUsed() * layout.bytesPerGlobalBlock();
        double total = (double) global.nBlocks() * layout.bytesPerGlobalBlock();
        if (chunked != null) {
            used += (double) chunked.nUsed() * layout.bytesPerChunkedBlock();
            total += (double) chunked.nBlocks() * layout.bytesPerChunkedBlock();
        }
        return total == 0 ? 0 : used / total;
    }

    /**
     * Longest cached prefix of a sequence of {@code nTokens} tokens whose full-block hashes are {@code hashes}.
     * Never covers the last token: at least one position must run to produce logits.
     */
    public PrefixHit findCachedPrefix(List<BlockHash> hashes, int nTokens) {
        if (!enablePrefixCaching || nTokens <= 1) return PrefixHit.NONE;
        int b = layout.blockSize();
        int maxBlocks = Math.min(hashes.size(), (nTokens - 1) / b);
        int[] globalIds = new int[maxBlocks];
        int k = 0;
        while (k < maxBlocks) {
            int id = global.lookup(hashes.get(k));
            if (id < 0) break;
            globalIds[k++] = id;
        }
        for (int n = k; n > 0; n--) {
            int[] chunkedIds = chunkedHit(hashes, n);
            if (chunkedIds != null) {
                return new PrefixHit(n * b, java.util.Arrays.copyOf(globalIds, n), chunkedIds);
            }
        }
        return PrefixHit.NONE;
    }

    /** CHUNKED table for a hit of n blocks, or null when a needed CHUNKED block is not cached. */
    private int[] chunkedHit(List<BlockHash> hashes, int nBlocks) {
        int[] ids = new int[nBlocks];
        java.util.Arrays.fill(ids, -1);
        if (chunked == null) return ids;
        int first = layout.chunkStart(nBlocks * layout.blockSize()) / layout.blockSize();
        for (int i = first; i < nBlocks; i++) {
            ids[i] = chunked.lookup(hashes.get(i));
            if (ids[i] < 0) return null;
        }
        return ids;
    }

    /**
     * Gives sequence {@code requestId} blocks for positions {@code [nComputed, nComputed + nNew)}, first adopting
     * {@code hit} when the sequence has no table yet. Returns the appended ids, or empty (and changes nothing)
     * when either pool lacks free blocks.
     */
    public Optional<NewBlocks> allocateSlots(String requestId, int nComputed, int nNew, PrefixHit hit) {
        KvBlocks t = tables.get(requestId);
        boolean fresh = t == null;
        int[] need = need(t, nComputed, nNew, hit);
        if (need == null) return Optional.empty();
        int needGlobal = need[0];
        int needChunked = need[1];
        int b = layout.blockSize();
        int firstChunked = chunked == null ? 0 : layout.chunkStart(nComputed) / b;
        if (fresh) {
            t = new KvBlocks();
            tables.put(requestId, t);
            for (int id : hit.globalBlockIds()) {
                global.touch(id);
                t.global.add(id);
            }
            for (int id : hit.chunkedBlockIds()) {
                if (id >= 0) chunked.touch(id);
                t.chunked.add(id);
            }
            t.nCachedBlocks = hit.globalBlockIds().length;
            t.nReleasedChunked = chunked == null ? 0 : layout.chunkStart(hit.nTokens()) / b;
        }
        int[] newGlobal = global.allocate(needGlobal);
        for (int id : newGlobal) t.global.add(id);
        int[] newChunked = new int[0];
        if (chunked != null) {
            while (t.chunked.size() < firstChunked) t.chunked.add(-1);
            newChunked = chunked.allocate(needChunked);
            for (int id : newChunked) t.chunked.add(id);
        }
        return Optional.of(new NewBlocks(newGlobal, newChunked));
    }

    /** Whether {@link #allocateSlots} would succeed now. */
    public boolean canAllocate(String requestId, int nComputed, int nNew, PrefixHit hit) {
        return need(tables.get(requestId), nComputed, nNew, hit) != null;
    }

    /** New blocks needed {GLOBAL, CHUNKED}, or null when a pool cannot supply them (hit blocks it would unlink count). */
    private int[] need(KvBlocks t, int nComputed, int nNew, PrefixHit hit) {
        boolean fresh = t == null;
        if (!fresh && hit.nTokens() > 0) throw new IllegalStateException("prefix hit on a live table");
        if (fresh && hit.nTokens() != nComputed) {
            throw new IllegalStateException("nComputed " + nComputed + " != prefix hit " + hit.nTokens());
        }
        int b = layout.blockSize();
        int nLogical = (nComputed + nNew + b - 1) / b;
        int heldGlobal = fresh ? hit.globalBlockIds().length : t.global.size();
        int needGlobal = Math.max(0, nLogical - heldGlobal);
        int evictableGlobal = fresh ? countUnreferenced(global, hit.globalBlockIds()) : 0;
        if (needGlobal + evictableGlobal > global.nFree()) return null;
        int needChunked = 0;
        if (chunked != null) {
            int heldChunked = fresh ? hit.chunkedBlockIds().length : t.chunked.size();
            int firstChunked = layout.chunkStart(nComputed) / b;
            needChunked = Math.max(0, nLogical - Math.max(heldChunked, firstChunked));
            int evictableChunked = fresh ? countUnreferenced(chunked, hit.chunkedBlockIds()) : 0;
            if (needChunked + evictableChunked > chunked.nFree()) return null;
        }
        return new int[] {needGlobal, needChunked};
    }

    private static int countUnreferenced(BlockPool pool, int[] ids) {
        int n = 0;
        for (int id : ids) if (id >= 0 && pool.refCount(id) == 0) n++;
        return n;
    }

    /**
     * After a step: registers newly full blocks under their hashes, then releases CHUNKED blocks that lie wholly
     * before the attention chunk of position {@code nComputed} (the next one to compute).
     */
    public void onComputed(String requestId, List<BlockHash> hashes, int nComputed) {
        KvBlocks t = table(requestId);
        int b = layout.blockSize();
        int nFull = Math.min(nComputed / b, hashes.size());
        if (enablePrefixCaching) {
            for (int i = t.nCachedBlocks; i < nFull; i++) {
                global.cache(t.global.get(i), hashes.get(i));
                if (chunked != null && i < t.chunked.size() && t.chunked.get(i) >= 0) {
                    chunked.cache(t.chunked.get(i), hashes.get(i));
                }
            }
            t.nCachedBlocks = Math.max(t.nCachedBlocks, nFull);
        }
        if (chunked != null) {
            int releaseBelow = Math.min(layout.chunkStart(nComputed) / b, t.chunked.size());
            for (int i = t.nReleasedChunked; i < releaseBelow; i++) {
                int id = t.chunked.get(i);
                if (id >= 0) {
                    chunked.free(id);
                    t.chunked.set(i, -1);
                }
            }
            t.nReleasedChunked = Math.max(t.nReleasedChunked, releaseBelow);
        }
    }

    /** Releases every block of the sequence, tail first so its last blocks are evicted before shared prefixes. */
    public void free(String requestId) {
        KvBlocks t = tables.remove(requestId);
        if (t == null) return;
        for (int i = t.global.size() - 1; i >= 0; i--) global.free(t.global.get(i));
        if (chunked != null) {
            for (int i = t.chunked.size() - 1; i >= 0; i--) {
                int id = t.chunked.get(i);
                if (id >= 0) chunked.free(id);
            }
        }
    }

    public boolean hasTable(String requestId) { return tables.containsKey(requestId); }

    public KvBlocks table(String requestId) {
        KvBlocks t = tables.get(requestId);
        if (t == null) throw new IllegalStateException("no block table for request " + requestId);
        return t;
    }

    /** Every pool's invariants plus: the tables hold exactly the references the pools count. */
    public void checkInvariants() {
        global.checkInvariants();
        int[] globalRefs = new int[global.nBlocks()];
        int[] chunkedRefs = chunked == null ? new int[0] : new int[chunked.nBlocks()];
        for (KvBlocks t : tables.values()) {
            for (int i = 0; i < t.global.size(); i++) globalRefs[t.global.get(i)]++;
            for (int i = 0; i < t.chunked.size(); i++) if (t.chunked.get(i) >= 0) chunkedRefs[t.chunked.get(i)]++;
        }
        for (int id = 0; id < globalRefs.length; id++) {
            if (globalRefs[id] != global.refCount(id)) {
                throw new IllegalStateException("GLOBAL block " + id + ": tables hold " + globalRefs[id]
                        + " references, pool counts " + global.refCount(id));
            }
        }
        if (chunked != null) {
            chunked.checkInvariants();
            for (int id = 0; id < chunkedRefs.length; id++) {
                if (chunkedRefs[id] != chunked.refCount(id)) {
                    throw new IllegalStateException("CHUNKED block " + id + ": tables hold " + chunkedRefs[id]
                            + " references, pool counts " + chunked.refCount(id));
                }
            }
        }
    }
}

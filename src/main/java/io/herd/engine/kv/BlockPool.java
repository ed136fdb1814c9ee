package io.herd.engine.kv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The physical blocks of one KV group, by id. Tracks reference counts, keeps unreferenced blocks in LRU order in a
 * {@link FreeKvCacheBlockQueue}, and maps the {@link BlockHash} of full blocks to their ids so they can be reused
 * (automatic prefix caching). An unreferenced block keeps its hash until the allocator takes it (eviction).
 * Owned by the engine thread; not thread-safe.
 */
public final class BlockPool {
    private final String name;
    private final KvCacheBlock[] blocks;
    private final FreeKvCacheBlockQueue freeQueue;
    private final Map<BlockHash, KvCacheBlock> cachedBlocks = new HashMap<>();
    private long evictions;

    public BlockPool(String name, int nBlocks) {
        if (nBlocks <= 0) throw new IllegalArgumentException(name + ": nBlocks must be > 0: " + nBlocks);
        this.name = name;
        this.blocks = new KvCacheBlock[nBlocks];
        List<KvCacheBlock> all = new ArrayList<>(nBlocks);
        for (int i = 0; i < nBlocks; i++) {
            blocks[i] = new KvCacheBlock(i);
            all.add(blocks[i]);
        }
        this.freeQueue = new FreeKvCacheBlockQueue(all);
    }

    public String name() { return name; }

    public int nBlocks() { return blocks.length; }

    /** Blocks with no reference (cached or empty): what an allocation can take. */
    public int nFree() { return freeQueue.size(); }

    public int nUsed() { return blocks.length - freeQueue.size(); }

    public double usage() { return (double) nUsed() / blocks.length; }

    public long evictions() { return evictions; }

    public int refCount(int blockId) { return block(blockId).refCount; }

    /** The hash the block is cached under, or null. */
    public BlockHash hashOf(int blockId) { return block(blockId).hash; }

    /** Takes {@code n} unreferenced blocks, least recently freed first, evicting their cached hashes. */
    public int[] allocate(int n) {
        if (n > freeQueue.size()) {
            throw new IllegalStateException(name + ": cannot allocate " + n + " blocks, " + freeQueue.size() + " free");
        }
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            KvCacheBlock b = freeQueue.popFront();
            if (b.refCount != 0) throw new IllegalStateException(name + ": free block " + b.blockId + " has refCount " + b.refCount);
            if (b.hash != null) {
                cachedBlocks.remove(b.hash);
                b.hash = null;
                evictions++;
            }
            b.refCount = 1;
            ids[i] = b.blockId;
        }
        return ids;
    }

    /** The cached block for {@code hash}, or -1. Does not take a reference. */
    public int lookup(BlockHash hash) {
        KvCacheBlock b = cachedBlocks.get(hash);
        return b == null ? -1 : b.blockId;
    }

    /** Takes one more reference (a prefix hit); an unreferenced cached block leaves the free queue. */
    public void touch(int blockId) {
        KvCacheBlock b = block(blockId);
        if (b.refCount == 0) freeQueue.remove(b);
        b.refCount++;
    }

    /** Drops one reference; at zero the block joins the back of the free queue, keeping its hash. */
    public void free(int blockId) {
        KvCacheBlock b = block(blockId);
        if (b.refCount <= 0) throw new IllegalStateException(name + ": double free of block " + blockId);
        if (--b.refCount == 0) freeQueue.append(b);
    }

    /**
     * Registers a full, referenced block under its hash. When another block already holds the same content the
     * first one stays the cached copy (this one is freed normally later).
     */
    public void cache(int blockId, BlockHash hash) {
        KvCacheBlock b = block(blockId);
        if (b.refCount <= 0) throw new IllegalStateException(name + ": caching unreferenced block " + blockId);
        if (b.hash != null) {
            if (!b.hash.equals(hash)) {
                throw new IllegalStateException(name + ": block " + blockId + " re-cached under a different hash");
            }
            return;
        }
        if (cachedBlocks.putIfAbsent(hash, b) == null) b.hash = hash;
    }

    public int nCached() { return cachedBlocks.size(); }

    /** Throws IllegalStateException naming the first broken invariant. For tests and debugging. */
    public void checkInvariants() {
        int free = 0;
        for (KvCacheBlock b : blocks) {
            if (b.refCount < 0) throw new IllegalStateException(name + ": block " + b.blockId + " refCount " + b.refCount);
            if ((b.refCount == 0) != b.inFreeQueue()) {
                throw new IllegalStateException(name + ": block " + b.blockId + " refCount " + b.refCount
                        + " but inFreeQueue=" + b.inFreeQueue());
            }
            if (b.refCount == 0) free++;
            if (b.hash != null && cachedBlocks.get(b.hash) != b) {
                throw new IllegalStateException(name + ": block " + b.blockId + " has a hash the cache does not map to it");
            }
        }
        if (free != freeQueue.size() || freeQueue.blockIds().length != free) {
            throw new IllegalStateException(name + ": " + free + " unreferenced blocks, free queue holds " + freeQueue.size());
        }
        if (nFree() + nUsed() != nBlocks()) throw new IllegalStateException(name + ": free + used != total");
        for (Map.Entry<BlockHash, KvCacheBlock> e : cachedBlocks.entrySet()) {
            if (!e.getKey().equals(e.getValue().hash)) {
                throw new IllegalStateException(name + ": cache maps a hash to block " + e.getValue().blockId + " holding another");
            }
        }
    }

    private KvCacheBlock block(int blockId) {
        if (blockId < 0 || blockId >= blocks.length) {
            throw new IllegalStateException(name + ": block id " + blockId + " out of [0, " + blocks.length + ")");
        }
        return blocks[blockId];
    }
}

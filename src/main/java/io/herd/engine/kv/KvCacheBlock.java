package io.herd.engine.kv;

/** Book-keeping of one physical block: reference count, prefix hash once full and cached, free-queue links. */
final class KvCacheBlock {
    final int blockId;
    int refCount;
    /** Set while the block is registered in its pool's prefix cache; null otherwise. */
    BlockHash hash;
    KvCacheBlock prevFree;
    KvCacheBlock nextFree;

    KvCacheBlock(int blockId) { this.blockId = blockId; }

    boolean inFreeQueue() { return prevFree != null; }
}

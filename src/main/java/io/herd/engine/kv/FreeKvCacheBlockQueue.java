package io.herd.engine.kv;

import java.util.List;

/**
 * Unreferenced blocks in eviction order (least recently freed first), as a doubly linked list with sentinels, so a
 * cached block that gets a prefix hit can be unlinked from the middle in O(1) (vLLM's FreeKVCacheBlockQueue).
 */
final class FreeKvCacheBlockQueue {
    private final KvCacheBlock head = new KvCacheBlock(-1);
    private final KvCacheBlock tail = new KvCacheBlock(-1);
    private int size;

    FreeKvCacheBlockQueue(List<KvCacheBlock> blocks) {
        head.nextFree = tail;
        tail.prevFree = head;
        for (KvCacheBlock b : blocks) append(b);
    }

    int size() { return size; }

    KvCacheBlock popFront() {
        KvCacheBlock first = head.nextFree;
        if (first == tail) throw new IllegalStateException("free block queue is empty");
        remove(first);
        return first;
    }

    void remove(KvCacheBlock b) {
        if (!b.inFreeQueue()) throw new IllegalStateException("block " + b.blockId + " is not in the free queue");
        b.prevFree.nextFree = b.nextFree;
        b.nextFree.prevFree = b.prevFree;
        b.prevFree = null;
        b.nextFree = null;
        size--;
    }

    void append(KvCacheBlock b) {
        if (b.inFreeQueue()) throw new IllegalStateException("block " + b.blockId + " is already in the free queue");
        KvCacheBlock last = tail.prevFree;
        last.nextFree = b;
        b.prevFree = last;
        b.nextFree = tail;
        tail.prevFree = b;
        size++;
    }

    /** Walks the queue front to back (for invariant checks). */
    int[] blockIds() {
        int[] ids = new int[size];
        int i = 0;
        for (KvCacheBlock b = head.nextFree; b != tail; b = b.nextFree) ids[i++] = b.blockId;
        if (i != size) throw new IllegalStateException("free queue size " + size + " but walked " + i);
        return ids;
    }
}

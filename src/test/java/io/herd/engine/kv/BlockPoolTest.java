package io.herd.engine.kv;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BlockPoolTest {
    private static final BlockHash ROOT = BlockHash.root("m", null);

    private static BlockHash hash(int i) { return BlockHash.chain(ROOT, new int[] {i}, 0, 1); }

    @Test
    void allocateFreeAndTouchKeepTheCountsConsistent() {
        BlockPool pool = new BlockPool("GLOBAL", 8);
        pool.checkInvariants();
        int[] a = pool.allocate(3);
        pool.checkInvariants();
        assertThat(a).containsExactly(0, 1, 2);
        assertThat(pool.nFree() + pool.nUsed()).isEqualTo(8);
        assertThat(pool.nUsed()).isEqualTo(3);
        pool.touch(a[1]);
        pool.checkInvariants();
        assertThat(pool.refCount(a[1])).isEqualTo(2);
        pool.free(a[1]);
        pool.checkInvariants();
        assertThat(pool.refCount(a[1])).isEqualTo(1);
        for (int id : a) pool.free(id);
        pool.checkInvariants();
        assertThat(pool.nFree()).isEqualTo(8);
        assertThatThrownBy(() -> pool.free(a[0])).isInstanceOf(IllegalStateException.class).hasMessageContaining("double free");
        assertThatThrownBy(() -> pool.allocate(9)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> pool.touch(8)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void cachedBlocksSurviveFreeAndAreEvictedLeastRecentlyFreedFirst() {
        BlockPool pool = new BlockPool("GLOBAL", 4);
        int[] ids = pool.allocate(4);
        for (int i = 0; i < 4; i++) pool.cache(ids[i], hash(i));
        pool.checkInvariants();
        // Free in the order 2, 0, 3, 1: that is the eviction order.
        for (int i : new int[] {2, 0, 3, 1}) pool.free(ids[i]);
        pool.checkInvariants();
        assertThat(pool.nCached()).isEqualTo(4);
        assertThat(pool.lookup(hash(0))).isEqualTo(ids[0]);

        // A hit unlinks block 0 from the middle of the free queue and keeps the same id.
        pool.touch(pool.lookup(hash(0)));
        pool.checkInvariants();
        assertThat(pool.nFree()).isEqualTo(3);

        int[] fresh = pool.allocate(2);
        pool.checkInvariants();
        assertThat(fresh).containsExactly(ids[2], ids[3]);
        assertThat(pool.lookup(hash(2))).isEqualTo(-1);
        assertThat(pool.lookup(hash(3))).isEqualTo(-1);
        assertThat(pool.lookup(hash(1))).isEqualTo(ids[1]);
        assertThat(pool.lookup(hash(0))).isEqualTo(ids[0]);
        assertThat(pool.evictions()).isEqualTo(2);
        assertThat(pool.hashOf(fresh[0])).isNull();
    }

    @Test
    void aDuplicateBlockDoesNotReplaceTheCachedCopy() {
        BlockPool pool = new BlockPool("CHUNKED", 4);
        int[] ids = pool.allocate(2);
        pool.cache(ids[0], hash(7));
        pool.cache(ids[1], hash(7));
        pool.checkInvariants();
        assertThat(pool.lookup(hash(7))).isEqualTo(ids[0]);
        assertThat(pool.hashOf(ids[1])).isNull();
        pool.cache(ids[0], hash(7));
        assertThatThrownBy(() -> pool.cache(ids[0], hash(8))).isInstanceOf(IllegalStateException.class);
        pool.free(ids[0]);
        pool.free(ids[1]);
        pool.checkInvariants();
        assertThatThrownBy(() -> pool.cache(ids[0], hash(7))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void hashesChainOnTheParentAndTheSalt() {
        int[] t = {1, 2, 3, 4};
        BlockHash a = BlockHash.chain(BlockHash.root("m", null), t, 0, 4);
        assertThat(BlockHash.chain(BlockHash.root("m", null), t, 0, 4)).isEqualTo(a);
        assertThat(BlockHash.chain(BlockHash.root("m", "tenant"), t, 0, 4)).isNotEqualTo(a);
        assertThat(BlockHash.chain(BlockHash.root("m", ""), t, 0, 4)).isNotEqualTo(a);
        assertThat(BlockHash.chain(BlockHash.root("other-model", null), t, 0, 4)).isNotEqualTo(a);
        assertThat(BlockHash.chain(a, t, 0, 4)).isNotEqualTo(a);
    }
}

package io.herd.engine.kv;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class KvCacheManagerTest {
    private static final int B = 4;
    private static final int CHUNK = 8;

    private static List<BlockHash> hashes(int[] tokens) {
        List<BlockHash> out = new ArrayList<>();
        BlockHash parent = BlockHash.root("m", null);
        for (int i = 0; i + B <= tokens.length; i += B) {
            parent = BlockHash.chain(parent, tokens, i, i + B);
            out.add(parent);
        }
        return out;
    }

    private static int[] tokens(int n, int salt) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + (i * 7 + salt) % 50;
        return t;
    }

    /** Runs a sequence through the manager as the scheduler would, one attention chunk per step, then frees it. */
    private static int[] computeAndFree(KvCacheManager kv, String id, int[] tokens) {
        List<BlockHash> h = hashes(tokens);
        int done = 0;
        while (done < tokens.length) {
            int n = Math.min(tokens.length - done, (done / CHUNK + 1) * CHUNK - done);
            assertThat(kv.allocateSlots(id, done, n, PrefixHit.NONE)).isPresent();
            kv.checkInvariants();
            done += n;
            kv.onComputed(id, h, done);
            kv.checkInvariants();
        }
        int[] globalTable = kv.table(id).globalIds();
        kv.free(id);
        kv.checkInvariants();
        return globalTable;
    }

    private static KvCacheManager manager(int nGlobal, int nChunked) {
        return new KvCacheManager(new KvCacheLayout(B, nGlobal, nChunked, CHUNK, 100, 300), true);
    }

    @Test
    void aHitReturnsTheSameBlockIdsAndNeedsOnlyTheCurrentChunksChunkedBlocks() {
        KvCacheManager kv = manager(32, 32);
        int[] a = tokens(40, 0);
        int[] aGlobal = computeAndFree(kv, "a", a);

        int[] b = Arrays.copyOf(a, 38); // hit candidates: 9 blocks (36 tokens) → needs CHUNKED block 8
        PrefixHit hit = kv.findCachedPrefix(hashes(b), b.length);
        assertThat(hit.nTokens()).isEqualTo(36);
        assertThat(hit.chunkedBlockIds()).hasSize(9);
        assertThat(Arrays.copyOf(hit.chunkedBlockIds(), 8)).containsOnly(-1);
        assertThat(hit.chunkedBlockIds()[8]).isNotNegative();
        assertThat(hit.globalBlockIds()).containsExactly(Arrays.copyOf(aGlobal, 9));

        assertThat(kv.allocateSlots("b", 36, 2, hit)).isPresent();
        kv.checkInvariants();
        assertThat(kv.table("b").globalIds()).startsWith(hit.globalBlockIds());
        assertThat(kv.globalPool().refCount(hit.globalBlockIds()[0])).isEqualTo(1);
        kv.free("b");
        kv.checkInvariants();
    }

    @Test
    void withoutTheCurrentChunksChunkedBlockTheHitFallsBackToTheChunkBoundary() {
        KvCacheManager kv = manager(32, 12);
        int[] a = tokens(40, 1);
        computeAndFree(kv, "a", a);
        List<BlockHash> h = hashes(a);
        BlockPool chunked = kv.chunkedPool().orElseThrow();
        // Evict CHUNKED blocks (least recently freed first) until the one for positions 32..35 is gone.
        List<Integer> held = new ArrayList<>();
        while (chunked.lookup(h.get(8)) >= 0) held.add(chunked.allocate(1)[0]);
        assertThat(kv.globalPool().lookup(h.get(8))).isNotNegative();

        int[] b = Arrays.copyOf(a, 38);
        PrefixHit hit = kv.findCachedPrefix(hashes(b), b.length);
        assertThat(hit.nTokens()).as("position 32 starts a chunk: no CHUNKED block needed").isEqualTo(32);
        assertThat(hit.chunkedBlockIds()).containsOnly(-1);

        int[] c = Arrays.copyOf(a, 41); // position 40 starts a chunk
        assertThat(kv.findCachedPrefix(hashes(c), c.length).nTokens()).isEqualTo(40);
        for (int id : held) chunked.free(id);
        kv.checkInvariants();
    }

    @Test
    void theLastTokenIsNeverServedFromCache() {
        KvCacheManager kv = manager(32, 32);
        int[] a = tokens(16, 2);
        computeAndFree(kv, "a", a);
        // All 4 blocks are cached, but position 15 must run: 3 blocks (12 tokens) are reused.
        assertThat(kv.findCachedPrefix(hashes(a), 16).nTokens()).isEqualTo(12);
        assertThat(kv.findCachedPrefix(hashes(a), 1).nTokens()).isZero();
    }

    @Test
    void aFailedAllocationChangesNothing() {
        KvCacheManager kv = manager(4, 4);
        assertThat(kv.allocateSlots("a", 0, 8, PrefixHit.NONE)).isPresent();
        assertThat(kv.allocateSlots("b", 0, 12, PrefixHit.NONE)).isEmpty();
        assertThat(kv.hasTable("b")).isFalse();
        assertThat(kv.allocateSlots("a", 8, 12, PrefixHit.NONE)).isEmpty();
        kv.checkInvariants();
        assertThat(kv.globalPool().nUsed()).isEqualTo(2);
        assertThat(kv.usage()).isEqualTo((2 * 100 + 2 * 300) / (4 * 100.0 + 4 * 300));
    }

    @Test
    void disabledPrefixCachingNeverHits() {
        KvCacheManager kv = new KvCacheManager(new KvCacheLayout(B, 32, 32, CHUNK, 1, 1), false);
        int[] a = tokens(20, 3);
        computeAndFree(kv, "a", a);
        assertThat(kv.findCachedPrefix(hashes(a), 20)).isEqualTo(PrefixHit.NONE);
        assertThat(kv.globalPool().nCached()).isZero();
    }
}

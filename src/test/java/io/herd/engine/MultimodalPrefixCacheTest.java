package io.herd.engine;

import io.herd.engine.kv.BlockHash;
import io.herd.engine.kv.IntArrayList;
import io.herd.engine.kv.MultimodalSpan;
import io.herd.model.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Prefix caching with images: equal token ids with different image content must not share KV blocks from the image's
 * first block on; the same image at the same place does hit the cache; blocks before the image are shared either way.
 */
class MultimodalPrefixCacheTest {
    private static final BlockHash CAT = BlockHash.ofContent(new byte[] {1, 2, 3});
    private static final BlockHash DOG = BlockHash.ofContent(new byte[] {1, 2, 4});

    private static SchedulerHarness harness() {
        return new SchedulerHarness(8, 4, 256, 256, 64, 16, 0);
    }

    /** The first request "a" (image CAT at [10, 30)) is served to completion, then "b" arrives and takes one step. */
    private static RecordingSink second(BlockHash secondImage) {
        SchedulerHarness h = harness();
        int[] prompt = SchedulerHarness.prompt(3, 40);
        h.add("a", prompt, SamplingParams.greedy(3), 0, Long.MAX_VALUE, null, List.of(new MultimodalSpan(10, 30, CAT)));
        h.runToCompletion(100);
        RecordingSink b = h.add("b", prompt, SamplingParams.greedy(3), 0, Long.MAX_VALUE, null,
                List.of(new MultimodalSpan(10, 30, secondImage)));
        h.step();
        return b;
    }

    @Test
    void aDifferentImageSharesOnlyTheBlocksBeforeIt() {
        // Blocks of 4: blocks 0 and 1 (positions 0–7) lie before the image; block 2 (8–11) already holds image tokens.
        assertThat(second(DOG).cachedTokens).isEqualTo(8);
    }

    @Test
    void theSameImageHitsTheCache() {
        // 40 tokens: 9 full blocks can be reused (the last token is always computed).
        assertThat(second(CAT).cachedTokens).isEqualTo(36);
    }

    @Test
    void blocksNoSpanTouchesHashAsTextOnlyBlocks() {
        IntArrayList tokens = IntArrayList.of(SchedulerHarness.prompt(4, 12));
        BlockHash root = BlockHash.root("m", null);
        List<MultimodalSpan> spans = List.of(new MultimodalSpan(4, 8, CAT));
        assertThat(BlockHash.chain(root, tokens, 0, 4, spans)).isEqualTo(BlockHash.chain(root, tokens, 0, 4));
        assertThat(BlockHash.chain(root, tokens, 4, 8, spans)).isNotEqualTo(BlockHash.chain(root, tokens, 4, 8));
        assertThat(BlockHash.chain(root, tokens, 4, 8, spans))
                .isNotEqualTo(BlockHash.chain(root, tokens, 4, 8, List.of(new MultimodalSpan(4, 8, DOG))));
    }
}

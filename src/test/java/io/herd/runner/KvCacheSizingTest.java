package io.herd.runner;

import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class KvCacheSizingTest {

    @Test
    void scoutBytesPerTokenOfContext() {
        Llama4Config c = Llama4Config.scout();
        int bf16 = 2;
        assertThat(c.nRopeLayers()).isEqualTo(36);
        assertThat(c.nNopeLayers()).isEqualTo(12);
        assertThat(KvCacheSizing.bytesPerPositionPerLayer(c, bf16)).isEqualTo(4096);      // 2 × 8 × 128 × 2
        assertThat(KvCacheSizing.globalBytesPerToken(c, bf16)).isEqualTo(49_152);        // 12 layers
        assertThat(KvCacheSizing.chunkedBytesPerToken(c, bf16)).isEqualTo(147_456);      // 36 layers
        assertThat(KvCacheSizing.uniformBytesPerToken(c, bf16)).isEqualTo(196_608);      // 192 KiB
        // Up to one chunk both groups keep every position.
        assertThat(KvCacheSizing.bytesPerContextToken(c, bf16, 8192)).isEqualTo(196_608.0);
        // 128K context: 49152 + 147456 × 8192 / 131072 = 58368 B/token, 29.7 % of uniform.
        assertThat(KvCacheSizing.bytesPerContextToken(c, bf16, 131_072)).isEqualTo(58_368.0);
        // 1M context: 50304 B/token; the limit is the GLOBAL share, a quarter.
        assertThat(KvCacheSizing.bytesPerContextToken(c, bf16, 1 << 20)).isEqualTo(50_304.0);
        assertThat(KvCacheSizing.bytesPerContextToken(c, bf16, 10_485_760) / 196_608.0).isCloseTo(0.25, within(0.001));
    }

    @Test
    void planSplitsTheBytesSoOneMaxLengthSequenceFillsBothGroupsTogether() {
        Llama4Config c = Llama4Config.scout();
        long bytes = 16L << 30;
        ForwardPass.KvCacheSpec spec = KvCacheSizing.plan(c, 2, KvCacheConfig.ofBytes(bytes), 131_072);
        long globalBlock = 49_152L * 16;
        long chunkedBlock = 147_456L * 16;
        assertThat(spec.bytesPerGlobalBlock()).isEqualTo(globalBlock);
        assertThat(spec.bytesPerChunkedBlock()).isEqualTo(chunkedBlock);
        assertThat(spec.blockSize()).isEqualTo(16);
        long used = spec.nGlobalBlocks() * globalBlock + spec.nChunkedBlocks() * chunkedBlock;
        assertThat(used).isLessThanOrEqualTo(bytes).isGreaterThan(bytes - chunkedBlock - globalBlock);
        // Sequences of 128K tokens: GLOBAL holds nGlobal/8192 of them, CHUNKED nChunked/512: about equal.
        double bySequencesGlobal = spec.nGlobalBlocks() / (131_072 / 16.0);
        double bySequencesChunked = spec.nChunkedBlocks() / (8192 / 16.0);
        assertThat(bySequencesChunked).isCloseTo(bySequencesGlobal, within(0.01));
        // 16 GiB hold about 294K tokens at 58368 B/token.
        assertThat(spec.nGlobalBlocks() * 16L).isBetween(290_000L, 300_000L);

        // Scout's own 10M positions would leave CHUNKED almost nothing: the split uses the longest length that fits
        // (about 325K tokens in 16 GiB), and CHUNKED holds at least one whole chunk.
        ForwardPass.KvCacheSpec huge = KvCacheSizing.plan(c, 2, KvCacheConfig.ofBytes(bytes), c.maxPositionEmbeddings());
        assertThat(huge.nChunkedBlocks()).isGreaterThanOrEqualTo(8192 / 16).isLessThan(8192 / 16 + 4);
        assertThat(huge.nGlobalBlocks() * 16L).isBetween(320_000L, 330_000L);

        io.herd.model.KvBlockCounts fixed = KvCacheSizing.blocks(KvCacheSizing.plan(c, 2, new KvCacheConfig(bytes, 32, 0.5), 131_072));
        assertThat(fixed.nChunkedBlocks() * 147_456L * 32).isCloseTo(bytes / 2, within(147_456L * 32));
    }
}

package io.herd.cli;

import io.herd.compute.cpu.CpuThreadPool;
import io.herd.model.vision.ImageEmbedder;
import io.herd.model.vision.Llama4VisionConfig;
import io.herd.model.vision.Llama4VisionWeights;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Image-encode time of {@code herd bench}: a randomly initialised vision tower, adapter and projector of the given
 * config (BF16 weights, fp32 arithmetic, the CPU path requests take) encodes random tiles; reported per tile, with the
 * matmul work over its time. A first tile through the tower's first layers compiles the kernels before anything is
 * timed (every layer has the same shapes).
 */
final class VisionBench {
    private static final long PIXEL_SEED = 11;

    private VisionBench() {}

    static Map<String, Object> run(Llama4VisionConfig config, int tiles, CpuThreadPool pool) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("visionHidden", config.hiddenSize());
        r.put("visionLayers", config.nLayers());
        r.put("visionTileSize", config.imageSize());
        r.put("visionTokensPerTile", config.tokensPerTile());
        r.put("visionTiles", tiles);
        CountingMatrix.Counters counters = new CountingMatrix.Counters(false);
        // Owner: this method; the tower's weights are freed when it returns.
        try (Arena arena = Arena.ofShared()) {
            long t0 = System.nanoTime();
            Llama4VisionWeights weights = new RandomWeights(arena, io.herd.model.WeightQuantization.NONE, 0, pool,
                    BenchCommand.WEIGHT_SEED + 1000, counters).buildVision(config);
            r.put("visionBuildSeconds", BenchCommand.round((System.nanoTime() - t0) / 1e9));
            int warmLayers = Math.min(2, config.nLayers());
            Llama4VisionConfig warmConfig = new Llama4VisionConfig(config.hiddenSize(), warmLayers, config.nHeads(),
                    config.intermediateSize(), config.imageSize(), config.patchSize(), config.pixelShuffleRatio(),
                    config.visionOutputDim(), config.ropeTheta(), config.textHiddenSize(), config.imageTokenId());
            new ImageEmbedder(new Llama4VisionWeights(warmConfig, weights.patchEmbedding(), weights.classEmbedding(),
                    weights.positions(), weights.preNorm(), weights.layers().subList(0, warmLayers), weights.postNorm(),
                    weights.adapterFc1(), weights.adapterFc2(), weights.projector())).embed(pixels(config, 1), 1);

            ImageEmbedder embedder = new ImageEmbedder(weights);
            float[] pixels = pixels(config, tiles);
            counters.reset();
            long e0 = System.nanoTime();
            float[] rows = embedder.embed(pixels, tiles);
            double seconds = (System.nanoTime() - e0) / 1e9;
            if (rows.length != (long) tiles * config.tokensPerTile() * config.textHiddenSize())
                throw new IllegalStateException("the tower returned " + rows.length + " values");
            double matmulSeconds = counters.nanos().sum() / 1e9;
            long flops = counters.flops().sum();
            r.put("visionEncodeSeconds", BenchCommand.round(seconds));
            r.put("visionEncodeSecondsPerTile", BenchCommand.round(seconds / tiles));
            r.put("visionImageTokensPerSecond", BenchCommand.round(tiles * config.tokensPerTile() / seconds));
            r.put("visionMatmulFlops", flops);
            r.put("visionMatmulFractionOfTime", BenchCommand.round(matmulSeconds / seconds));
            r.put("visionMatmulGflops", BenchCommand.round(flops / matmulSeconds / 1e9));
        }
        return r;
    }

    /** Normalised pixels of {@code tiles} tiles: uniform on [-1, 1], as mean = std = 0.5 leaves real images. */
    private static float[] pixels(Llama4VisionConfig config, int tiles) {
        SplittableRandom rnd = new SplittableRandom(PIXEL_SEED);
        float[] p = new float[tiles * Llama4VisionConfig.CHANNELS * config.imageSize() * config.imageSize()];
        for (int i = 0; i < p.length; i++) p[i] = (float) rnd.nextDouble(-1, 1);
        return p;
    }
}

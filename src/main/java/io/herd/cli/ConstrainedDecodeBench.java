package io.herd.cli;

import io.herd.compute.cpu.CpuThreadPool;
import io.herd.engine.EngineConfig;
import io.herd.engine.EngineCore;
import io.herd.engine.EngineRequest;
import io.herd.engine.RequestSink;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.CpuForwardPass;
import io.herd.model.KvBlockCounts;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.WeightQuantization;
import io.herd.model.sampling.SamplingParams;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.runner.ModelRunner;
import io.herd.structured.ConstraintCompiler;
import io.herd.structured.ConstraintSpec;
import io.herd.structured.OutputGrammar;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decode through the real engine (scheduler, runner, sampler) on random weights of a model shape, free and under an
 * output constraint, on the same model and batch: the figure that says what a mask costs a whole decode step. The
 * weights' vocabulary is the tokenizer's (Scout and Maverick have the real 202,048 tokens), so the constraint is
 * compiled for the vocabulary the model samples from. Sampling at temperature 1 with per-sequence seeds; every
 * sequence's prompt is its own random tokens (no prefix-cache sharing).
 */
final class ConstrainedDecodeBench {

    /** An open-ended document: the random model keeps writing the string, so sequences run to their budget. */
    static final String OPEN_SCHEMA = "{\"type\":\"object\",\"properties\":{\"summary\":{\"type\":\"string\"},"
            + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":16},\"maxItems\":8}},"
            + "\"required\":[\"summary\",\"tags\"]}";

    private ConstrainedDecodeBench() {}

    /** Adds decode figures for each batch size to {@code r}; the weights are built once for all runs. */
    static void run(Map<String, Object> r, ConstraintCompiler compiler, String shape, Integer layers,
                    WeightQuantization quant, List<Integer> batches, int promptLen, int genLen) throws InterruptedException {
        Llama4Config config = BenchCommand.config(shape, layers);
        if (config.vocabSize() != compiler.vocabulary().vocabSize()) {
            throw new IllegalArgumentException("the shape's vocabulary (" + config.vocabSize() + ") is not the tokenizer's ("
                    + compiler.vocabulary().vocabSize() + ")");
        }
        CpuThreadPool pool = CpuThreadPool.shared();
        int maxBatch = batches.stream().mapToInt(Integer::intValue).max().orElseThrow();
        int blockSize = KvCacheConfig.DEFAULT_BLOCK_SIZE;
        int blocks = maxBatch * (Math.ceilDiv(promptLen + genLen, blockSize) + 1);
        r.put("decodeShape", shape);
        r.put("decodeLayers", config.nLayers());
        r.put("decodeQuant", quant.name().toLowerCase(java.util.Locale.ROOT));
        r.put("decodePromptLen", promptLen);
        r.put("decodeGenLen", genLen);
        r.put("decodeSchema", OPEN_SCHEMA);
        long c0 = System.nanoTime();
        OutputGrammar grammar = compiler.compile(ConstraintSpec.jsonSchema(OPEN_SCHEMA));
        r.put("decodeSchemaCompileMs", ms(System.nanoTime() - c0));
        try (Arena arena = Arena.ofShared()) {
            long t0 = System.nanoTime();
            Llama4Weights weights = new RandomWeights(arena, quant, Llama4Weights.Q8_GROUP_SIZE, pool, BenchCommand.WEIGHT_SEED,
                    new CountingMatrix.Counters()).build(config);
            r.put("decodeBuildSeconds", BenchCommand.round((System.nanoTime() - t0) / 1e9));
            try (CpuForwardPass forward = new CpuForwardPass(weights, new KvBlockCounts(blockSize, blocks, blocks), Precision.F32)) {
                EngineConfig engineConfig = new EngineConfig(new KvCacheConfig(1L << 30, blockSize, 0), 2048, maxBatch,
                        1024, promptLen + genLen + 1, shape, false, 0);
                try (EngineCore engine = new EngineCore(engineConfig, new ModelRunner(forward))) {
                    for (int b : batches) {
                        // Warm-up at this batch size: its kernels (token counts pick them) and the mask paths are
                        // compiled before anything is timed, so neither run pays for the JIT.
                        decode(engine, config, b, promptLen, Math.min(8, genLen), null, 1000L * b);
                        decode(engine, config, b, promptLen, Math.min(8, genLen), grammar, 2000L * b);
                        Run free = decode(engine, config, b, promptLen, genLen, null, 10_000L * b);
                        Run constrained = decode(engine, config, b, promptLen, genLen, grammar, 20_000L * b);
                        // Full batch: from every sequence's first token to the first sequence's end, so a document
                        // that closes early does not shrink the batch being compared.
                        r.put("batch" + b + "DecodeTokensPerSecond", BenchCommand.round(free.fullBatchTokensPerSecond()));
                        r.put("batch" + b + "ConstrainedDecodeTokensPerSecond", BenchCommand.round(constrained.fullBatchTokensPerSecond()));
                        r.put("batch" + b + "ConstrainedToFree",
                                BenchCommand.round(constrained.fullBatchTokensPerSecond() / free.fullBatchTokensPerSecond()));
                        r.put("batch" + b + "FullBatchDecodeTokens", free.fullBatchTokens());
                        r.put("batch" + b + "ConstrainedFullBatchDecodeTokens", constrained.fullBatchTokens());
                        r.put("batch" + b + "WholeRunDecodeTokensPerSecond", BenchCommand.round(free.tokensPerSecond()));
                        r.put("batch" + b + "ConstrainedWholeRunDecodeTokensPerSecond", BenchCommand.round(constrained.tokensPerSecond()));
                        r.put("batch" + b + "DecodeTokens", free.tokens());
                        r.put("batch" + b + "ConstrainedDecodeTokens", constrained.tokens());
                        r.put("batch" + b + "ConstrainedDocumentsStopped", constrained.stopped());
                    }
                }
            }
        }
        r.put("loadAverageAfter", SystemInfo.loadAverage());
    }

    /**
     * Decode tokens (after each sequence's first) from the moment every sequence had its first token: until the last
     * sequence ended ({@code tokens}, {@code seconds}) and until the first one ended ({@code fullBatch…}).
     */
    record Run(long tokens, double seconds, long fullBatchTokens, double fullBatchSeconds, int stopped) {
        double tokensPerSecond() { return tokens / seconds; }

        double fullBatchTokensPerSecond() { return fullBatchTokens / fullBatchSeconds; }
    }

    private static Run decode(EngineCore engine, Llama4Config config, int batch, int promptLen, int genLen,
                              OutputGrammar grammar, long seed) throws InterruptedException {
        CountDownLatch firstTokens = new CountDownLatch(batch);
        CountDownLatch done = new CountDownLatch(batch);
        AtomicLong allStarted = new AtomicLong();
        AtomicLong tokens = new AtomicLong();
        AtomicInteger stopped = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicLong firstEnd = new AtomicLong();
        AtomicLong fullBatchTokens = new AtomicLong();
        SplittableRandom random = new SplittableRandom(seed);
        for (int s = 0; s < batch; s++) {
            int[] prompt = random.ints(promptLen, 0, config.vocabSize()).toArray();
            SamplingParams sampling = new SamplingParams(1f, 1f, 0, 0f, seed + s, 1f, 0f, 0f, config.eosTokenIds(),
                    genLen, false, 0);
            RequestSink sink = new RequestSink() {
                boolean first = true;

                @Override public void onStarted(int promptTokens, int cachedTokens) { }

                @Override public void onToken(int tokenId, TokenLogprobs logprobs) {
                    if (first) {
                        first = false;
                        firstTokens.countDown();
                        if (firstTokens.getCount() == 0) allStarted.set(System.nanoTime());
                    } else if (allStarted.get() != 0) {
                        tokens.incrementAndGet();
                    }
                }

                @Override public void onFinished(FinishReason reason) {
                    // Engine thread: every sink call is serialized, so the count read here is exact.
                    if (firstEnd.get() == 0 && allStarted.get() != 0) {
                        firstEnd.set(System.nanoTime());
                        fullBatchTokens.set(tokens.get());
                    }
                    if (reason == FinishReason.STOP) stopped.incrementAndGet();
                    if (first) firstTokens.countDown();
                    done.countDown();
                }

                @Override public void onError(String code, String message) {
                    failed.incrementAndGet();
                    done.countDown();
                }
            };
            if (!engine.submit(new EngineRequest("bench-" + seed + "-" + s, prompt, sampling, 0, Long.MAX_VALUE, null, grammar), sink)) {
                throw new IllegalStateException("the engine refused a bench request");
            }
        }
        if (!done.await(1, TimeUnit.HOURS) || failed.get() > 0) throw new IllegalStateException("bench requests failed");
        long end = System.nanoTime();
        return new Run(tokens.get(), (end - allStarted.get()) / 1e9, fullBatchTokens.get(),
                (firstEnd.get() - allStarted.get()) / 1e9, stopped.get());
    }

    private static double ms(long nanos) { return Math.round(nanos / 1e3) / 1e3; }
}

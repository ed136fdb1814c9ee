package io.herd.app;

import io.herd.engine.EngineConfig;
import io.herd.engine.EngineCore;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.CpuForwardPass;
import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.WeightQuantization;
import io.herd.runner.KvCacheSizing;
import io.herd.runner.ModelRunner;
import io.herd.weights.SafetensorsCheckpoint;

import java.nio.file.Path;

/**
 * Builds the engine for a checkpoint folder: config → memory-mapped weights → CPU forward pass with its paged KV
 * memory → model runner → {@link EngineCore}. The checkpoint stays open as long as the engine.
 */
public final class EngineAssembly implements AutoCloseable {

    /**
     * @param kvCacheBytes   KV memory for all sequences together
     * @param maxModelLength longest prompt + generation (capped by the model and the KV pool)
     * @param maxNumSeqs     sequences decoded together
     * @param queueCapacity  requests accepted but not yet scheduled
     */
    public record Settings(long kvCacheBytes, int maxModelLength, int maxNumSeqs, int maxNumBatchedTokens,
                           int queueCapacity, Precision precision, WeightQuantization quantization) {}

    private final SafetensorsCheckpoint checkpoint;
    private final CpuForwardPass forwardPass;
    private final EngineCore engine;
    private final Llama4Config config;

    private EngineAssembly(SafetensorsCheckpoint checkpoint, CpuForwardPass forwardPass, EngineCore engine, Llama4Config config) {
        this.checkpoint = checkpoint;
        this.forwardPass = forwardPass;
        this.engine = engine;
        this.config = config;
    }

    public static EngineAssembly open(Path modelDir, String modelId, Settings s) {
        Llama4Config config = Llama4ConfigParser.parse(modelDir.resolve("config.json"));
        SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(modelDir);
        try {
            Llama4Weights weights = Llama4Weights.load(checkpoint, config, s.quantization());
            int maxModelLength = Math.min(s.maxModelLength(), config.maxPositionEmbeddings());
            KvCacheConfig kv = KvCacheConfig.ofBytes(s.kvCacheBytes());
            ForwardPass.KvCacheSpec spec = KvCacheSizing.plan(config, Float.BYTES, kv, maxModelLength);
            CpuForwardPass forwardPass = new CpuForwardPass(weights, KvCacheSizing.blocks(spec), s.precision());
            ModelRunner runner = new ModelRunner(forwardPass);
            EngineConfig engineConfig = EngineConfig.defaults(kv, maxModelLength, modelId)
                    .withMaxNumSeqs(s.maxNumSeqs()).withMaxNumBatchedTokens(s.maxNumBatchedTokens())
                    .withQueueCapacity(s.queueCapacity());
            return new EngineAssembly(checkpoint, forwardPass, new EngineCore(engineConfig, runner), config);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    public EngineCore engine() { return engine; }

    public Llama4Config config() { return config; }

    @Override
    public void close() {
        engine.close();
        forwardPass.close();
        checkpoint.close();
    }
}

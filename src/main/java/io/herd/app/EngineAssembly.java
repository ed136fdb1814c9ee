package io.herd.app;

import io.herd.compute.cuda.CudaDevice;
import io.herd.compute.cuda.WeightFormat;
import io.herd.engine.EngineConfig;
import io.herd.engine.EngineCore;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.ffi.CudaAvailability;
import io.herd.ffi.HerdKernels;
import io.herd.model.CpuForwardPass;
import io.herd.model.ForwardPass;
import io.herd.model.Llama4Checkpoint;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.WeightQuantization;
import io.herd.model.gpu.CudaForwardPass;
import io.herd.runner.KvCacheSizing;
import io.herd.runner.ModelRunner;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.SafetensorsCheckpoint;
import io.herd.model.vision.ImageEmbedder;
import io.herd.model.vision.Llama4VisionConfigParser;
import io.herd.model.vision.Llama4VisionWeights;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Locale;

/**
 * Builds the engine for a checkpoint folder: config → memory-mapped weights → forward pass (CPU, or CUDA when asked
 * for or when {@code auto} finds a usable GPU) with its paged KV memory → model runner → {@link EngineCore}. The
 * checkpoint (and the GPU device) stay open as long as the engine.
 */
public final class EngineAssembly implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EngineAssembly.class);
    /** Inputs per scale group of GPU-quantized matrices (Meta's int4 recipe uses 128 too). */
    private static final int GPU_QUANT_GROUP = 128;
    /** Logit rows per lm_head launch on the GPU. */
    private static final int GPU_LOGIT_ROWS = 64;

    public enum Backend {
        AUTO, CPU, CUDA;

        public static Backend parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("herd.compute.backend must be auto, cpu or cuda, got '" + s + "'");
            }
        }
    }

    /**
     * @param kvCacheBytes    KV memory for all sequences together
     * @param maxModelLength  longest prompt + generation (capped by the model and the KV pool)
     * @param maxNumSeqs      sequences decoded together
     * @param queueCapacity   requests accepted but not yet scheduled
     * @param gpuWeightFormat "stored", or a {@link WeightFormat} name for the GPU copy of the big matrices
     */
    public record Settings(long kvCacheBytes, int maxModelLength, int maxNumSeqs, int maxNumBatchedTokens,
                           int queueCapacity, Precision precision, WeightQuantization quantization,
                           Backend backend, String gpuWeightFormat) {}

    private final Llama4Checkpoint checkpoint;
    private final ForwardPass forwardPass;
    private final CudaDevice device;
    private final EngineCore engine;
    private final Llama4Config config;
    private final String backendDescription;

    private EngineAssembly(Llama4Checkpoint checkpoint, ForwardPass forwardPass, CudaDevice device, EngineCore engine,
                           Llama4Config config, String backendDescription) {
        this.checkpoint = checkpoint;
        this.forwardPass = forwardPass;
        this.device = device;
        this.engine = engine;
        this.config = config;
        this.backendDescription = backendDescription;
    }

    public static EngineAssembly open(Path modelDir, String modelId, Settings s) {
        Llama4Checkpoint checkpoint = Llama4Checkpoint.open(modelDir);
        Llama4Config config = checkpoint.config();
        CudaDevice device = null;
        try {
            int maxModelLength = Math.min(s.maxModelLength(), config.maxPositionEmbeddings());
            KvCacheConfig kv = KvCacheConfig.ofBytes(s.kvCacheBytes());
            ForwardPass forwardPass;
            String description;
            if (checkpoint.isGguf() && s.backend() == Backend.CUDA)
                throw new IllegalStateException(modelDir + " is a GGUF model, which Herd runs on the CPU backend only");
            if (!checkpoint.isGguf() && useCuda(s.backend())) {
                boolean kvBf16 = s.precision() == Precision.BF16;
                ForwardPass.KvCacheSpec spec = KvCacheSizing.plan(config, kvBf16 ? 2 : Float.BYTES, kv, maxModelLength);
                device = CudaDevice.open(0);
                WeightFormat format = s.gpuWeightFormat().equalsIgnoreCase("stored") ? null : WeightFormat.parse(s.gpuWeightFormat());
                var options = new CudaForwardPass.Options(format, GPU_QUANT_GROUP, kvBf16, spec.blockSize(),
                        spec.nGlobalBlocks(), spec.nChunkedBlocks(), s.maxNumBatchedTokens() + s.maxNumSeqs(),
                        s.maxNumSeqs(), Math.ceilDiv(maxModelLength, spec.blockSize()) + 1, GPU_LOGIT_ROWS, true);
                forwardPass = CudaForwardPass.load(device, config, checkpoint.safetensors(), options);
                description = "cuda (" + device.info().name() + ", weights " + (format == null ? "as stored" : format) + ")";
            } else {
                ForwardPass.KvCacheSpec spec = KvCacheSizing.plan(config, Float.BYTES, kv, maxModelLength);
                Llama4Weights weights = checkpoint.weights(s.quantization());
                forwardPass = new CpuForwardPass(weights, KvCacheSizing.blocks(spec), s.precision());
                description = "cpu (" + s.precision() + ", " + s.quantization() + ")";
            }
            ModelRunner runner = new ModelRunner(forwardPass);
            EngineConfig engineConfig = EngineConfig.defaults(kv, maxModelLength, modelId)
                    .withMaxNumSeqs(s.maxNumSeqs()).withMaxNumBatchedTokens(s.maxNumBatchedTokens())
                    .withQueueCapacity(s.queueCapacity());
            return new EngineAssembly(checkpoint, forwardPass, device, new EngineCore(engineConfig, runner), config, description);
        } catch (RuntimeException e) {
            if (device != null) device.close();
            checkpoint.close();
            throw e;
        }
    }

    /** CUDA when asked for (failing loudly if unusable), or under auto when the probe and the kernels say yes. */
    private static boolean useCuda(Backend backend) {
        if (backend == Backend.CPU) return false;
        CudaAvailability probe = CudaAvailability.probe();
        String reason = !probe.available() ? probe.reason()
                : !HerdKernels.bundled() && !HerdKernels.installed() ? "the CUDA kernels are not in this build (it ran without nvcc)"
                : null;
        if (reason == null) return true;
        if (backend == Backend.CUDA) throw new IllegalStateException("herd.compute.backend=cuda but " + reason);
        LOG.infof("GPU backend unavailable (%s): running on the CPU", reason);
        return false;
    }

    public EngineCore engine() { return engine; }

    /**
     * The vision tower of a {@code Llama4ForConditionalGeneration} checkpoint, from the same memory-mapped files;
     * empty for text-only checkpoints and on the CUDA backend, which does not take image features yet.
     */
    public Optional<ImageEmbedder> imageEmbedder(Path modelDir) {
        // GGUF files hold the text model only (llama.cpp keeps the vision tower in a separate projector file).
        if (!(forwardPass instanceof CpuForwardPass) || checkpoint.isGguf()
                || !Llama4VisionWeights.present(checkpoint.safetensors())) {
            return Optional.empty();
        }
        return Llama4VisionConfigParser.parse(modelDir.resolve("config.json"))
                .map(v -> new ImageEmbedder(Llama4VisionWeights.load(checkpoint.safetensors(), v)));
    }

    public Llama4Config config() { return config; }

    /** The model's tokenizer (its folder's file, or a GGUF's own vocabulary). */
    public Tokenizer tokenizer() {
        Tokenizer t = checkpoint.tokenizerOrNull();
        if (t == null) throw new IllegalStateException(checkpoint.location() + " has no tokenizer (tokenizer.model, "
                + "tokenizer.json, or a GGUF vocabulary)");
        return t;
    }

    /** Which backend runs the model, for logs. */
    public String backendDescription() { return backendDescription; }

    @Override
    public void close() {
        engine.close();
        forwardPass.close();
        if (device != null) device.close();
        checkpoint.close();
    }
}

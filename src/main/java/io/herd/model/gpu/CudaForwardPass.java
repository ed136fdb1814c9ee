package io.herd.model.gpu;

import io.herd.compute.cuda.CudaDevice;
import io.herd.compute.cuda.CudaOps;
import io.herd.compute.cuda.CudaPhaseTimer;
import io.herd.compute.cuda.ArgmaxKernelCheck;
import io.herd.compute.cuda.DecodeAttentionCheck;
import io.herd.compute.cuda.DecodeAttentionKernel;
import io.herd.compute.cuda.DeviceMatrix;
import io.herd.compute.cuda.DequantGemmCheck;
import io.herd.compute.cuda.FusedQuantizeCheck;
import io.herd.compute.cuda.LinearKernelCheck;
import io.herd.compute.cuda.RouterKernelCheck;
import io.herd.compute.cuda.DeviceWeights;
import io.herd.compute.cuda.DeviceWeights.HostTensor;
import io.herd.compute.cuda.MemoryPlan;
import io.herd.compute.cuda.WeightFormat;
import io.herd.compute.DType;
import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4TensorNames;
import io.herd.model.RopeFrequencies;
import io.herd.weights.SafetensorsCheckpoint;
import io.herd.weights.TensorView;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Llama 4 forward pass on one GPU. Weights are uploaded once (as stored, or quantized to int8/int4 on the
 * device while uploading); the paged KV cache and every per-step buffer are allocated up front after a
 * {@link MemoryPlan} check; each step is queued on the device's one stream and synchronised once at the end.
 * Pure decode steps (one token per sequence) are captured once per batch size as a CUDA graph and replayed.
 *
 * <p>Numerics: activations and the residual stream are fp32; F32 matrices run in fp32, BF16 matrices take
 * bf16-rounded inputs with fp32 accumulation (cuBLAS for many rows, Herd's GEMV otherwise), INT8/INT4 matrices are
 * dequantized inside the kernel. Router logits are fp32 (router weights are kept in fp32), ties go to the lower
 * expert index.
 *
 * <p>KV storage, per layer of a group: K and V each [nBlocks, blockSize, nKvHeads, headDim] in f32 or bf16;
 * position p of a sequence lives in block {@code table[p / blockSize]}, slot {@code p % blockSize}.
 */
public final class CudaForwardPass implements ForwardPass {

    /**
     * @param matrixFormat   storage of the big matrices; null keeps the checkpoint's dtype
     * @param quantGroupSize inputs per scale group for INT8/INT4 (32 or 128)
     * @param kvBf16         bf16 KV cache (else f32)
     * @param blockSize      positions per KV block
     * @param nGlobalBlocks  blocks of the GLOBAL group (NoPE layers)
     * @param nChunkedBlocks blocks of the CHUNKED group (RoPE layers)
     * @param maxBatchTokens most tokens in one forward call
     * @param maxSeqs        most sequences (chunks) in one forward call
     * @param maxBlocksPerSeq longest block table
     * @param maxLogitRows   logits computed per lm_head launch (more rows are done in several)
     * @param useGraphs      capture pure decode steps as CUDA graphs
     */
    public record Options(WeightFormat matrixFormat, int quantGroupSize, boolean kvBf16, int blockSize,
                          int nGlobalBlocks, int nChunkedBlocks, int maxBatchTokens, int maxSeqs,
                          int maxBlocksPerSeq, int maxLogitRows, boolean useGraphs) {
        public Options {
            if (quantGroupSize != 32 && quantGroupSize != 128) {
                throw new IllegalArgumentException("quantGroupSize must be 32 or 128, got " + quantGroupSize);
            }
            if (blockSize <= 0 || maxBatchTokens <= 0 || maxSeqs <= 0 || maxBlocksPerSeq <= 0 || maxLogitRows <= 0) {
                throw new IllegalArgumentException("sizes must be positive: " + this);
            }
        }

        public Options withFormat(WeightFormat f) {
            return new Options(f, quantGroupSize, kvBf16, blockSize, nGlobalBlocks, nChunkedBlocks, maxBatchTokens,
                    maxSeqs, maxBlocksPerSeq, maxLogitRows, useGraphs);
        }
    }

    /**
     * Steps of at most this many tokens run the shared expert as one more group of the routed experts' grouped
     * launches (where its stack holds it and its linears would run the GEMV kernels anyway): a batch-1 decode step
     * then makes 3 expert launches per MoE layer instead of 7, and the two experts' weights stream side by side.
     * Above it the shared expert's own linears (cuBLAS from some rows) are faster.
     */
    static final int SHARED_IN_GROUPS_MAX_TOKENS = 4;

    /** System property: "false" keeps to the verified kernels (no load-time checks of newer ones). */
    public static final String KERNEL_CHECKS_PROPERTY = "herd.gpu.kernel-checks";

    private final CudaDevice device;
    private final CudaOps ops;
    private final Llama4Config config;
    private final Options options;
    private final List<Layer> layers;
    private final long embedTable;
    private final WeightFormat embedFormat;
    private final long finalNorm;
    private final DeviceMatrix lmHead;
    private final long omega;
    private final MemoryPlan plan;
    private final KvCacheSpec kvSpec;
    private final Buffers buf;
    private final Map<Integer, CudaDevice.Graph> decodeGraphs = new HashMap<>();
    private final java.util.Set<Integer> eagerDecodeSizes = new java.util.HashSet<>();
    private final long allocationMark;
    private boolean closed;
    private boolean graphsEnabled;
    private boolean sharedExpertInGroups;
    private CudaPhaseTimer phaseTimer;
    private final DecodeAttentionCheck.Result decodeAttentionChoice;
    private final LinearKernelCheck.Result linearChoice;
    private final DequantGemmCheck.Result dequantChoice;
    private final RouterKernelCheck.Result routerChoice;
    private final ArgmaxKernelCheck.Result argmaxChoice;
    private final FusedQuantizeCheck.Result fusedQuantizeChoice;

    /**
     * One decoder layer's device weights and KV cache. {@code sharedInStack}: the expert stacks hold the shared
     * expert as their last group, and gateUp / down are views of it.
     */
    private record Layer(long inputNorm, DeviceMatrix qkv, DeviceMatrix o, long postNorm, boolean rope, boolean moe,
                         DeviceMatrix router, DeviceMatrix expertsGateUp, DeviceMatrix expertsDown,
                         DeviceMatrix gateUp, DeviceMatrix down, boolean sharedInStack, long kCache, long vCache) {}

    /** Per-step device buffers, sized for the largest step. */
    private record Buffers(long h, long xn, long qkv, long attn, long hidden, long act, long routerLogits,
                           long expertIds, long expertScores, long offsets, long posOfAssign, long assignOfPos,
                           long xPerm, long yPerm, long logits, long argmax, long meta, int metaInts) {}

    /** Weights as they arrive: either from a checkpoint or generated on the device. */
    private interface Source {
        DeviceMatrix matrix(String what, int iLayer, int nGroups, int nOut, int nIn, WeightFormat fmt);

        long norm(String what, int iLayer, int dim);

        long embedding(int vocab, int dim, WeightFormat fmt);

        WeightFormat embeddingFormat();
    }

    private CudaForwardPass(CudaDevice device, Llama4Config config, Options options, Source source, long weightBytes) {
        this.device = device;
        this.allocationMark = device.allocationMark();
        this.graphsEnabled = options.useGraphs();
        this.ops = new CudaOps(device);
        this.config = config;
        this.options = options;
        validate(config);
        int kvBytesPerElem = options.kvBf16() ? 2 : 4;
        long perLayerBlock = 2L * options.blockSize() * config.nKvHeads() * config.headDim() * kvBytesPerElem;
        int nRope = 0;
        for (boolean r : config.ropeLayers()) if (r) nRope++;
        int nNope = config.nLayers() - nRope;
        kvSpec = new KvCacheSpec(options.blockSize(), options.nGlobalBlocks(), options.nChunkedBlocks(),
                perLayerBlock * nNope, perLayerBlock * nRope);
        long kvBytes = kvSpec.bytesPerGlobalBlock() * options.nGlobalBlocks()
                + kvSpec.bytesPerChunkedBlock() * options.nChunkedBlocks();
        plan = new MemoryPlan(weightBytes, kvBytes, activationBytes(config, options), MemoryPlan.DEFAULT_RESERVE,
                device.runtime().memGetInfo().freeBytes());
        plan.requireFits("Llama 4 (" + config.nLayers() + " layers, " + config.nExperts() + " experts)");
        try {
            List<Layer> ls = new ArrayList<>();
            WeightFormat fmt = options.matrixFormat();
            int d = config.dModel(), hd = config.headDim();
            int qkvOut = (config.nHeads() + 2 * config.nKvHeads()) * hd;
            for (int i = 0; i < config.nLayers(); i++) {
                boolean moe = config.moeLayers()[i];
                boolean rope = config.ropeLayers()[i];
                long inNorm = source.norm("input_layernorm", i, d);
                DeviceMatrix qkv = source.matrix("qkv", i, 1, qkvOut, d, fmt);
                DeviceMatrix o = source.matrix("o", i, 1, d, config.nHeads() * hd, fmt);
                long postNorm = source.norm("post_attention_layernorm", i, d);
                DeviceMatrix router = null, eGateUp = null, eDown = null, gateUp, down;
                boolean sharedInStack = false;
                if (moe) {
                    router = source.matrix("router", i, 1, config.nExperts(), d, WeightFormat.F32);
                    eGateUp = source.matrix("experts.gate_up", i, config.nExperts(), 2 * config.dFf(), d, fmt);
                    eDown = source.matrix("experts.down", i, config.nExperts(), d, config.dFf(), fmt);
                    gateUp = source.matrix("shared.gate_up", i, 1, 2 * config.dFf(), d, fmt);
                    down = source.matrix("shared.down", i, 1, d, config.dFf(), fmt);
                    // the shared expert as the stacks' last group (same memory in all, briefly one stack twice;
                    // skipped where the device has no room for that moment)
                    long free = device.runtime().memGetInfo().freeBytes();
                    if (free > eGateUp.bytes() + gateUp.bytes() + MemoryPlan.DEFAULT_RESERVE / 2) {
                        DeviceWeights stacker = new DeviceWeights(ops);
                        eGateUp = stacker.appendGroup(eGateUp, gateUp);
                        eDown = stacker.appendGroup(eDown, down);
                        gateUp = eGateUp.group(config.nExperts());
                        down = eDown.group(config.nExperts());
                        sharedInStack = true;
                    }
                } else {
                    gateUp = source.matrix("mlp.gate_up", i, 1, 2 * config.dFfMlp(), d, fmt);
                    down = source.matrix("mlp.down", i, 1, d, config.dFfMlp(), fmt);
                }
                int nBlocks = rope ? options.nChunkedBlocks() : options.nGlobalBlocks();
                long cacheBytes = (long) nBlocks * options.blockSize() * config.nKvHeads() * hd * kvBytesPerElem;
                long kc = device.alloc(cacheBytes), vc = device.alloc(cacheBytes);
                device.zero(kc, cacheBytes);
                device.zero(vc, cacheBytes);
                ls.add(new Layer(inNorm, qkv, o, postNorm, rope, moe, router, eGateUp, eDown, gateUp, down,
                        sharedInStack, kc, vc));
            }
            layers = List.copyOf(ls);
            embedFormat = source.embeddingFormat();
            embedTable = source.embedding(config.vocabSize(), d, embedFormat);
            finalNorm = source.norm("norm", -1, d);
            lmHead = source.matrix("lm_head", -1, 1, config.vocabSize(), d, fmt);
            float[] inv = RopeFrequencies.inverseFrequencies(hd, config.ropeTheta(), config.ropeScaling());
            omega = new DeviceWeights(ops).floats(inv);
            buf = allocateBuffers();
            ops.reserveBf16Scratch((long) options.maxBatchTokens() * Math.max(maxIn(config), d));
            ops.reserveActivationScratch(Math.max(maxExpertRows(config, options), options.maxLogitRows()),
                    Math.max(maxIn(config), d));
            ops.reserveAttentionSplits(splitTokenHeads(config, options));
            if (fmt != null && fmt.quantized()) ops.reserveDequantScratch(Math.max(maxIn(config), d));
            ops.reserveArgmaxScratch(Math.max(1, options.maxLogitRows()));
            // New kernels are used only after they matched the verified kernels on this very device; with
            // -Dherd.gpu.kernel-checks=false only the verified kernels run (no check, nothing new launched).
            boolean checks = !"false".equals(System.getProperty(KERNEL_CHECKS_PROPERTY));
            sharedExpertInGroups = checks;
            decodeAttentionChoice = checks ? DecodeAttentionCheck.select(ops, config.nHeads(), config.nKvHeads(), hd,
                    options.kvBf16()) : DecodeAttentionCheck.Result.verifiedOnly();
            ops.useDecodeAttention(decodeAttentionChoice.chosen(), decodeAttentionChoice.chosenMany());
            System.Logger log = System.getLogger(CudaForwardPass.class.getName());
            log.log(System.Logger.Level.INFO, decodeAttentionChoice.summary());
            if (checks && options.matrixFormat() == WeightFormat.INT4) {
                linearChoice = LinearKernelCheck.select(ops);
                ops.useTiledInt4(linearChoice.useNarrow(), linearChoice.useWide());
                ops.usePipelinedInt4(linearChoice.usePipelined());
                ops.usePipelinedInt4Wide(linearChoice.usePipelinedWide());
                ops.useSingleRowInt4(linearChoice.useSingleRow());
                log.log(System.Logger.Level.INFO, linearChoice.summary());
            } else {
                linearChoice = null;
            }
            if (checks && fmt != null && fmt.quantized()) {
                dequantChoice = DequantGemmCheck.select(ops, fmt);
                if (dequantChoice.used()) {
                    ops.useDequantGemmFrom(dequantChoice.minRows());
                    ops.useDequantBlockElements(dequantChoice.blockElements());
                }
                log.log(System.Logger.Level.INFO, dequantChoice.summary());
            } else {
                dequantChoice = null;
            }
            boolean anyMoe = false;
            for (boolean m : config.moeLayers()) anyMoe |= m;
            if (checks && anyMoe) {
                routerChoice = RouterKernelCheck.select(ops, config.nExperts(), d, config.nExpertsPerTok());
                ops.useFusedRouter(routerChoice.useFused());
                log.log(System.Logger.Level.INFO, routerChoice.summary());
            } else {
                routerChoice = null;
            }
            if (checks && fmt != null && fmt.quantized() && d % 32 == 0 && dFfs(config) % 32 == 0) {
                fusedQuantizeChoice = FusedQuantizeCheck.select(ops, d, dFfs(config), config.rmsNormEps());
                ops.useFusedQuantize(fusedQuantizeChoice.useFused());
                log.log(System.Logger.Level.INFO, fusedQuantizeChoice.summary());
            } else {
                fusedQuantizeChoice = null;
            }
            if (checks) {
                argmaxChoice = ArgmaxKernelCheck.select(ops, config.vocabSize());
                ops.useSlicedArgmax(argmaxChoice.useSliced());
                log.log(System.Logger.Level.INFO, argmaxChoice.summary());
            } else {
                argmaxChoice = null;
            }
            device.synchronize();
        } catch (RuntimeException | Error e) {
            device.freeSince(allocationMark);  // nothing of a half-loaded model stays on the device
            throw e;
        }
    }

    // ---- construction -------------------------------------------------------------------------------------------

    /**
     * Uploads a checkpoint's text weights. Big matrices go to {@code options.matrixFormat()} (null: as stored);
     * expert stacks are transposed from input-major to [out, in] on the device.
     */
    public static CudaForwardPass load(CudaDevice device, Llama4Config config, SafetensorsCheckpoint checkpoint,
                                       Options options) {
        Llama4TensorNames names = Llama4TensorNames.detect(checkpoint.names(), checkpoint.location());
        DType stored = checkpoint.tensor(names.qProj(0)).dtype();
        if (stored != DType.F32 && stored != DType.BF16) {
            throw new IllegalArgumentException(checkpoint.location() + ": GPU path supports F32 and BF16 checkpoints, not "
                    + stored);
        }
        WeightFormat asStored = stored == DType.BF16 ? WeightFormat.BF16 : WeightFormat.F32;
        Options opts = options.matrixFormat() == null ? options.withFormat(asStored) : options;
        DeviceWeights up = new DeviceWeights(new CudaOps(device));
        long weightBytes = estimateWeightBytes(config, opts, asStored);
        Source source = new Source() {
            @Override
            public DeviceMatrix matrix(String what, int i, int nGroups, int nOut, int nIn, WeightFormat fmt) {
                int g = opts.quantGroupSize();
                return switch (what) {
                    case "qkv" -> up.matrix(List.of(host(checkpoint, names.qProj(i), config.nHeads() * config.headDim(), nIn),
                            host(checkpoint, names.kProj(i), config.nKvHeads() * config.headDim(), nIn),
                            host(checkpoint, names.vProj(i), config.nKvHeads() * config.headDim(), nIn)),
                            1, nOut, nIn, false, fmt, g);
                    case "o" -> up.matrix(List.of(host(checkpoint, names.oProj(i), nOut, nIn)), 1, nOut, nIn, false, fmt, g);
                    case "router" -> up.matrix(List.of(host(checkpoint, names.router(i), nOut, nIn)), 1, nOut, nIn,
                            false, WeightFormat.F32, g);
                    case "experts.gate_up" -> up.matrix(List.of(host(checkpoint, names.expertsGateUp(i), nGroups, nIn, nOut)),
                            nGroups, nOut, nIn, true, fmt, g);
                    case "experts.down" -> up.matrix(List.of(host(checkpoint, names.expertsDown(i), nGroups, nIn, nOut)),
                            nGroups, nOut, nIn, true, fmt, g);
                    case "shared.gate_up" -> up.matrix(List.of(host(checkpoint, names.sharedGate(i), nOut / 2, nIn),
                            host(checkpoint, names.sharedUp(i), nOut / 2, nIn)), 1, nOut, nIn, false, fmt, g);
                    case "shared.down" -> up.matrix(List.of(host(checkpoint, names.sharedDown(i), nOut, nIn)), 1, nOut, nIn,
                            false, fmt, g);
                    case "mlp.gate_up" -> up.matrix(List.of(host(checkpoint, names.mlpGate(i), nOut / 2, nIn),
                            host(checkpoint, names.mlpUp(i), nOut / 2, nIn)), 1, nOut, nIn, false, fmt, g);
                    case "mlp.down" -> up.matrix(List.of(host(checkpoint, names.mlpDown(i), nOut, nIn)), 1, nOut, nIn,
                            false, fmt, g);
                    case "lm_head" -> up.matrix(List.of(host(checkpoint, names.outputProjection(checkpoint.names(),
                                    config.tieWordEmbeddings(), checkpoint.location()), nOut, nIn)), 1, nOut, nIn, false,
                            fmt, g);
                    default -> throw new IllegalArgumentException(what);
                };
            }

            @Override
            public long norm(String what, int i, int dim) {
                String name = switch (what) {
                    case "input_layernorm" -> names.inputNorm(i);
                    case "post_attention_layernorm" -> names.postAttentionNorm(i);
                    case "norm" -> names.finalNorm();
                    default -> throw new IllegalArgumentException(what);
                };
                return up.floats(checkpoint.tensor(name).requireShape(dim).toFloatArray());
            }

            @Override
            public long embedding(int vocab, int dim, WeightFormat fmt) {
                HostTensor t = host(checkpoint, names.embedTokens(), vocab, dim);
                return up.matrix(List.of(t), 1, vocab, dim, false, fmt, opts.quantGroupSize()).data();
            }

            @Override
            public WeightFormat embeddingFormat() {
                return asStored == WeightFormat.F32 && opts.matrixFormat() == WeightFormat.F32 ? WeightFormat.F32
                        : WeightFormat.BF16;
            }
        };
        return new CudaForwardPass(device, config, opts, source, weightBytes);
    }

    /**
     * A model of {@code config}'s dimensions with random weights generated on the device: throughput and memory
     * measurements at real sizes (e.g. Scout's 48 layers in int4) without uploading a checkpoint.
     */
    public static CudaForwardPass synthetic(CudaDevice device, Llama4Config config, Options options, long seed) {
        if (options.matrixFormat() == null) throw new IllegalArgumentException("synthetic weights need a format");
        DeviceWeights up = new DeviceWeights(new CudaOps(device));
        long[] counter = {seed};
        Source source = new Source() {
            @Override
            public DeviceMatrix matrix(String what, int i, int nGroups, int nOut, int nIn, WeightFormat fmt) {
                return up.random(nGroups, nOut, nIn, fmt, options.quantGroupSize(), ++counter[0]);
            }

            @Override
            public long norm(String what, int i, int dim) {
                return up.ones(dim);
            }

            @Override
            public long embedding(int vocab, int dim, WeightFormat fmt) {
                return up.random(1, vocab, dim, WeightFormat.BF16, options.quantGroupSize(), ++counter[0]).data();
            }

            @Override
            public WeightFormat embeddingFormat() {
                return WeightFormat.BF16;
            }
        };
        return new CudaForwardPass(device, config, options, source,
                estimateWeightBytes(config, options, WeightFormat.BF16));
    }

    private static HostTensor host(SafetensorsCheckpoint ckpt, String name, long... shape) {
        TensorView t = ckpt.tensor(name).requireShape(shape).requireDtype(DType.F32, DType.BF16);
        return new HostTensor(t.data(), t.dtype() == DType.BF16);
    }

    /** Device bytes of every weight in the chosen formats (for the memory plan, before any allocation). */
    public static long estimateWeightBytes(Llama4Config c, Options o, WeightFormat embedSource) {
        WeightFormat f = o.matrixFormat();
        long sum = 0;
        for (int i = 0; i < c.nLayers(); i++) sum += layerMatrixBytes(c, o, i, c.nExperts()) + 2L * c.dModel() * 4;
        WeightFormat embed = embedSource == WeightFormat.F32 && f == WeightFormat.F32 ? WeightFormat.F32 : WeightFormat.BF16;
        sum += DeviceMatrix.bytesFor(embed, 1, c.vocabSize(), c.dModel(), o.quantGroupSize());
        sum += DeviceMatrix.bytesFor(f, 1, c.vocabSize(), c.dModel(), o.quantGroupSize());
        return sum;
    }

    /**
     * Bytes of layer {@code i}'s matrices counting {@code nExpertsRead} routed experts: all of them for the memory
     * plan, the experts one token uses for what a decode step reads. The router (fp32) is counted in full.
     */
    static long layerMatrixBytes(Llama4Config c, Options o, int i, int nExpertsRead) {
        WeightFormat f = o.matrixFormat();
        int g = o.quantGroupSize(), d = c.dModel(), hd = c.headDim();
        long sum = DeviceMatrix.bytesFor(f, 1, (c.nHeads() + 2 * c.nKvHeads()) * hd, d, g)
                + DeviceMatrix.bytesFor(f, 1, d, c.nHeads() * hd, g);
        if (c.moeLayers()[i]) {
            sum += (long) c.nExperts() * d * 4
                    + DeviceMatrix.bytesFor(f, nExpertsRead, 2 * c.dFf(), d, g)
                    + DeviceMatrix.bytesFor(f, nExpertsRead, d, c.dFf(), g)
                    + DeviceMatrix.bytesFor(f, 1, 2 * c.dFf(), d, g) + DeviceMatrix.bytesFor(f, 1, d, c.dFf(), g);
        } else {
            sum += DeviceMatrix.bytesFor(f, 1, 2 * c.dFfMlp(), d, g) + DeviceMatrix.bytesFor(f, 1, d, c.dFfMlp(), g);
        }
        return sum;
    }

    private static int maxIn(Llama4Config c) {
        return Math.max(Math.max(c.dModel(), c.nHeads() * c.headDim()), Math.max(c.dFf(), c.dFfMlp()));
    }

    /**
     * Rows of the permuted expert buffers: every token's routed assignments, plus a shared-expert one per token in
     * steps of up to {@value #SHARED_IN_GROUPS_MAX_TOKENS} tokens.
     */
    private static long maxExpertRows(Llama4Config c, Options o) {
        long t = o.maxBatchTokens();
        int k = c.nExpertsPerTok();
        return Math.max(t * k, Math.min(t, SHARED_IN_GROUPS_MAX_TOKENS) * (k + 1L));
    }

    private static long activationBytes(Llama4Config c, Options o) {
        long t = o.maxBatchTokens();
        long rows = maxExpertRows(c, o);
        long hiddenRows = Math.max(rows, t);
        long widest = Math.max(2L * c.dFf(), 2L * c.dFfMlp());
        long floats = t * c.dModel() * 2 + t * (c.nHeads() + 2L * c.nKvHeads()) * c.headDim()
                + t * c.nHeads() * c.headDim() + hiddenRows * widest + hiddenRows * widest / 2
                + t * c.nExperts() + 2 * rows * c.dModel() + (long) o.maxLogitRows() * c.vocabSize();
        long bf16Scratch = t * Math.max(maxIn(c), c.dModel()) * 2;
        long int8Scratch = Math.max(maxExpertRows(c, o), o.maxLogitRows()) * Math.max(maxIn(c), c.dModel()) * 5 / 4;
        // flash-decoding partial states; 1024 stands for 2 blocks per multiprocessor on any GPU up to 512 of them
        long splitScratch = (splitTokenHeads(c, o) + 1024) * (2 + 128) * 4L;
        // bf16 blocks of dequantized weights for many-row INT8/INT4 linears (up to 256 MB)
        WeightFormat f = o.matrixFormat();
        long dequantScratch = f != null && f.quantized() ? CudaOps.dequantScratchBytes(maxIn(c)) : 0;
        return floats * 4 + bf16Scratch + int8Scratch + metaInts(o) * 4L + 16L * rows + splitScratch + dequantScratch
                + (1L << 20);
    }

    /** (token, head) pairs the flash-decoding scratch serves: a pure decode step has one token per sequence. */
    private static long splitTokenHeads(Llama4Config c, Options o) {
        return (long) Math.max(o.maxSeqs(), DecodeAttentionCheck.checkSequences()) * c.nHeads();
    }

    private static int metaInts(Options o) {
        return StepLayout.metaInts(o);
    }

    private Buffers allocateBuffers() {
        Llama4Config c = config;
        long t = options.maxBatchTokens();
        long rows = maxExpertRows(c, options);  // routed (and shared) assignments
        long hiddenRows = Math.max(rows, t);
        long widest = Math.max(2L * c.dFf(), 2L * c.dFfMlp());
        return new Buffers(
                device.alloc(t * c.dModel() * 4), device.alloc(t * c.dModel() * 4),
                device.alloc(t * (c.nHeads() + 2L * c.nKvHeads()) * c.headDim() * 4),
                device.alloc(t * c.nHeads() * c.headDim() * 4),
                device.alloc(hiddenRows * widest * 4), device.alloc(hiddenRows * widest / 2 * 4),
                device.alloc(t * Math.max(1, c.nExperts()) * 4),
                device.alloc(rows * 4), device.alloc(rows * 4), device.alloc((c.nExperts() + 2L) * 4),
                device.alloc(rows * 4), device.alloc(rows * 4),
                device.alloc(rows * c.dModel() * 4), device.alloc(rows * c.dModel() * 4),
                device.alloc((long) options.maxLogitRows() * c.vocabSize() * 4), device.alloc(t * 4),
                device.alloc(metaInts(options) * 4L), metaInts(options));
    }

    private static void validate(Llama4Config c) {
        if (c.nHeads() % c.nKvHeads() != 0) {
            throw new IllegalArgumentException("nHeads " + c.nHeads() + " not a multiple of nKvHeads " + c.nKvHeads());
        }
        if (c.headDim() % 2 != 0 || c.headDim() > 256) {
            throw new IllegalArgumentException("headDim must be even and at most 256, got " + c.headDim());
        }
        if (c.nExpertsPerTok() > 8 || c.nExperts() > 1024) {
            throw new IllegalArgumentException("at most 8 experts per token and 1024 experts, got "
                    + c.nExpertsPerTok() + " of " + c.nExperts());
        }
    }

    // ---- ForwardPass ----------------------------------------------------------------------------------------------

    @Override
    public Llama4Config config() {
        return config;
    }

    @Override
    public KvCacheSpec kvSpec() {
        return kvSpec;
    }

    /** Turns CUDA-graph replay of pure decode steps on or off (eager launches are the baseline to compare with). */
    public void useGraphs(boolean enabled) {
        graphsEnabled = enabled;
    }

    /** Which decode attention kernel the load-time check chose, and how every candidate did. */
    public DecodeAttentionCheck.Result decodeAttentionChoice() {
        return decodeAttentionChoice;
    }

    /** The int4 linear kernels the load-time check chose (empty unless the matrices are INT4). */
    public java.util.Optional<LinearKernelCheck.Result> linearKernelChoice() {
        return java.util.Optional.ofNullable(linearChoice);
    }

    /** The dequantize + cuBLAS threshold the load-time check chose (empty unless the matrices are INT8/INT4). */
    public java.util.Optional<DequantGemmCheck.Result> dequantGemmChoice() {
        return java.util.Optional.ofNullable(dequantChoice);
    }

    /** The router kernel the load-time check chose (empty for a model without MoE layers or without checks). */
    public java.util.Optional<RouterKernelCheck.Result> routerChoice() {
        return java.util.Optional.ofNullable(routerChoice);
    }

    /** The fused norm/silu + quantization choice of the load-time check (empty unless INT8/INT4 with checks). */
    public java.util.Optional<FusedQuantizeCheck.Result> fusedQuantizeChoice() {
        return java.util.Optional.ofNullable(fusedQuantizeChoice);
    }

    /** The larger feed-forward width (MoE experts or dense MLP) the silu fusion is checked at. */
    private static int dFfs(Llama4Config c) {
        return Math.max(c.dFf(), c.dFfMlp());
    }

    /** The argmax kernels the load-time check chose (empty without checks). */
    public java.util.Optional<ArgmaxKernelCheck.Result> argmaxChoice() {
        return java.util.Optional.ofNullable(argmaxChoice);
    }

    /**
     * Sets the dequantize + cuBLAS threshold ({@link Integer#MAX_VALUE}: GEMV kernels only), the fused router and
     * the sliced argmax (benchmarks compare with the verified kernels this way).
     */
    public void useCheckedKernels(int dequantGemmMinRows, boolean fusedRouter, boolean slicedArgmax,
                                  boolean fusedQuantize) {
        dropGraphs();
        ops.useFusedQuantize(fusedQuantize);
        ops.useDequantGemmFrom(dequantGemmMinRows);
        ops.useFusedRouter(fusedRouter);
        ops.useSlicedArgmax(slicedArgmax);
    }

    public boolean slicedArgmax() {
        return ops.slicedArgmax();
    }

    public boolean fusedQuantize() {
        return ops.fusedQuantize();
    }

    public int dequantGemmMinRows() {
        return ops.dequantGemmMinRows();
    }

    public boolean fusedRouter() {
        return ops.fusedRouter();
    }

    /**
     * Runs the shared expert in the routed experts' grouped launches for steps of up to
     * {@value #SHARED_IN_GROUPS_MAX_TOKENS} tokens (the default with kernel checks on), or always on its own
     * (benchmarks compare the two this way).
     */
    public void useSharedExpertInGroups(boolean enabled) {
        dropGraphs();
        sharedExpertInGroups = enabled;
    }

    public boolean sharedExpertInGroups() {
        return sharedExpertInGroups;
    }

    /** Switches the split-K one-row int4 kernel on or off (benchmarks compare it with the load-time choice). */
    public void useSingleRowInt4(boolean singleRow) {
        dropGraphs();
        ops.useSingleRowInt4(singleRow);
    }

    /** Switches the register-tiled int4 linear kernels on or off (benchmarks compare them this way). */
    public void useTiledInt4(boolean narrow, boolean wide) {
        dropGraphs();
        ops.useTiledInt4(narrow, wide);
    }

    /** Closes the captured decode graphs: they hold the kernels chosen when they were captured. */
    private void dropGraphs() {
        device.makeCurrent();
        device.synchronize();
        for (CudaDevice.Graph g : decodeGraphs.values()) g.close();
        decodeGraphs.clear();
    }

    /** The decode attention kernel in use below {@link CudaOps#MANY_DECODE_TOKENS} tokens per step. */
    public DecodeAttentionKernel decodeAttention() {
        return ops.decodeAttention();
    }

    /** The decode attention kernel in use from {@link CudaOps#MANY_DECODE_TOKENS} tokens per step. */
    public DecodeAttentionKernel decodeAttentionMany() {
        return ops.decodeAttentionMany();
    }

    /** Uses {@code few} below and {@code many} from {@link CudaOps#MANY_DECODE_TOKENS} decode tokens per step. */
    public void useDecodeAttention(DecodeAttentionKernel few, DecodeAttentionKernel many) {
        for (DecodeAttentionKernel k : new DecodeAttentionKernel[] {few, many}) {
            if (!k.supports(config.headDim(), config.nHeads(), config.nKvHeads())) {
                throw new IllegalArgumentException(k + " does not serve this model's attention heads");
            }
        }
        dropGraphs();
        ops.useDecodeAttention(few, many);
    }

    /**
     * Uses {@code kernel} for decode attention from now on, overriding the load-time choice (benchmarks compare
     * kernels this way); captured graphs are dropped since they hold the old kernel.
     */
    public void useDecodeAttention(DecodeAttentionKernel kernel) {
        useDecodeAttention(kernel, kernel);
    }

    /**
     * While {@code timer} is set (null ends it), steps run eagerly and the timer gets one round of named phases
     * per step (embed, rmsnorm, qkv_linear, attention, experts_linear, lm_head_linear ...); linear phases include
     * the int8 quantization of their input.
     */
    public void profilePhases(CudaPhaseTimer timer) {
        phaseTimer = timer;
    }

    private void phase(String name) {
        if (phaseTimer != null) phaseTimer.mark(name);
    }

    public MemoryPlan memoryPlan() {
        return plan;
    }

    public Options options() {
        return options;
    }

    @Override
    public List<float[]> forward(List<SequenceChunk> chunks) {
        if (StepLayout.reusesChunkedBlockWithinStep(chunks, config.attentionChunkSize(), options.blockSize())) {
            return forwardSplitAtAttentionChunks(chunks);
        }
        device.makeCurrent();
        StepLayout step = prepare(chunks);
        device.uploadInts(step.meta, buf.meta());
        runGraphOrLayers(step);
        int vocab = config.vocabSize();
        float[][] results = new float[chunks.size()][];
        for (int c = 0; c < chunks.size(); c++) results[c] = new float[chunks.get(c).nLogits() * vocab];
        float[] block = new float[Math.min(step.nRows, options.maxLogitRows()) * vocab];
        for (int r0 = 0; r0 < step.nRows; r0 += options.maxLogitRows()) {
            int n = Math.min(options.maxLogitRows(), step.nRows - r0);
            if (r0 > 0 || !step.logitsDone) lmHeadRows(step, r0, n);
            device.downloadFloats(buf.logits(), block, 0, n * vocab);
            for (int r = 0; r < n; r++) {
                int row = r0 + r;
                System.arraycopy(block, r * vocab, results[step.rowChunk[row]], step.rowIndexInChunk[row] * vocab, vocab);
            }
        }
        return List.of(results);
    }

    /** Runs each chunk piece by piece, one attention chunk per piece, in successive steps. */
    private List<float[]> forwardSplitAtAttentionChunks(List<SequenceChunk> chunks) {
        List<float[]> out = new ArrayList<>();
        int vocab = config.vocabSize();
        for (SequenceChunk c : chunks) {
            float[] logits = new float[c.nLogits() * vocab];
            int filled = 0;
            for (SequenceChunk piece : StepLayout.splitAtAttentionChunks(c, config.attentionChunkSize())) {
                float[] l = forward(List.of(piece)).getFirst();
                System.arraycopy(l, 0, logits, filled, l.length);
                filled += l.length;
            }
            out.add(logits);
        }
        return out;
    }

    /**
     * Like {@link #forward} for chunks with nLogits = 1, but returns only each chunk's greedy token (argmax on
     * the device; no logits leave the GPU). The decode loop of benchmarks and greedy serving.
     */
    public int[] forwardGreedy(List<SequenceChunk> chunks) {
        for (SequenceChunk c : chunks) {
            if (c.nLogits() != 1) throw new IllegalArgumentException("forwardGreedy needs nLogits == 1 per chunk");
        }
        if (chunks.size() > options.maxLogitRows()) {
            throw new IllegalArgumentException(chunks.size() + " chunks exceed maxLogitRows " + options.maxLogitRows());
        }
        device.makeCurrent();
        StepLayout step = prepare(chunks);
        device.uploadInts(step.meta, buf.meta());
        runGraphOrLayers(step);
        return device.downloadInts(buf.argmax(), chunks.size());
    }

    @Override
    public void copyBlock(KvGroup group, int fromBlock, int toBlock) {
        int n = group == KvGroup.GLOBAL ? options.nGlobalBlocks() : options.nChunkedBlocks();
        if (fromBlock < 0 || fromBlock >= n || toBlock < 0 || toBlock >= n) {
            throw new IllegalArgumentException("block " + fromBlock + " -> " + toBlock + " outside 0.." + (n - 1));
        }
        long blockBytes = (long) options.blockSize() * config.nKvHeads() * config.headDim() * (options.kvBf16() ? 2 : 4);
        device.makeCurrent();
        for (Layer l : layers) {
            if (l.rope() != (group == KvGroup.CHUNKED)) continue;
            device.copy(l.kCache() + toBlock * blockBytes, l.kCache() + fromBlock * blockBytes, blockBytes);
            device.copy(l.vCache() + toBlock * blockBytes, l.vCache() + fromBlock * blockBytes, blockBytes);
        }
        device.synchronize();
    }

    /** Frees the graphs and every device buffer of this forward pass (weights, KV cache, activations). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent();
        for (CudaDevice.Graph g : decodeGraphs.values()) g.close();
        decodeGraphs.clear();
        device.freeSince(allocationMark);
    }

    // ---- one step -------------------------------------------------------------------------------------------------

    // offsets of the int arrays inside buf.meta
    private long ids() { return buf.meta(); }
    private long tokPos() { return buf.meta() + 4L * options.maxBatchTokens(); }
    private long tokSeq() { return buf.meta() + 8L * options.maxBatchTokens(); }
    private long logitRows() { return buf.meta() + 12L * options.maxBatchTokens(); }
    private long tileStart() { return buf.meta() + 16L * options.maxBatchTokens(); }
    private long tileLen() { return buf.meta() + 20L * options.maxBatchTokens(); }
    private long globalTables() { return buf.meta() + 4L * StepLayout.globalTablesOffset(options); }
    private long chunkedTables() { return buf.meta() + 4L * StepLayout.chunkedTablesOffset(options); }

    private StepLayout prepare(List<SequenceChunk> chunks) {
        for (SequenceChunk c : chunks)
            if (c.embeddings() != null)  // refused rather than silently run with the <|patch|> embeddings
                throw new UnsupportedOperationException("image inputs are not supported on the CUDA backend yet");
        return StepLayout.of(chunks, config.vocabSize(), config.attentionChunkSize(), options, options.nGlobalBlocks(),
                options.nChunkedBlocks());
    }

    private void runGraphOrLayers(StepLayout s) {
        // A batch size is run eagerly once before it is captured, so that cuBLAS and the driver have made their
        // lazy allocations outside the capture.
        if (phaseTimer == null && graphsEnabled && s.pureDecode && !eagerDecodeSizes.add(s.nSeq)) {
            CudaDevice.Graph g = decodeGraphs.get(s.nSeq);
            if (g == null) {
                int rows = Math.min(s.nRows, options.maxLogitRows());
                g = device.capture(() -> {
                    runLayers(s);
                    lmHeadRows(s, 0, rows);
                    ops.argmax(buf.logits(), rows, config.vocabSize(), buf.argmax());
                });
                decodeGraphs.put(s.nSeq, g);
            }
            g.launch();
        } else {
            runLayers(s);
            int first = Math.min(s.nRows, options.maxLogitRows());
            if (first > 0) {
                lmHeadRows(s, 0, first);
                phase("argmax");
                ops.argmax(buf.logits(), first, config.vocabSize(), buf.argmax());
            }
            if (phaseTimer != null) phaseTimer.finish();
        }
        s.logitsDone = true;
    }

    /** Final norm of logit rows [r0, r0+n) and lm_head into buf.logits. */
    private void lmHeadRows(StepLayout s, int r0, int n) {
        if (n <= 0) return;
        phase("rmsnorm");
        ops.rmsnorm(buf.h(), finalNorm, buf.xn(), n, config.dModel(), config.rmsNormEps(), logitRows() + 4L * r0);
        phase("lm_head_linear");
        ops.linear(lmHead, buf.xn(), buf.logits(), n, false);
    }

    /**
     * silu(gate) · up of buf.hidden for the down projection {@code down}: into buf.act, or (fused) straight into the
     * down GEMV's int8 activations.
     */
    private void siluMulFor(DeviceMatrix down, int nRows, int f, boolean fused) {
        if (fused) ops.siluMulQuantized(buf.hidden(), nRows, f, down.format());
        else ops.siluMul(buf.hidden(), buf.act(), nRows, f);
    }

    private void runLayers(StepLayout s) {
        Llama4Config c = config;
        int nTok = s.nTok, d = c.dModel(), hd = c.headDim();
        phase("embed");
        ops.embed(embedTable, embedFormat, ids(), buf.h(), nTok, d);
        CudaOps.KvAddressing global = new CudaOps.KvAddressing(tokPos(), tokSeq(), globalTables(),
                options.maxBlocksPerSeq(), options.blockSize());
        CudaOps.KvAddressing chunked = new CudaOps.KvAddressing(tokPos(), tokSeq(), chunkedTables(),
                options.maxBlocksPerSeq(), options.blockSize());
        float scale = (float) (1.0 / Math.sqrt(hd));
        int k = c.nExpertsPerTok();
        int nAssign = nTok * k;
        for (Layer l : layers) {
            CudaOps.KvAddressing kv = l.rope() ? chunked : global;
            phase("rmsnorm");
            // fused: the norm kernel also writes the qkv GEMV's int8 activations (one launch fewer)
            boolean qkvPrequantized = ops.fusedQuantize() && ops.quantizedGemv(l.qkv(), nTok);
            if (qkvPrequantized) {
                ops.rmsnormQuantized(buf.h(), l.inputNorm(), buf.xn(), nTok, d, c.rmsNormEps(), 0, l.qkv().format());
            } else {
                ops.rmsnorm(buf.h(), l.inputNorm(), buf.xn(), nTok, d, c.rmsNormEps(), 0);
            }
            phase("qkv_linear");
            ops.linear(l.qkv(), buf.xn(), buf.qkv(), nTok, false, qkvPrequantized);
            phase("attn_prep_rope_kv_write");
            ops.attnPrep(buf.qkv(), l.kCache(), l.vCache(), options.kvBf16(), kv, nTok, c.nHeads(), c.nKvHeads(), hd,
                    l.rope() ? omega : 0, l.rope() && c.useQkNorm(), c.rmsNormEps(),
                    !l.rope() && c.attnTemperatureTuning(), c.attnScale(), c.floorScale());
            int chunk = l.rope() ? c.attentionChunkSize() : 0;
            phase("attention");
            if (s.pureDecode || hd > 128) {
                ops.attentionDecode(buf.qkv(), buf.attn(), l.kCache(), l.vCache(), options.kvBf16(), kv, nTok,
                        c.nHeads(), c.nKvHeads(), hd, chunk, scale);
            } else {
                ops.attentionPrefill(buf.qkv(), buf.attn(), l.kCache(), l.vCache(), options.kvBf16(), kv, tileStart(),
                        tileLen(), s.nTiles, c.nHeads(), c.nKvHeads(), hd, chunk, scale);
            }
            phase("o_linear");
            ops.linear(l.o(), buf.attn(), buf.h(), nTok, true);
            phase("rmsnorm");
            ops.rmsnorm(buf.h(), l.postNorm(), buf.xn(), nTok, d, c.rmsNormEps(), 0);
            if (l.moe()) {
                // small steps: the shared expert as group nExperts of the same grouped launches (score 1)
                boolean merged = sharedExpertInGroups && l.sharedInStack() && nTok <= SHARED_IN_GROUPS_MAX_TOKENS
                        && ops.usesGemv(l.gateUp(), nTok) && c.nExperts() < CudaOps.MAX_ROUTED_GROUPS;
                int shared = merged ? 1 : 0;
                int nRows = nTok * (k + shared), nGroups = c.nExperts() + shared;
                phase("router_linear_topk");
                ops.router(l.router(), buf.xn(), buf.routerLogits(), k, buf.expertIds(), buf.expertScores(), nTok);
                phase("moe_route_permute");
                ops.moeRoute(buf.expertIds(), nTok, k, shared, c.nExperts(), buf.offsets(), buf.posOfAssign(),
                        buf.assignOfPos());
                boolean permuteFused = ops.fusedQuantize() && l.expertsGateUp().format().quantized();
                if (permuteFused) {
                    ops.moePermuteQuantized(buf.xn(), buf.assignOfPos(), buf.expertScores(), nRows, k, shared, d,
                            l.expertsGateUp().format());
                } else {
                    ops.moePermute(buf.xn(), buf.assignOfPos(), buf.expertScores(), buf.xPerm(), nRows, k, shared, d);
                }
                boolean wide = !merged && nAssign > 4 * c.nExperts();
                phase("experts_linear");
                ops.linearGrouped(l.expertsGateUp(), nGroups, buf.xPerm(), buf.hidden(), buf.offsets(), nRows, nTok,
                        wide, false, permuteFused);
                phase("silu_mul");
                boolean expertsFused = ops.fusedQuantize() && l.expertsDown().format().quantized();
                siluMulFor(l.expertsDown(), nRows, c.dFf(), expertsFused);
                phase("experts_linear");
                ops.linearGrouped(l.expertsDown(), nGroups, buf.act(), buf.yPerm(), buf.offsets(), nRows, nTok, wide,
                        false, expertsFused);
                phase("moe_unpermute_add");
                ops.moeUnpermuteAdd(buf.yPerm(), buf.posOfAssign(), buf.h(), nTok, k, shared, d);
                if (!merged) mlp("shared_expert_linear", l.gateUp(), l.down(), c.dFf(), nTok);
            } else {
                mlp("dense_mlp_linear", l.gateUp(), l.down(), c.dFfMlp(), nTok);
            }
        }
    }

    /** h += down · (silu(gate) · up)(xn) for nTok rows: the shared expert or a dense layer's MLP. */
    private void mlp(String phaseName, DeviceMatrix gateUp, DeviceMatrix down, int f, int nTok) {
        phase(phaseName);
        ops.linear(gateUp, buf.xn(), buf.hidden(), nTok, false);
        phase("silu_mul");
        boolean fused = ops.fusedQuantize() && ops.quantizedGemv(down, nTok);
        siluMulFor(down, nTok, f, fused);
        phase(phaseName);
        ops.linear(down, buf.act(), buf.h(), nTok, true, fused);
    }
}

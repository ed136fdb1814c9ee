package io.herd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.compute.cpu.FmaPeak;
import io.herd.compute.cpu.MemoryBandwidth;
import io.herd.model.CpuForwardPass;
import io.herd.model.ForwardPass;
import io.herd.model.KvBlockCounts;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.vision.Llama4VisionConfig;
import io.herd.model.vision.Llama4VisionConfigParser;
import io.herd.model.WeightQuantization;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code herd bench}: the CPU engine on random weights of real Llama 4 dimensions (no checkpoint needed). Builds the
 * model off-heap, runs a batched prefill and then decode steps through {@link CpuForwardPass}, and reports
 * throughput, resident memory, the weight bytes each decoded token reads (counted per matmul, routed experts as
 * actually routed) and how much of this machine's measured read bandwidth decode reaches.
 */
public final class BenchCommand {
    private BenchCommand() {}

    /**
     * Most prompt tokens of the untimed warm-up, which otherwise takes the whole prompt: the routed experts must see
     * as many tokens each as in the timed prefill, or a kernel for that count is still compiled by the JIT while it
     * is timed (a 40-token warm-up left the Q8 experts' four-token tile to the timed run: prefill 20-30% low).
     */
    static final int WARM_UP_TOKENS = 256;
    /** Most untimed decode steps after the warm-up prefill, so the one-token kernels are compiled too. */
    static final int WARM_UP_DECODE_STEPS = 8;

    /**
     * Decode steps the warm-up takes after its prefill of {@code min(promptLen, WARM_UP_TOKENS)} tokens, as many as
     * the KV cache sized for the timed run (promptLen + genLen positions) holds. Without them the timed decode
     * compiled the routed experts' one-token kernel: its first call took 0.3-0.6 s.
     */
    static int warmUpDecodeSteps(int promptLen, int genLen) {
        return Math.clamp(promptLen + genLen - warmUpPromptLength(promptLen), 0, WARM_UP_DECODE_STEPS);
    }

    /** Tokens of each sequence's warm-up prefill. */
    static int warmUpPromptLength(int promptLen) {
        return Math.min(promptLen, WARM_UP_TOKENS);
    }

    /** Seed of the random weights; the GGUF export for the llama.cpp anchor draws the same streams from it. */
    static final long WEIGHT_SEED = 42;
    /** Seed of the random prompts, shared with the llama.cpp anchor so both engines see the same token ids. */
    static final long PROMPT_SEED = 7;

    static final String USAGE = """
            usage: herd bench --shape scout|maverick|CONFIG.json [--layers N] [--prompt-len N] [--gen-len N]
                              [--batch N] [--quant none|q8] [--q8-group N] [--precision f32|bf16]
                              [--bandwidth-mb N (buffer of the read-bandwidth pass, default 1024)] [--json]
                              [--profile (time, GFLOP/s and GB/s per matrix shape and token count)]
                              [--vision-tiles N (image tiles through the vision tower; scout/maverick: 1, 0 = off)]
                              [--vision-layers N (first N of the tower's layers)]
                              [--anchor llamacpp [--rounds N] [--gguf-dir DIR] [--keep-gguf] [--mmap] [--out FILE]]
                   (--anchor: llama.cpp on the same weights, exported as GGUF, measured in the same run)
                   herd bench --kernels [--json]     matmul GB/s and GFLOP/s per dtype next to the read bandwidth
            """;

    /** Parsed command line. */
    record Options(String shape, Integer layers, int promptLen, int genLen, int batch, WeightQuantization quant,
                   int q8Group, Precision precision, boolean json, boolean kernels, int bandwidthMb, boolean profile,
                   int visionTiles, Integer visionLayers) {

        static Options parse(String[] args) {
            String shape = null;
            Integer layers = null;
            int promptLen = 128, genLen = 32, batch = 1, q8Group = Llama4Weights.Q8_GROUP_SIZE, bandwidthMb = 1024;
            WeightQuantization quant = WeightQuantization.NONE;
            Precision precision = Precision.BF16;
            boolean json = false, kernels = false, profile = false;
            Integer visionTiles = null, visionLayers = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--shape" -> shape = CliArgs.value(args, ++i, a);
                    case "--layers" -> layers = positive(CliArgs.value(args, ++i, a), a);
                    case "--prompt-len" -> promptLen = positive(CliArgs.value(args, ++i, a), a);
                    case "--gen-len" -> genLen = positive(CliArgs.value(args, ++i, a), a);
                    case "--batch" -> batch = positive(CliArgs.value(args, ++i, a), a);
                    case "--quant" -> quant = WeightQuantization.parse(CliArgs.value(args, ++i, a));
                    case "--q8-group" -> q8Group = nonNegative(CliArgs.value(args, ++i, a), a);
                    case "--precision" -> precision = switch (CliArgs.value(args, ++i, a).toLowerCase(Locale.ROOT)) {
                        case "f32" -> Precision.F32;
                        case "bf16" -> Precision.BF16;
                        default -> throw new IllegalArgumentException("--precision must be f32 or bf16, got " + args[i]);
                    };
                    case "--bandwidth-mb" -> bandwidthMb = positive(CliArgs.value(args, ++i, a), a);
                    case "--json" -> json = true;
                    case "--kernels" -> kernels = true;
                    case "--profile" -> profile = true;
                    case "--vision-tiles" -> visionTiles = nonNegative(CliArgs.value(args, ++i, a), a);
                    case "--vision-layers" -> visionLayers = positive(CliArgs.value(args, ++i, a), a);
                    default -> throw new IllegalArgumentException("unknown option '" + a + "'\n" + USAGE);
                }
            }
            if (shape == null && !kernels) throw new IllegalArgumentException("--shape is required\n" + USAGE);
            if (visionTiles == null) visionTiles = "scout".equals(shape) || "maverick".equals(shape) ? 1 : 0;
            return new Options(shape, layers, promptLen, genLen, batch, quant, q8Group, precision, json, kernels, bandwidthMb,
                    profile, visionTiles, visionLayers);
        }


        static int positive(String s, String option) {
            int v = nonNegative(s, option);
            if (v == 0) throw new IllegalArgumentException(option + " must be positive");
            return v;
        }

        private static int nonNegative(String s, String option) {
            try {
                int v = Integer.parseInt(s);
                if (v < 0) throw new IllegalArgumentException(option + " must not be negative, got " + s);
                return v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " needs a number, got '" + s + "'");
            }
        }
    }

    static int run(String[] args) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.print(USAGE);
            return 0;
        }
        if (List.of(args).contains("--anchor")) return AnchorBench.run(args);
        Options o = Options.parse(args);
        Map<String, Object> result = o.kernels() ? KernelBench.run(CpuThreadPool.shared()) : runModel(o);
        print(result, o.json());
        return 0;
    }

    /** The config of --shape, cut to the first --layers layers (the per-layer MoE/RoPE schedule kept as it is). */
    static Llama4Config config(String shape, Integer layers) {
        Llama4Config full = switch (shape) {
            case "scout" -> Llama4Config.scout();
            case "maverick" -> Llama4Config.maverick();
            default -> Llama4ConfigParser.parse(Path.of(shape));
        };
        int n = layers == null ? full.nLayers() : layers;
        if (n > full.nLayers())
            throw new IllegalArgumentException("--layers " + n + " exceeds the " + full.nLayers() + " layers of " + shape);
        return new Llama4Config(full.dModel(), n, full.nHeads(), full.nKvHeads(), full.headDim(), full.dFf(),
                full.dFfMlp(), full.nExperts(), full.nExpertsPerTok(), Arrays.copyOf(full.moeLayers(), n),
                Arrays.copyOf(full.ropeLayers(), n), full.useQkNorm(), full.attentionChunkSize(),
                full.attnTemperatureTuning(), full.floorScale(), full.attnScale(), full.rmsNormEps(), full.ropeTheta(),
                full.ropeScaling(), full.vocabSize(), full.maxPositionEmbeddings(), full.bosTokenId(),
                full.eosTokenIds(), full.padTokenId());
    }

    /** The published tower for scout/maverick, else the vision_config of CONFIG.json; cut to --vision-layers. */
    static Llama4VisionConfig visionConfig(Options o) {
        Llama4VisionConfig full = "scout".equals(o.shape()) || "maverick".equals(o.shape()) ? Llama4VisionConfig.published()
                : Llama4VisionConfigParser.parse(Path.of(o.shape())).orElseThrow(() ->
                        new IllegalArgumentException(o.shape() + " has no vision_config; use --vision-tiles 0"));
        int n = o.visionLayers() == null ? full.nLayers() : o.visionLayers();
        if (n > full.nLayers())
            throw new IllegalArgumentException("--vision-layers " + n + " exceeds the tower's " + full.nLayers() + " layers");
        return new Llama4VisionConfig(full.hiddenSize(), n, full.nHeads(), full.intermediateSize(), full.imageSize(),
                full.patchSize(), full.pixelShuffleRatio(), full.visionOutputDim(), full.ropeTheta(), full.textHiddenSize(),
                full.imageTokenId());
    }

    /** The prompt of each of the batch's sequences: uniform token ids from {@link #PROMPT_SEED}. */
    static List<int[]> prompts(Options o, Llama4Config config) {
        SplittableRandom rnd = new SplittableRandom(PROMPT_SEED);
        List<int[]> prompts = new ArrayList<>();
        for (int s = 0; s < o.batch(); s++) prompts.add(rnd.ints(o.promptLen(), 0, config.vocabSize()).toArray());
        return prompts;
    }

    static Map<String, Object> runModel(Options o) {
        Llama4Config config = config(o.shape(), o.layers());
        CpuThreadPool pool = CpuThreadPool.shared();
        long weightBytes = RandomWeights.residentBytes(config, o.quant(), o.q8Group());
        long available = SystemInfo.memAvailableBytes();
        if (available > 0 && weightBytes > available * 0.9)
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%d layers of %s need %.1f GB of weights but only %.1f GB of memory is available; use --layers",
                    config.nLayers(), o.shape(), weightBytes / 1e9, available / 1e9));

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("shape", o.shape());
        r.put("layers", config.nLayers());
        r.put("experts", config.nExperts());
        r.put("quant", o.quant().name().toLowerCase(Locale.ROOT));
        if (o.quant() == WeightQuantization.Q8) r.put("q8Group", o.q8Group());
        r.put("precision", o.precision().name().toLowerCase(Locale.ROOT));
        r.put("batch", o.batch());
        r.put("promptLen", o.promptLen());
        r.put("genLen", o.genLen());
        r.putAll(SystemInfo.describe(pool));

        CountingMatrix.Counters counters = new CountingMatrix.Counters(o.profile());
        int maxPositions = o.promptLen() + o.genLen();
        int blockSize = 16;
        int blocksPerSeq = Math.ceilDiv(maxPositions, blockSize);
        KvBlockCounts kv = new KvBlockCounts(blockSize, o.batch() * blocksPerSeq, o.batch() * blocksPerSeq);
        // Owner: this method; weights and KV are freed when the run ends.
        try (Arena arena = Arena.ofShared()) {
            long t0 = System.nanoTime();
            Llama4Weights weights = new RandomWeights(arena, o.quant(), o.q8Group(), pool, WEIGHT_SEED, counters).build(config);
            r.put("buildSeconds", round((System.nanoTime() - t0) / 1e9));
            r.put("weightBytes", weightBytes);
            try (CpuForwardPass forward = new CpuForwardPass(weights, kv, o.precision())) {
                List<int[]> prompts = prompts(o, config);

                // Warm-up so the JIT has compiled every kernel the timed run takes before anything is timed.
                Batch warm = new Batch(forward, o.batch(), blocksPerSeq, blockSize);
                int warmLength = warmUpPromptLength(o.promptLen());
                int[][] next = warm.prefill(prompts.stream().map(p -> Arrays.copyOf(p, warmLength)).toList());
                for (int step = 0; step < warmUpDecodeSteps(o.promptLen(), o.genLen()); step++) next = warm.decode(next);

                Batch run = new Batch(forward, o.batch(), blocksPerSeq, blockSize);
                counters.reset();
                long p0 = System.nanoTime();
                next = run.prefill(prompts);
                double prefillSeconds = (System.nanoTime() - p0) / 1e9;
                double prefillMatmulSeconds = counters.nanos().sum() / 1e9;
                long prefillFlops = counters.flops().sum(), prefillBytes = counters.bytes().sum();
                List<Map<String, Object>> prefillProfile = counters.profile();
                int[] generated = new int[o.genLen() + 1]; // sequence 0's greedy tokens, to set beside another engine's
                generated[0] = next[0][0];
                counters.reset();
                long d0 = System.nanoTime();
                for (int step = 0; step < o.genLen(); step++) {
                    next = run.decode(next);
                    generated[step + 1] = next[0][0];
                }
                double decodeSeconds = (System.nanoTime() - d0) / 1e9;
                long decodeBytes = counters.bytes().sum();
                double matmulSeconds = counters.nanos().sum() / 1e9;
                List<Map<String, Object>> decodeProfile = counters.profile();

                double prefillTps = (double) o.batch() * o.promptLen() / prefillSeconds;
                double decodeTps = (double) o.batch() * o.genLen() / decodeSeconds;
                double bytesPerToken = (double) decodeBytes / ((double) o.batch() * o.genLen());
                double decodeGBps = decodeBytes / decodeSeconds / 1e9;
                r.put("prefillSeconds", round(prefillSeconds));
                r.put("prefillTokensPerSecond", round(prefillTps));
                // Prefill is compute-bound when its matmuls run near the FMA rate while reading far below bandwidth.
                r.put("prefillMatmulFlops", prefillFlops);
                r.put("prefillMatmulFractionOfTime", round(prefillMatmulSeconds / prefillSeconds));
                r.put("prefillMatmulGflops", round(prefillFlops / prefillMatmulSeconds / 1e9));
                r.put("prefillWeightGBps", round(prefillBytes / prefillSeconds / 1e9));
                r.put("decodeSeconds", round(decodeSeconds));
                r.put("decodeTokensPerSecond", round(decodeTps));
                r.put("decodeMsPerStep", round(decodeSeconds * 1e3 / o.genLen()));
                r.put("weightBytesPerDecodedToken", Math.round(bytesPerToken));
                r.put("decodeWeightGBps", round(decodeGBps));
                // Time inside matmuls alone: separates kernel speed from the rest of the step (attention, routing).
                r.put("decodeMatmulFractionOfTime", round(matmulSeconds / decodeSeconds));
                r.put("decodeMatmulGBps", round(decodeBytes / matmulSeconds / 1e9));
                r.put("rssBytes", SystemInfo.rssBytes());
                r.put("peakRssBytes", SystemInfo.peakRssBytes());
                r.put("generatedTokens", generated);
                if (o.profile()) {
                    r.put("prefillMatmuls", prefillProfile);
                    r.put("decodeMatmuls", decodeProfile);
                }
            }
            MemoryBandwidth.Measurement measured = MemoryBandwidth.measure((long) o.bandwidthMb() << 20, 8, pool);
            double bandwidth = measured.bestGBps();
            r.put("readBandwidthGBps", round(bandwidth));
            r.put("readBandwidthMeanGBps", round(measured.meanGBps()));
            r.put("decodeFractionOfBandwidth", round((Double) r.get("decodeWeightGBps") / bandwidth));
            r.put("decodeMatmulFractionOfBandwidth", round((Double) r.get("decodeMatmulGBps") / bandwidth));
            double peakGflops = FmaPeak.measureGflops(pool, 4_000_000L, 12);
            r.put("fmaPeakGflops", round(peakGflops));
            r.put("prefillMatmulFractionOfPeak", round((Double) r.get("prefillMatmulGflops") / peakGflops));
            r.put("prefillFractionOfBandwidth", round((Double) r.get("prefillWeightGBps") / bandwidth));
        }
        // The tower after the text model's weights are freed, so the two never need memory at once.
        if (o.visionTiles() > 0) r.putAll(VisionBench.run(visionConfig(o), o.visionTiles(), pool));
        r.put("loadAverageAfter", SystemInfo.loadAverage());
        return r;
    }

    /** B sequences side by side, each with its own consecutive run of blocks in both KV groups. */
    private static final class Batch {
        private final ForwardPass forward;
        private final int[] positions;
        private final int blocksPerSeq, blockSize;

        Batch(ForwardPass forward, int nSeqs, int blocksPerSeq, int blockSize) {
            this.forward = forward;
            this.positions = new int[nSeqs];
            this.blocksPerSeq = blocksPerSeq;
            this.blockSize = blockSize;
        }

        int[][] prefill(List<int[]> prompts) {
            return step(prompts.toArray(int[][]::new));
        }

        int[][] decode(int[][] tokens) {
            return step(tokens);
        }

        /** Appends tokens[s] to sequence s and returns each sequence's greedy next token. */
        private int[][] step(int[][] tokens) {
            List<ForwardPass.SequenceChunk> chunks = new ArrayList<>(tokens.length);
            for (int s = 0; s < tokens.length; s++) {
                int end = positions[s] + tokens[s].length;
                int nLogical = Math.ceilDiv(end, blockSize);
                if (nLogical > blocksPerSeq) throw new IllegalStateException("sequence " + s + " outgrew its blocks");
                int[] table = new int[nLogical];
                for (int b = 0; b < nLogical; b++) table[b] = s * blocksPerSeq + b;
                chunks.add(new ForwardPass.SequenceChunk(tokens[s], positions[s], new ForwardPass.BlockTable(table, table), 1));
            }
            List<float[]> logits = forward.forward(chunks);
            int[][] next = new int[tokens.length][];
            for (int s = 0; s < tokens.length; s++) {
                positions[s] += tokens[s].length;
                next[s] = new int[]{argmax(logits.get(s))};
            }
            return next;
        }

        private static int argmax(float[] a) {
            int best = 0;
            for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
            return best;
        }
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    static void print(Map<String, Object> result, boolean json) {
        if (json) {
            try {
                System.out.println(new ObjectMapper().writeValueAsString(result));
            } catch (IOException e) {
                throw new IllegalStateException("cannot write benchmark JSON", e);
            }
            return;
        }
        for (Map.Entry<String, Object> e : result.entrySet()) {
            Object v = e.getValue();
            if (v instanceof List<?> rows) {
                System.out.println(e.getKey() + ":");
                for (Object row : rows) System.out.println("  " + row);
            } else {
                System.out.printf(Locale.ROOT, "%-28s %s%n", e.getKey(), v instanceof int[] ids ? Arrays.toString(ids) : v);
            }
        }
    }
}

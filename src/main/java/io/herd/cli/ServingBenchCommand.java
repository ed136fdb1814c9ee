package io.herd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.compute.DType;
import io.herd.engine.EngineConfig;
import io.herd.engine.EngineCore;
import io.herd.engine.EngineRequest;
import io.herd.engine.EngineStats;
import io.herd.engine.RequestSink;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.CpuForwardPass;
import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4TensorNames;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.RandomLlama4Checkpoint;
import io.herd.model.WeightQuantization;
import io.herd.model.sampling.SamplingParams;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.runner.KvCacheSizing;
import io.herd.runner.ModelRunner;
import io.herd.weights.SafetensorsCheckpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code ./herd bench --serving}: end-to-end serving scenarios against {@link EngineCore} on a random-weight model
 * (the CPU forward pass, F32): aggregate decode throughput at several concurrencies, time to first token with a
 * shared system prompt (cold vs warm prefix cache), and a burst of requests (none lost, TTFT and inter-token latency
 * percentiles). Prints a summary and writes JSON to {@code bench/results/}. Measures; never asserts correctness.
 */
public final class ServingBenchCommand {

    private record Options(Path configFile, int threads, List<Integer> concurrencies, int promptTokens, int decodeTokens,
                           int systemPromptTokens, int burst, long kvBytes, Path out) {}

    private ServingBenchCommand() {}

    public static int run(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("herd bench: " + e.getMessage());
            System.err.println(usage());
            return 2;
        }
        Llama4Config config = o.configFile() != null ? Llama4ConfigParser.parse(o.configFile()) : benchConfig();
        Path dir = Files.createTempDirectory("herd-bench-model");
        try {
            RandomLlama4Checkpoint.write(dir, config, DType.F32, 42, Llama4TensorNames.CAUSAL_LM, 1);
            try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
                Llama4Weights weights = Llama4Weights.load(checkpoint, config, WeightQuantization.NONE);
                return runScenarios(o, config, weights);
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static String usage() {
        return """
                usage: ./herd bench --serving [--config config.json] [--threads N] [--concurrency 1,4,16,64]
                                    [--prompt-tokens 32] [--decode-tokens 32] [--system-prompt 2000] [--burst 200]
                                    [--kv-bytes BYTES] [--out FILE.json]
                  Without --config: a random-weight Llama 4 of 4 layers (3 RoPE + 1 NoPE), dModel 128, 4 experts.""";
    }

    private static Options parse(String[] args) {
        Path config = null;
        int threads = 2;
        List<Integer> conc = List.of(1, 4, 16, 64);
        int prompt = 32;
        int decode = 32;
        int system = 2000;
        int burst = 200;
        long kvBytes = 256L << 20;
        Path out = null;
        boolean serving = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--serving" -> serving = true;
                case "--config" -> config = Path.of(CliArgs.value(args, ++i, a));
                case "--threads" -> threads = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--concurrency" -> conc = Arrays.stream(CliArgs.value(args, ++i, a).split(",")).map(Integer::parseInt).toList();
                case "--prompt-tokens" -> prompt = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--decode-tokens" -> decode = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--system-prompt" -> system = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--burst" -> burst = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--kv-bytes" -> kvBytes = Long.parseLong(CliArgs.value(args, ++i, a));
                case "--out" -> out = Path.of(CliArgs.value(args, ++i, a));
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (!serving) throw new IllegalArgumentException("this build only has the serving benchmark: pass --serving");
        return new Options(config, threads, conc, prompt, decode, system, burst, kvBytes, out);
    }


    /** Small enough for a laptop core, shaped like Scout: 3 RoPE (chunked) layers per NoPE layer, MoE top-1. */
    static Llama4Config benchConfig() {
        boolean[] moe = {true, true, true, true};
        boolean[] rope = {true, true, true, false};
        return new Llama4Config(128, 4, 4, 1, 32, 256, 512, 4, 1, moe, rope, true, 8192, true, 8192f, 0.1f,
                1e-5f, 500000f, new Llama4Config.RopeScaling(16f, 1f, 1f, 8192), 2048, 16384, 1, new int[] {2}, 0);
    }

    /** Per-request timing, recorded on the engine thread. */
    private static final class TimedSink implements RequestSink {
        final long submitNanos;
        long firstTokenNanos = -1;
        long lastTokenNanos;
        final List<Long> gaps = new ArrayList<>();
        int nTokens;
        int cachedTokens;
        String error;
        FinishReason finish;
        final CountDownLatch done = new CountDownLatch(1);

        TimedSink(long submitNanos) { this.submitNanos = submitNanos; }

        @Override public void onStarted(int promptTokens, int cachedTokens) { this.cachedTokens = cachedTokens; }

        @Override
        public void onToken(int tokenId, TokenLogprobs logprobs) {
            long now = System.nanoTime();
            if (firstTokenNanos < 0) firstTokenNanos = now;
            else gaps.add(now - lastTokenNanos);
            lastTokenNanos = now;
            nTokens++;
        }

        @Override public void onFinished(FinishReason reason) { finish = reason; done.countDown(); }

        @Override public void onError(String code, String message) { error = code + ": " + message; done.countDown(); }

        double ttftMs() { return (firstTokenNanos - submitNanos) / 1e6; }
    }

    private static int runScenarios(Options o, Llama4Config config, Llama4Weights weights) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("benchmark", "serving");
        root.put("time", Instant.now().toString());
        root.put("commit", SystemInfo.gitCommit());
        root.put("jdk", System.getProperty("java.vm.name") + " " + Runtime.version());
        root.put("backend", "cpu forward pass, F32, " + o.threads() + " attention threads");
        root.put("device", SystemInfo.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " processors visible");
        root.put("load_average_at_start", SystemInfo.loadAverages());
        root.put("model", "random weights: dModel " + config.dModel() + ", " + config.nLayers() + " layers ("
                + config.nRopeLayers() + " RoPE/" + config.nNopeLayers() + " NoPE), " + config.nExperts() + " experts top-"
                + config.nExpertsPerTok() + ", vocab " + config.vocabSize());
        SplittableRandom rnd = new SplittableRandom(7);

        // Warm-up, not reported: lets the JIT compile the step loop and kernels before anything is timed.
        try (Bench b = new Bench(o, config, weights, 64)) {
            List<TimedSink> sinks = new ArrayList<>();
            for (int i = 0; i < 8; i++) sinks.add(b.submit("w" + i, randomTokens(rnd, o.promptTokens(), config), 16));
            awaitAll(sinks);
        }

        ArrayNode decode = root.putArray("decode_throughput");
        for (int n : o.concurrencies()) {
            try (Bench b = new Bench(o, config, weights, Math.max(64, n))) {
                List<TimedSink> sinks = new ArrayList<>();
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) sinks.add(b.submit("d" + i, randomTokens(rnd, o.promptTokens(), config), o.decodeTokens()));
                awaitAll(sinks);
                long end = System.nanoTime();
                long allStarted = sinks.stream().mapToLong(s -> s.firstTokenNanos).max().orElseThrow();
                long firstDone = sinks.stream().mapToLong(s -> s.lastTokenNanos).min().orElseThrow();
                long inWindow = countTokensBetween(sinks, allStarted, firstDone);
                double steady = firstDone > allStarted ? inWindow / ((firstDone - allStarted) / 1e9) : Double.NaN;
                long total = sinks.stream().mapToLong(s -> s.nTokens).sum();
                double endToEnd = total / ((end - start) / 1e9);
                ObjectNode row = decode.addObject();
                row.put("concurrency", n);
                row.put("generated_tokens", total);
                row.put("end_to_end_tokens_per_s", round(endToEnd));
                row.put("steady_decode_tokens_per_s", round(steady));
                row.put("steps", b.engine.steps());
                System.out.printf("decode  concurrency %3d: %7.1f tok/s steady decode, %7.1f tok/s end to end (%d tokens, %d steps)%n",
                        n, steady, endToEnd, total, b.engine.steps());
            }
        }

        try (Bench b = new Bench(o, config, weights, 64)) {
            int[] system = randomTokens(rnd, o.systemPromptTokens(), config);
            ObjectNode prefix = root.putObject("shared_system_prompt_ttft");
            prefix.put("system_prompt_tokens", o.systemPromptTokens());
            TimedSink cold = b.submit("cold", concat(system, randomTokens(rnd, 20, config)), 4);
            awaitAll(List.of(cold));
            List<Double> warm = new ArrayList<>();
            int warmCached = 0;
            for (int i = 0; i < 3; i++) {
                TimedSink w = b.submit("warm" + i, concat(system, randomTokens(rnd, 20, config)), 4);
                awaitAll(List.of(w));
                warm.add(w.ttftMs());
                warmCached = w.cachedTokens;
            }
            warm.sort(null);
            prefix.put("cold_ttft_ms", round(cold.ttftMs()));
            prefix.put("warm_ttft_ms_median_of_3", round(warm.get(1)));
            prefix.put("warm_cached_tokens", warmCached);
            System.out.printf("prefix  %d-token system prompt: TTFT cold %.1f ms, warm %.1f ms (median of 3, %d tokens from cache)%n",
                    o.systemPromptTokens(), cold.ttftMs(), warm.get(1), warmCached);
        }

        try (Bench b = new Bench(o, config, weights, o.burst())) {
            List<TimedSink> sinks = new ArrayList<>();
            long start = System.nanoTime();
            int refused = 0;
            for (int i = 0; i < o.burst(); i++) {
                TimedSink s = b.trySubmit("b" + i, randomTokens(rnd, 16 + rnd.nextInt(49), config), 16);
                if (s == null) refused++;
                else sinks.add(s);
            }
            awaitAll(sinks);
            double wallS = (System.nanoTime() - start) / 1e9;
            long completed = sinks.stream().filter(s -> s.finish == RequestSink.FinishReason.LENGTH && s.nTokens == 16).count();
            long failed = sinks.stream().filter(s -> s.error != null).count();
            double[] ttft = sinks.stream().filter(s -> s.firstTokenNanos > 0).mapToDouble(TimedSink::ttftMs).sorted().toArray();
            double[] itl = sinks.stream().flatMap(s -> s.gaps.stream()).mapToDouble(g -> g / 1e6).sorted().toArray();
            ObjectNode burst = root.putObject("burst");
            burst.put("requests", o.burst());
            burst.put("refused_by_admission_queue", refused);
            burst.put("completed", completed);
            burst.put("failed", failed);
            burst.put("wall_s", round(wallS));
            burst.put("ttft_ms_p50", round(LatencySummary.percentile(ttft, 50)));
            burst.put("ttft_ms_p99", round(LatencySummary.percentile(ttft, 99)));
            burst.put("itl_ms_p50", round(LatencySummary.percentile(itl, 50)));
            burst.put("itl_ms_p99", round(LatencySummary.percentile(itl, 99)));
            EngineStats st = b.engine.stats();
            burst.put("preemptions", st.preemptions());
            System.out.printf("burst   %d requests: %d completed, %d failed, %d refused, %.1f s; TTFT p50 %.0f ms p99 %.0f ms;"
                            + " ITL p50 %.1f ms p99 %.1f ms%n", o.burst(), completed, failed, refused, wallS,
                    LatencySummary.percentile(ttft, 50), LatencySummary.percentile(ttft, 99), LatencySummary.percentile(itl, 50), LatencySummary.percentile(itl, 99));
        }

        Path out = o.out() != null ? o.out()
                : Path.of("bench/results/serving-" + Instant.now().toString().replace(':', '-') + ".json");
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        System.out.println("wrote " + out);
        return 0;
    }

    /** One engine over a fresh KV pool (so scenarios do not share cache state). */
    private static final class Bench implements AutoCloseable {
        final CpuForwardPass forwardPass;
        final EngineCore engine;

        Bench(Options o, Llama4Config config, Llama4Weights weights, int queueCapacity) {
            int maxLen = Math.min(config.maxPositionEmbeddings(), o.systemPromptTokens() + 512);
            KvCacheConfig kv = KvCacheConfig.ofBytes(o.kvBytes());
            ForwardPass.KvCacheSpec spec = KvCacheSizing.plan(config, Float.BYTES, kv, maxLen);
            forwardPass = new CpuForwardPass(weights, KvCacheSizing.blocks(spec), Precision.F32, o.threads());
            EngineConfig ec = EngineConfig.defaults(kv, maxLen, "bench-random").withMaxNumSeqs(64)
                    .withQueueCapacity(queueCapacity).withMaxNumBatchedTokens(512);
            engine = new EngineCore(ec, new ModelRunner(forwardPass));
        }

        TimedSink submit(String id, int[] prompt, int maxTokens) {
            TimedSink s = trySubmit(id, prompt, maxTokens);
            if (s == null) throw new IllegalStateException("admission queue full for " + id);
            return s;
        }

        TimedSink trySubmit(String id, int[] prompt, int maxTokens) {
            TimedSink s = new TimedSink(System.nanoTime());
            boolean ok = engine.submit(new EngineRequest(id, prompt, SamplingParams.greedy(maxTokens), 0, Long.MAX_VALUE, null), s);
            return ok ? s : null;
        }

        @Override
        public void close() {
            engine.close();
            forwardPass.close();
        }
    }

    private static long countTokensBetween(List<TimedSink> sinks, long from, long to) {
        // Reconstruct token times from the first token and the gaps.
        long n = 0;
        for (TimedSink s : sinks) {
            long t = s.firstTokenNanos;
            if (t > from && t <= to) n++;
            for (long g : s.gaps) {
                t += g;
                if (t > from && t <= to) n++;
            }
        }
        return n;
    }

    private static void awaitAll(List<TimedSink> sinks) throws InterruptedException {
        for (TimedSink s : sinks) {
            if (!s.done.await(30, TimeUnit.MINUTES)) throw new IllegalStateException("request did not finish in 30 min");
        }
    }

    private static double round(double v) { return Math.round(v * 10) / 10.0; }

    private static int[] randomTokens(SplittableRandom rnd, int n, Llama4Config c) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + rnd.nextInt(c.vocabSize() - 3);
        return t;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

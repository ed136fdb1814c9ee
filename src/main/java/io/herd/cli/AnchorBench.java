package io.herd.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.compute.GgmlType;
import io.herd.cli.gguf.GgufWriter;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.model.Llama4Config;
import io.herd.model.WeightQuantization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * {@code herd bench ... --anchor llamacpp}: the engine benchmark next to llama.cpp on identical weights, in one run.
 * Exports the bench model to a GGUF ({@link BenchGguf}: same seed, same values; BF16, or Q8_0 with {@code --quant
 * q8}), has the prebuilt llama.cpp of node-llama-cpp ({@code bench/llamacpp}, CPU backend, as many threads as Herd's
 * pool) time the same prompt and generation length, deletes the GGUF, then runs Herd's own bench; {@code --rounds N}
 * alternates the two N times and compares each engine's best. Both go side by side into one JSON in
 * {@code bench/results/} with commit, JDK, machine and model shape. Measures only.
 */
final class AnchorBench {
    private AnchorBench() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    record AnchorOptions(Path ggufDir, boolean keepGguf, boolean mmap, Path llamaCppDir, Path out, int rounds,
                         BenchCommand.Options bench) {

        static AnchorOptions parse(String[] args) {
            Path ggufDir = Path.of(System.getProperty("java.io.tmpdir"));
            Path llamaCppDir = Path.of("bench/llamacpp");
            Path out = null;
            boolean keep = false, mmap = false;
            int rounds = 1;
            List<String> rest = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--anchor" -> {
                        String engine = CliArgs.value(args, ++i, "--anchor");
                        if (!engine.equals("llamacpp"))
                            throw new IllegalArgumentException("--anchor supports llamacpp, got '" + engine + "'");
                    }
                    case "--gguf-dir" -> ggufDir = Path.of(CliArgs.value(args, ++i, "--gguf-dir"));
                    case "--llamacpp-dir" -> llamaCppDir = Path.of(CliArgs.value(args, ++i, "--llamacpp-dir"));
                    case "--out" -> out = Path.of(CliArgs.value(args, ++i, "--out"));
                    case "--keep-gguf" -> keep = true;
                    case "--mmap" -> mmap = true;
                    case "--rounds" -> rounds = BenchCommand.Options.positive(CliArgs.value(args, ++i, "--rounds"), "--rounds");
                    default -> rest.add(args[i]);
                }
            }
            // llama.cpp has no Llama 4 vision tower to set beside ours: the text model only, unless asked.
            if (!rest.contains("--vision-tiles")) rest.addAll(List.of("--vision-tiles", "0"));
            BenchCommand.Options bench = BenchCommand.Options.parse(rest.toArray(String[]::new));
            if (bench.kernels()) throw new IllegalArgumentException("--anchor compares models; it does not take --kernels");
            if (bench.batch() != 1)
                throw new IllegalArgumentException("--anchor runs one sequence in both engines; drop --batch " + bench.batch());
            return new AnchorOptions(ggufDir, keep, mmap, llamaCppDir, out, rounds, bench);
        }

    }

    static int run(String[] args) {
        AnchorOptions a = AnchorOptions.parse(args);
        BenchCommand.Options o = a.bench();
        Llama4Config config = BenchCommand.config(o.shape(), o.layers());
        String refusal = BenchGguf.llamaCppRefusal(config);
        if (refusal != null) throw new IllegalArgumentException(refusal);
        CpuThreadPool pool = CpuThreadPool.shared();
        Path script = a.llamaCppDir().resolve("bench.mjs");
        if (!Files.isRegularFile(script))
            throw new IllegalArgumentException(script + " not found: run from the project root or pass --llamacpp-dir");
        installNodeLlamaCpp(a.llamaCppDir());

        GgmlType weightType = o.quant() == WeightQuantization.Q8 ? GgmlType.Q8_0 : GgmlType.BF16;
        GgufWriter gguf = BenchGguf.describe(config, weightType, BenchCommand.WEIGHT_SEED, pool);
        long ggufBytes = gguf.fileBytes();
        requireRoom(a.ggufDir(), ggufBytes);

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("benchmark", "anchor");
        r.put("time", Instant.now().toString());
        r.put("commit", SystemInfo.gitCommit());
        r.put("model", String.format(Locale.ROOT, "random weights (seed %d), %s shape: dModel %d, %d layers, %d experts"
                        + " of dFf %d + shared expert, %d/%d heads, vocab %d", BenchCommand.WEIGHT_SEED, o.shape(),
                config.dModel(), config.nLayers(), config.nExperts(), config.dFf(), config.nHeads(), config.nKvHeads(),
                config.vocabSize()));
        r.put("weights", weightType == GgmlType.Q8_0
                ? "same BF16 values; herd q8 (group " + o.q8Group() + ") vs ggml Q8_0 (block 32, f16 scale); embedding and router BF16 in both"
                : "bf16, identical bytes in both engines");
        r.put("promptLen", o.promptLen());
        r.put("genLen", o.genLen());
        r.putAll(SystemInfo.describe(pool));
        r.put("ggufBytes", ggufBytes);
        r.put("ggufType", weightType.name());

        Path file = a.ggufDir().resolve(String.format(Locale.ROOT, "herd-anchor-%s-%dL-%s.gguf",
                Path.of(o.shape()).getFileName().toString().replace(".json", ""), config.nLayers(),
                weightType.name().toLowerCase(Locale.ROOT)));
        // Rounds alternate the engines, so a slow spell of a shared machine (other tenants' memory traffic) lands on
        // both; each engine's best round is compared.
        List<Map<String, Object>> herdRounds = new ArrayList<>(), llamaCppRounds = new ArrayList<>();
        int[] prompt = BenchCommand.prompts(o, config).getFirst();
        for (int round = 0; round < a.rounds(); round++) {
            try {
                long t0 = System.nanoTime();
                gguf.write(file);
                r.put("ggufWriteSeconds", BenchCommand.round((System.nanoTime() - t0) / 1e9));
                long available = SystemInfo.memAvailableBytes();
                if (!a.mmap() && available > 0 && ggufBytes > available * 0.9)
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "llama.cpp would load %.1f GB but only %.1f GB"
                            + " of memory is available; use --layers", ggufBytes / 1e9, available / 1e9));
                llamaCppRounds.add(runLlamaCpp(a, file, prompt, o.genLen(), pool.parallelism()));
            } finally {
                if (!a.keepGguf()) deleteQuietly(file);
            }
            // After llama.cpp has exited and the GGUF is gone, so the two never hold the model in memory at once.
            herdRounds.add(BenchCommand.runModel(o));
        }
        r.put("rounds", a.rounds());
        Map<String, Object> herd = best(herdRounds, "decodeTokensPerSecond");
        Map<String, Object> llamaCpp = best(llamaCppRounds, "decodeTokensPerSecond");
        r.put("herd", herd);
        r.put("llamacpp", llamaCpp);
        if (a.rounds() > 1) {
            r.put("herdRounds", herdRounds);
            r.put("llamacppRounds", llamaCppRounds);
        }
        Map<String, Object> ratio = new LinkedHashMap<>();
        ratio.put("prefill", BenchCommand.round(bestRate(herdRounds, "prefillTokensPerSecond")
                / bestRate(llamaCppRounds, "prefillTokensPerSecond")));
        ratio.put("decode", BenchCommand.round(bestRate(herdRounds, "decodeTokensPerSecond")
                / bestRate(llamaCppRounds, "decodeTokensPerSecond")));
        r.put("herdOverLlamaCpp", ratio);
        // Same weights, same prompt, both greedy: how many leading tokens agree says the GGUF computes Herd's model
        // (rounding differs between the engines, so a near-tie may split them after a while).
        r.put("leadingGreedyTokensInCommon", commonPrefix(herd.get("generatedTokens"), llamaCpp.get("generatedTokens")));
        r.put("loadAverageAfter", SystemInfo.loadAverage());

        Path out = a.out() != null ? a.out()
                : Path.of("bench/results/anchor-" + Instant.now().toString().replace(':', '-') + ".json");
        try {
            String text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r);
            System.out.println(text);
            if (out.getParent() != null) Files.createDirectories(out.getParent());
            Files.writeString(out, text + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": " + e.getMessage(), e);
        }
        System.err.println("wrote " + out);
        return 0;
    }

    private static int commonPrefix(Object herdTokens, Object llamaCppTokens) {
        int[] h = (int[]) herdTokens;
        List<?> l = (List<?>) llamaCppTokens;
        int n = 0;
        while (n < h.length && n < l.size() && ((Number) l.get(n)).intValue() == h[n]) n++;
        return n;
    }

    /** The round with the highest {@code key}. */
    static Map<String, Object> best(List<Map<String, Object>> rounds, String key) {
        return rounds.stream().max(java.util.Comparator.comparingDouble(m -> ((Number) m.get(key)).doubleValue())).orElseThrow();
    }

    /** The highest {@code key} of any round (prefill and decode may peak in different rounds). */
    static double bestRate(List<Map<String, Object>> rounds, String key) {
        return ((Number) best(rounds, key).get(key)).doubleValue();
    }

    /** Installs the pinned node-llama-cpp into the ignored node_modules of {@code dir} the first time. */
    private static void installNodeLlamaCpp(Path dir) {
        if (Files.isRegularFile(dir.resolve("node_modules/node-llama-cpp/package.json"))) return;
        System.err.println("anchor: installing node-llama-cpp into " + dir.resolve("node_modules") + " ...");
        int rc = exec(dir, List.of("npm", "install", "--no-audit", "--no-fund", "--no-package-lock"), null);
        if (rc != 0) throw new IllegalStateException("npm install in " + dir + " failed with exit code " + rc);
    }

    private static Map<String, Object> runLlamaCpp(AnchorOptions a, Path gguf, int[] prompt, int genLen, int threads) {
        List<String> cmd = new ArrayList<>(List.of("node", "bench.mjs", "--model", gguf.toAbsolutePath().toString(),
                "--prompt-tokens", IntStream.of(prompt).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                "--gen-len", Integer.toString(genLen), "--threads", Integer.toString(threads)));
        if (a.mmap()) cmd.add("--mmap");
        StringBuilder stdout = new StringBuilder();
        int rc = exec(a.llamaCppDir(), cmd, stdout);
        String[] lines = stdout.toString().strip().split("\n");
        if (rc != 0 || lines.length == 0 || !lines[lines.length - 1].startsWith("{"))
            throw new IllegalStateException("llama.cpp bench failed (exit code " + rc + "); its output:\n" + stdout);
        try {
            return JSON.readValue(lines[lines.length - 1], new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (IOException e) {
            throw new IllegalStateException("llama.cpp bench printed no JSON result: " + lines[lines.length - 1], e);
        }
    }

    /** Runs a command in {@code dir}; stderr passes through, stdout is captured when {@code stdout} is given. */
    private static int exec(Path dir, List<String> cmd, StringBuilder stdout) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT);
            if (stdout == null) pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
            Process p = pb.start();
            if (stdout != null) stdout.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            return p.waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd.getFirst() + " in " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd.getFirst(), e);
        }
    }

    private static void requireRoom(Path dir, long bytes) {
        try {
            Files.createDirectories(dir);
            long usable = Files.getFileStore(dir).getUsableSpace();
            if (bytes > usable * 0.9)
                throw new IllegalArgumentException(String.format(Locale.ROOT, "the GGUF needs %.1f GB but %s has %.1f GB free;"
                        + " pass --gguf-dir or use --layers", bytes / 1e9, dir, usable / 1e9));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            System.err.println("anchor: could not delete " + file + ": " + e.getMessage());
        }
    }

}

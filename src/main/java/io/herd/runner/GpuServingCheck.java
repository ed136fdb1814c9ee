package io.herd.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.compute.cuda.CudaDevice;
import io.herd.engine.EngineConfig;
import io.herd.engine.EngineCore;
import io.herd.engine.EngineRequest;
import io.herd.engine.RequestSink;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.ffi.CudaAvailability;
import io.herd.model.CpuForwardPass;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.SingleSequence;
import io.herd.model.WeightQuantization;
import io.herd.model.gpu.CudaForwardPass;
import io.herd.model.sampling.SamplingParams;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.weights.SafetensorsCheckpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The serving core on the GPU: {@link EngineCore} and {@link ModelRunner} over {@link CudaForwardPass} on the tiny
 * Scout fixture (attention chunk 8, KV block 4), so the scheduler's real block tables (released chunked blocks,
 * prefix-cache hits, chunked prefill) reach the device kernels. Greedy tokens must equal Hugging Face's for the
 * fixture prompts and the CPU F32 single-sequence engine's for the others. A plain main for GPU machines without
 * Maven: {@code GpuServingCheck FIXTURES_DIR OUT.json}; exit 0 only when every scenario matches.
 */
public final class GpuServingCheck {
    private static final int BLOCK = 4;
    private static final int MAX_POSITIONS = 64;

    private GpuServingCheck() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]).resolve("llama4-tiny-scout");
        Path out = Path.of(args[1]);
        ObjectMapper json = new ObjectMapper();
        ObjectNode report = json.createObjectNode();
        CudaAvailability probe = CudaAvailability.probe();
        report.put("gpu_available", probe.available());
        report.put("probe", probe.reason());
        if (!probe.available()) {
            Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(report));
            System.exit(2);
        }
        Llama4Config config = Llama4ConfigParser.parse(dir.resolve("config.json"));
        Map<String, int[]> prompts = new LinkedHashMap<>();
        Map<String, int[]> expected = new LinkedHashMap<>();
        boolean pass = true;
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            readFixture(json, dir, prompts, expected);
            addSingleSequenceCases(ckpt, config, prompts, expected);
            try (CudaDevice device = CudaDevice.open(0)) {
                report.put("device", device.info().name());
                record Scenario(String name, int tokenBudget, List<List<String>> rounds) {}
                List<String> all = new ArrayList<>(prompts.keySet());
                List<Scenario> scenarios = List.of(
                        new Scenario("each_fixture_case_alone", 64, List.of(List.of("one"), List.of("short"), List.of("long"))),
                        new Scenario("sixteen_concurrent", 64, List.of(all)),
                        new Scenario("chunked_prefill_budget_3", 3, List.of(List.of("long", "short", "extra1", "extra3"))),
                        new Scenario("prefix_cache_hit", 64, List.of(List.of("long"), List.of("long", "extra9"))));
                for (Scenario s : scenarios) {
                    ObjectNode r = report.putObject(s.name());
                    CudaForwardPass.Options options = new CudaForwardPass.Options(null, 32, false, BLOCK, 256, 128,
                            Math.max(64, s.tokenBudget()) + 16, 16, MAX_POSITIONS / BLOCK + 1, 64, true);
                    try (CudaForwardPass gpu = CudaForwardPass.load(device, config, ckpt, options)) {
                        EngineConfig engineConfig = new EngineConfig(new KvCacheConfig(1 << 20, BLOCK, 0), s.tokenBudget(),
                                16, 256, MAX_POSITIONS, "llama4-tiny-scout", true, 0);
                        EngineCore engine = new EngineCore(engineConfig, new ModelRunner(gpu));
                        try {
                            int mismatches = 0, cached = 0;
                            for (List<String> round : s.rounds()) {
                                Map<String, Sink> sinks = new LinkedHashMap<>();
                                for (String name : round) {
                                    Sink sink = new Sink();
                                    sinks.put(name, sink);
                                    engine.submit(new EngineRequest(name + "#" + System.nanoTime(), prompts.get(name),
                                            SamplingParams.greedy(expected.get(name).length), 0, Long.MAX_VALUE, null), sink);
                                }
                                for (Map.Entry<String, Sink> e : sinks.entrySet()) {
                                    Sink sink = e.getValue();
                                    boolean done = sink.done.await(120, TimeUnit.SECONDS);
                                    int[] got = sink.tokens.stream().mapToInt(Integer::intValue).toArray();
                                    cached += sink.cachedTokens;
                                    if (!done || sink.error != null || !Arrays.equals(got, expected.get(e.getKey()))) {
                                        mismatches++;
                                        r.put("mismatch_" + e.getKey(), "got " + Arrays.toString(got) + " expected "
                                                + Arrays.toString(expected.get(e.getKey())) + (sink.error == null ? "" : " error " + sink.error));
                                    }
                                }
                            }
                            r.put("requests", s.rounds().stream().mapToInt(List::size).sum());
                            r.put("mismatches", mismatches);
                            r.put("cached_prompt_tokens", cached);
                            r.put("prefix_cache_hits", engine.stats().prefixCacheHits());
                            boolean ok = mismatches == 0 && (!s.name().equals("prefix_cache_hit") || cached > 0);
                            r.put("pass", ok);
                            pass &= ok;
                        } finally {
                            engine.close();
                        }
                    }
                }
            }
        }
        report.put("pass", pass);
        Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        System.exit(pass ? 0 : 1);
    }

    private static void readFixture(ObjectMapper json, Path dir, Map<String, int[]> prompts, Map<String, int[]> expected)
            throws IOException {
        for (JsonNode c : json.readTree(dir.resolve("expected.json").toFile()).get("cases")) {
            String name = c.get("name").asText();
            JsonNode p = c.get("prompt_ids"), g = c.get("greedy");
            int[] prompt = new int[p.size()], ids = new int[g.size()];
            for (int i = 0; i < prompt.length; i++) prompt[i] = p.get(i).asInt();
            for (int i = 0; i < ids.length; i++) ids[i] = g.get(i).get("id").asInt();
            prompts.put(name, prompt);
            expected.put(name, ids);
        }
    }

    /** Thirteen more prompts (some sharing the long case's first 20 tokens) with CPU F32 greedy as their oracle. */
    private static void addSingleSequenceCases(SafetensorsCheckpoint ckpt, Llama4Config config,
                                               Map<String, int[]> prompts, Map<String, int[]> expected) {
        Llama4Weights weights = Llama4Weights.load(ckpt, config, WeightQuantization.NONE);
        try (CpuForwardPass cpu = new CpuForwardPass(weights, io.herd.model.KvBlockCounts.forSingleSequence(config, MAX_POSITIONS, BLOCK),
                Precision.F32, 1)) {
            for (int i = 0; i < 13; i++) {
                int[] p = new int[5 + (i * 5) % 27];
                for (int j = 0; j < p.length; j++) p[j] = 3 + (j * 31 + i * 17 + j * j * i) % 500;
                if (i % 3 == 0 && p.length > 20) System.arraycopy(prompts.get("long"), 0, p, 0, 20);
                prompts.put("extra" + i, p);
                expected.put("extra" + i, new SingleSequence(cpu).greedy(p, 16));
            }
        }
    }

    /** Collects one request's events; the engine thread writes, the check thread reads after {@link #done}. */
    private static final class Sink implements RequestSink {
        final List<Integer> tokens = new ArrayList<>();
        final CountDownLatch done = new CountDownLatch(1);
        volatile int cachedTokens;
        volatile String error;

        @Override public void onStarted(int promptTokens, int cachedTokens) { this.cachedTokens = cachedTokens; }
        @Override public void onToken(int tokenId, TokenLogprobs logprobs) { tokens.add(tokenId); }
        @Override public void onFinished(FinishReason reason) { done.countDown(); }
        @Override public void onError(String code, String message) { error = code + ": " + message; done.countDown(); }
    }
}

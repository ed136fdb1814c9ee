package io.herd.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.engine.EngineConfig;
import io.herd.engine.EngineCore;
import io.herd.engine.EngineRequest;
import io.herd.engine.RecordingSink;
import io.herd.engine.RequestSink;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.CpuForwardPass;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.SingleSequence;
import io.herd.model.WeightQuantization;
import io.herd.model.sampling.SamplingParams;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The serving core over the real CPU forward pass (F32) on the tiny Scout fixture (attention chunk 8, block 4, so
 * chunk rules apply every two blocks). The fixture's Hugging Face greedy continuations are the oracle for its
 * prompts; for other prompts a single sequence through {@link SingleSequence} is.
 */
class ServingFidelityTest {
    private static final int BLOCK = 4;
    private static SafetensorsCheckpoint checkpoint;
    private static Llama4Weights weights;
    private static final Map<String, int[]> prompts = new LinkedHashMap<>();
    private static final Map<String, int[]> expected = new LinkedHashMap<>();

    private CpuForwardPass forwardPass;
    private EngineCore engine;

    @BeforeAll
    static void load() throws IOException {
        String prop = System.getProperty("herd.shared.dir");
        Path dir = (prop != null ? Path.of(prop) : Path.of("../shared")).resolve("fixtures/llama4-tiny-scout");
        if (!Files.isRegularFile(dir.resolve("expected.json"))) throw new AssertionError("fixture missing: " + dir.toAbsolutePath());
        Llama4Config config = Llama4ConfigParser.parse(dir.resolve("config.json"));
        checkpoint = SafetensorsCheckpoint.open(dir);
        weights = Llama4Weights.load(checkpoint, config, WeightQuantization.NONE);
        JsonNode root = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
        for (JsonNode c : root.get("cases")) {
            String name = c.get("name").asText();
            prompts.put(name, ints(c.get("prompt_ids")));
            int[] ids = new int[c.get("greedy").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = c.get("greedy").get(i).get("id").asInt();
            expected.put(name, ids);
        }
        // More prompts, some sharing the long case's first 20 tokens, with single-sequence greedy as the oracle.
        try (CpuForwardPass single = new CpuForwardPass(weights, io.herd.model.KvBlockCounts.forSingleSequence(config, 64, BLOCK),
                Precision.F32, 1)) {
            for (int i = 0; i < 13; i++) {
                int[] p = new int[5 + (i * 5) % 27];
                for (int j = 0; j < p.length; j++) p[j] = 3 + (j * 31 + i * 17 + j * j * i) % 500;
                if (i % 3 == 0 && p.length > 20) System.arraycopy(prompts.get("long"), 0, p, 0, 20);
                prompts.put("extra" + i, p);
                expected.put("extra" + i, new SingleSequence(single).greedy(p, 16));
            }
        }
    }

    @AfterAll
    static void unload() { checkpoint.close(); }

    private void start(int nGlobal, int nChunked, int tokenBudget, int maxSeqs) {
        forwardPass = new CpuForwardPass(weights, new io.herd.model.KvBlockCounts(BLOCK, nGlobal, nChunked), Precision.F32, 1);
        EngineConfig config = new EngineConfig(new KvCacheConfig(1 << 20, BLOCK, 0), tokenBudget, maxSeqs, 256, 4096,
                "llama4-tiny-scout", true, 0);
        engine = new EngineCore(config, new ModelRunner(forwardPass));
    }

    @org.junit.jupiter.api.AfterEach
    void stop() {
        if (engine != null) engine.close();
        if (forwardPass != null) forwardPass.close();
    }

    private Map<String, RecordingSink> run(List<String> names) throws InterruptedException {
        Map<String, RecordingSink> sinks = new LinkedHashMap<>();
        for (String name : names) {
            RecordingSink s = new RecordingSink();
            sinks.put(name, s);
            int n = expected.get(name).length;
            assertThat(engine.submit(new EngineRequest(name + "#" + System.nanoTime(), prompts.get(name),
                    SamplingParams.greedy(n), 0, Long.MAX_VALUE, null), s)).isTrue();
        }
        for (Map.Entry<String, RecordingSink> e : sinks.entrySet()) {
            assertThat(e.getValue().done.await(120, TimeUnit.SECONDS)).as(e.getKey() + " done").isTrue();
            assertThat(e.getValue().errorCode).as(e.getKey() + " error").isNull();
            assertThat(e.getValue().finishReason).isEqualTo(RequestSink.FinishReason.LENGTH);
            assertThat(e.getValue().tokenArray()).as(e.getKey()).containsExactly(expected.get(e.getKey()));
        }
        return sinks;
    }

    @Test
    void eachFixtureCaseAloneMatchesHuggingFace() throws Exception {
        start(64, 32, 64, 16);
        for (String name : List.of("one", "short", "long")) run(List.of(name));
    }

    @Test
    void sixteenConcurrentRequestsMatchTheirSingleSequenceTokens() throws Exception {
        start(256, 128, 64, 16);
        run(new ArrayList<>(prompts.keySet()));
        assertThat(prompts).hasSize(16);
    }

    @Test
    void chunkedPrefillWithATinyTokenBudget() throws Exception {
        start(256, 128, 3, 16);
        run(List.of("long", "short", "extra1", "extra3"));
    }

    @Test
    void aPrefixCacheHitGivesTheSameTokens() throws Exception {
        start(256, 128, 64, 16);
        run(List.of("long"));
        Map<String, RecordingSink> again = run(List.of("long", "extra9"));
        // 24-token prompt: 5 whole blocks are reusable below position 23; position 20's chunk [16, 24) is cached.
        assertThat(again.get("long").cachedTokens).isEqualTo(20);
        assertThat(prompts.get("extra9")).startsWith(Arrays.copyOf(prompts.get("long"), 20));
        assertThat(again.get("extra9").cachedTokens).isEqualTo(20);
        assertThat(engine.stats().prefixCacheHits()).isEqualTo(40);
    }

    @Test
    void aTinyPoolEvictsAndPreemptsWithoutChangingTokens() throws Exception {
        // 20 GLOBAL blocks = 80 positions for sequences of up to 40: preemption and eviction are certain.
        start(20, 12, 32, 8);
        run(List.of("long", "short", "one", "extra0", "extra2", "extra3", "extra5", "extra6"));
        assertThat(engine.stats().preemptions()).isPositive();
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }
}

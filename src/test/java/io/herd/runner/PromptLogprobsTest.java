package io.herd.runner;

import io.herd.engine.EngineConfig;
import io.herd.engine.EngineCore;
import io.herd.engine.EngineRequest;
import io.herd.engine.RecordingSink;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.CpuForwardPass;
import io.herd.model.DemoModel;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.SingleSequence;
import io.herd.model.WeightQuantization;
import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.SamplingParams;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * prompt_logprobs through the engine on the demo model: every prompt position is scored once (across chunked prefill
 * steps), against the logits of a plain full prefill, even when the prompt's blocks are already in the prefix cache.
 */
class PromptLogprobsTest {
    private static final int BLOCK = 16;
    @TempDir
    static Path dir;
    private static SafetensorsCheckpoint checkpoint;
    private static Llama4Weights weights;
    private static Llama4Config config;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        DemoModel.write(dir);
        config = Llama4ConfigParser.parse(dir.resolve("config.json"));
        checkpoint = SafetensorsCheckpoint.open(dir);
        weights = Llama4Weights.load(checkpoint, config, WeightQuantization.NONE);
        tokenizer = Tokenizer.load(dir);
    }

    @AfterAll
    static void unload() { checkpoint.close(); }

    @Test
    void everyPromptTokenIsScoredOnceAgainstAFullPrefillEvenAfterACacheHitWouldApply() throws Exception {
        int[] prompt = tokenizer.encode("The herd of llamas walked slowly across the high plateau, grazing as they went. ".repeat(4), true, false);
        assertThat(prompt.length).as("longer than one prompt-logprobs step").isGreaterThan(70);
        float[][] reference = new float[prompt.length][];
        try (CpuForwardPass plain = new CpuForwardPass(weights, new io.herd.model.KvBlockCounts(BLOCK, 40, 40), Precision.F32, 1)) {
            SingleSequence seq = new SingleSequence(plain);
            float[] all = seq.append(prompt, prompt.length);
            int v = config.vocabSize();
            for (int p = 0; p < prompt.length; p++) reference[p] = java.util.Arrays.copyOfRange(all, p * v, (p + 1) * v);
        }
        try (CpuForwardPass forwardPass = new CpuForwardPass(weights, new io.herd.model.KvBlockCounts(BLOCK, 40, 40), Precision.F32, 1)) {
            EngineConfig engineConfig = new EngineConfig(new KvCacheConfig(1 << 20, BLOCK, 0), 256, 8, 256, 4096, "demo", true, 0);
            try (EngineCore engine = new EngineCore(engineConfig, new ModelRunner(forwardPass))) {
                SamplingParams greedy = new SamplingParams(0f, 1f, 0, 0f, 1, 1f, 0f, 0f, config.eosTokenIds(), 3, false, 0);
                RecordingSink warm = new RecordingSink();
                engine.submit(new EngineRequest("warm", prompt, greedy, 0, Long.MAX_VALUE, null), warm);
                assertThat(warm.done.await(120, TimeUnit.SECONDS)).isTrue();

                RecordingSink scored = new RecordingSink();
                engine.submit(new EngineRequest("scored", prompt, greedy, 0, Long.MAX_VALUE, null, List.of(), null, null, 3), scored);
                assertThat(scored.done.await(120, TimeUnit.SECONDS)).isTrue();
                assertThat(scored.errorCode).as(scored.errorMessage).isNull();
                assertThat(scored.cachedTokens).as("no prefix-cache hit for a prompt-logprobs request").isZero();
                assertThat(scored.promptLogprobs).hasSize(prompt.length - 1);
                for (int i = 0; i < scored.promptLogprobs.size(); i++) {
                    PromptTokenLogprob p = scored.promptLogprobs.get(i);
                    PromptTokenLogprob ref = PromptTokenLogprob.of(reference[i], 0, config.vocabSize(), prompt[i + 1], 3);
                    assertThat(p.tokenId()).isEqualTo(prompt[i + 1]);
                    assertThat(p.logprob()).as("position %d", i + 1).isCloseTo(ref.logprob(), within(1e-3f));
                    assertThat(p.rank()).isEqualTo(ref.rank());
                    assertThat(p.topIds()).hasSize(3).isEqualTo(ref.topIds());
                }
                assertThat(scored.tokenArray()).as("generation is unchanged").isEqualTo(warm.tokenArray());

                RecordingSink after = new RecordingSink();
                engine.submit(new EngineRequest("after", prompt, greedy, 0, Long.MAX_VALUE, null), after);
                assertThat(after.done.await(120, TimeUnit.SECONDS)).isTrue();
                assertThat(after.cachedTokens).as("other requests still hit the cache").isPositive();
            }
        }
    }

    @Test
    void logprobsAreALogSoftmaxWithRankAndTopK() {
        float[] logits = {1f, 3f, 2f, 3f, -1f};
        PromptTokenLogprob p = PromptTokenLogprob.of(logits, 0, 5, 2, 2);
        double z = Math.log(Math.exp(1) + Math.exp(3) + Math.exp(2) + Math.exp(3) + Math.exp(-1));
        assertThat(p.logprob()).isCloseTo((float) (2 - z), within(1e-6f));
        assertThat(p.rank()).isEqualTo(3);
        assertThat(p.topIds()).containsExactly(1, 3);
        assertThat(p.topLogprobs()[0]).isCloseTo((float) (3 - z), within(1e-6f));
        assertThat(PromptTokenLogprob.of(logits, 0, 5, 4, 0).topIds()).isEmpty();
        assertThat(PromptTokenLogprob.of(logits, 0, 5, 4, 0).rank()).isEqualTo(5);
    }
}

package io.herd.runner;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.herd.engine.EngineConfig;
import io.herd.engine.EngineCore;
import io.herd.engine.EngineRequest;
import io.herd.engine.RecordingSink;
import io.herd.engine.RequestSink;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.CpuForwardPass;
import io.herd.model.DemoModel;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.WeightQuantization;
import io.herd.model.sampling.SamplingParams;
import io.herd.structured.ConstraintCompiler;
import io.herd.structured.ConstraintSpec;
import io.herd.structured.OutputGrammar;
import io.herd.structured.TokenVocabulary;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Constrained generation through the engine on the random-weight demo model: several sequences sampled at
 * temperature 1 in one continuous batch over a KV cache small enough to preempt them, sharing a prompt (prefix-cache
 * hits). Every output must validate against its schema and end with a stop token.
 */
class ConstrainedGenerationTest {
    private static final int BLOCK = 16;
    @TempDir
    static Path dir;
    private static SafetensorsCheckpoint checkpoint;
    private static Llama4Weights weights;
    private static Llama4Config config;
    private static Tokenizer tokenizer;
    private static ConstraintCompiler compiler;

    @BeforeAll
    static void load() {
        DemoModel.write(dir);
        config = Llama4ConfigParser.parse(dir.resolve("config.json"));
        checkpoint = SafetensorsCheckpoint.open(dir);
        weights = Llama4Weights.load(checkpoint, config, WeightQuantization.NONE);
        tokenizer = Tokenizer.load(dir);
        compiler = new ConstraintCompiler(TokenVocabulary.of(tokenizer));
    }

    @AfterAll
    static void unload() { checkpoint.close(); }

    static final List<String> SCHEMAS = List.of(
            """
            {"type":"object","properties":{"city":{"type":"string","maxLength":24},"days":{"type":"integer","minimum":1,"maximum":14},
             "units":{"enum":["celsius","fahrenheit"]},"note":{"anyOf":[{"type":"string"},{"type":"null"}]}},
             "required":["city","days","units","note"],"additionalProperties":false}""",
            """
            {"type":"array","items":{"type":"object","properties":{"id":{"type":"string","format":"uuid"},
             "score":{"type":"number","minimum":0,"exclusiveMaximum":1}},"required":["id","score"]},"minItems":1,"maxItems":3}""",
            """
            {"type":"object","properties":{"ok":{"type":"boolean"},"tags":{"type":"array","items":{"type":"string","pattern":"^[a-z]{2,6}$"},
             "maxItems":4},"when":{"type":"string","format":"date"}},"required":["ok","tags","when"]}""",
            """
            {"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"]}""");

    @Test
    void randomWeightOutputsValidateAndStop() throws Exception {
        // 40 blocks of 16 positions (640) for six sequences of up to 265: preemption is certain.
        try (CpuForwardPass forwardPass = new CpuForwardPass(weights,
                new io.herd.model.KvBlockCounts(BLOCK, 40, 40), Precision.F32, 1)) {
            EngineConfig engineConfig = new EngineConfig(new KvCacheConfig(1 << 20, BLOCK, 0), 256, 8, 256, 4096,
                    "demo", true, 0);
            try (EngineCore engine = new EngineCore(engineConfig, new ModelRunner(forwardPass))) {
                int[] prompt = tokenizer.encode("Reply in JSON. The weather in Paris, then a list of scores.", true, false);
                List<RecordingSink> sinks = new ArrayList<>();
                List<String> schemaOf = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    String schema = SCHEMAS.get(i % SCHEMAS.size());
                    OutputGrammar g = compiler.compile(ConstraintSpec.jsonSchema(schema));
                    SamplingParams sampling = new SamplingParams(1f, 1f, 0, 0f, 100 + i, 1f, 0f, 0f,
                            config.eosTokenIds(), 250, false, 0);
                    RecordingSink sink = new RecordingSink();
                    assertThat(engine.submit(new EngineRequest("c" + i, prompt, sampling, 0, Long.MAX_VALUE, null, g),
                            sink)).isTrue();
                    sinks.add(sink);
                    schemaOf.add(schema);
                }
                SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
                for (int i = 0; i < sinks.size(); i++) {
                    RecordingSink sink = sinks.get(i);
                    assertThat(sink.done.await(300, TimeUnit.SECONDS)).isTrue();
                    assertThat(sink.errorCode).as(sink.errorMessage).isNull();
                    assertThat(sink.finishReason).as("after %d tokens: %s", sink.tokenArray().length,
                            tokenizer.decode(sink.tokenArray())).isEqualTo(RequestSink.FinishReason.STOP);
                    int[] tokens = sink.tokenArray();
                    int last = tokens[tokens.length - 1];
                    assertThat(Arrays.stream(config.eosTokenIds()).anyMatch(e -> e == last)).isTrue();
                    String text = tokenizer.decode(Arrays.copyOf(tokens, tokens.length - 1));
                    Schema validator = registry.getSchema(schemaOf.get(i), InputFormat.JSON);
                    assertThat(validator.validate(text, InputFormat.JSON)).as("output %s", text).isEmpty();
                }
                assertThat(engine.stats().preemptions()).isPositive();
                assertThat(engine.stats().prefixCacheHits()).isPositive();
            }
        }
    }
}

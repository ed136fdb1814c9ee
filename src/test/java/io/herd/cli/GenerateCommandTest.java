package io.herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.compute.DType;
import io.herd.compute.GgmlType;
import io.herd.model.CpuForwardPass;
import io.herd.model.KvBlockCounts;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4TensorNames;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.RandomLlama4Checkpoint;
import io.herd.model.SingleSequence;
import io.herd.model.TinyGgufExport;
import io.herd.model.WeightQuantization;
import io.herd.tokenizer.ChatFormat;
import io.herd.tokenizer.ChatMessage;
import io.herd.tokenizer.DemoTokenizer;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class GenerateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path tmp;
    /** A random-weight model whose vocabulary is the demo tokenizer's, with that tokenizer beside it. */
    static Path demoDir;

    record Run(int status, String out, String err) {
        List<JsonNode> lines() {
            return out.lines().map(l -> {
                try {
                    return JSON.readTree(l);
                } catch (Exception e) {
                    throw new AssertionError("not JSON: " + l, e);
                }
            }).toList();
        }
    }

    static Run herd(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = HerdCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** {@code herd.shared.dir} if set, else {@code ../shared} from the project root. */
    static Path sharedDir() { return Path.of(System.getProperty("herd.shared.dir", "../shared")); }

    static Path fixture(String name) {
        Path dir = sharedDir().resolve("fixtures").resolve(name);
        if (!Files.isDirectory(dir)) throw new IllegalStateException("missing fixture " + dir.toAbsolutePath());
        return dir;
    }

    @BeforeAll
    static void writeDemoModel() {
        demoDir = tmp.resolve("demo");
        Llama4Config config = new Llama4Config(32, 2, 4, 2, 8, 16, 24, 4, 1,
                new boolean[]{true, false}, new boolean[]{true, false}, true,
                8, true, 4f, 0.1f, 1e-5f, 500000f, null,
                DemoTokenizer.VOCAB_SIZE, 512, DemoTokenizer.N_BASE, new int[]{DemoTokenizer.N_BASE + 8}, 0);
        RandomLlama4Checkpoint.write(demoDir, config, DType.F32, 7, Llama4TensorNames.CAUSAL_LM, 1);
        DemoTokenizer.write(demoDir);
    }

    /** The greedy continuations and log-probabilities Hugging Face computed for the shared tiny checkpoints. */
    @ParameterizedTest
    @ValueSource(strings = {"llama4-tiny-scout", "llama4-tiny-maverick"})
    void greedyJsonMatchesTheFixture(String name) throws Exception {
        Path dir = fixture(name);
        JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
        for (JsonNode c : expected.get("cases")) {
            JsonNode greedy = c.get("greedy");
            String ids = toList(c.get("prompt_ids")).stream().map(String::valueOf).collect(Collectors.joining(","));
            Run run = herd("generate", "--model", dir.toString(), "--prompt-tokens", ids,
                    "--max-tokens", String.valueOf(greedy.size()), "--top-logprobs", "5", "--json");
            assertThat(run.status()).as(run.err()).isZero();
            List<JsonNode> lines = run.lines();
            assertThat(lines).hasSize(greedy.size() + 1);
            for (int i = 0; i < greedy.size(); i++) {
                JsonNode line = lines.get(i);
                JsonNode want = greedy.get(i);
                String where = name + " " + c.get("name").asText() + " token " + i;
                assertThat(line.get("index").asInt()).isEqualTo(i);
                assertThat(line.get("id").asInt()).as(where).isEqualTo(want.get("id").asInt());
                assertThat(line.get("text").asText()).as("no tokenizer, no text").isEmpty();
                assertThat(line.get("logprob").asDouble()).as(where)
                        .isCloseTo(want.get("top").get(0).get(1).asDouble(), within(2e-3));
                assertThat(line.get("top")).hasSize(5);
                for (int j = 0; j < 5; j++) {
                    assertThat(line.get("top").get(j).get(1).asDouble()).as(where + " top " + j)
                            .isCloseTo(want.get("top").get(j).get(1).asDouble(), within(2e-3));
                }
                assertThat(line.get("top").get(0).get(0).asInt()).isEqualTo(want.get("id").asInt());
            }
            JsonNode done = lines.getLast();
            assertThat(done.get("done").asBoolean()).isTrue();
            assertThat(done.get("finish_reason").asText()).isEqualTo("length");
            assertThat(toList(done.get("prompt_token_ids"))).isEqualTo(toList(c.get("prompt_ids")));
            assertThat(done.get("completion_tokens").asInt()).isEqualTo(greedy.size());
            assertThat(done.get("ttft_ms").asDouble()).isPositive();
            assertThat(done.get("decode_tokens_per_s").asDouble()).isPositive();
        }
    }

    /**
     * {@code --model FILE.gguf}: the tiny Scout exported as llama.cpp lays it out generates the greedy ids the
     * safetensors weights give under llama.cpp's llama4 rules (chunk 8192, floor scale 8192).
     */
    @Test
    void ggufFileGeneratesAsTheSafetensorsWeightsUnderLlamaCppRules() {
        Path dir = fixture("llama4-tiny-scout");
        Path gguf = tmp.resolve("tiny-scout-f32.gguf");
        int[] prompt = {1, 71, 300, 12, 5};
        int[] want;
        try (SafetensorsCheckpoint st = SafetensorsCheckpoint.open(dir)) {
            Llama4Config config = TinyGgufExport.llamaCppView(Llama4ConfigParser.parse(dir));
            TinyGgufExport.write(st, Llama4ConfigParser.parse(dir), GgmlType.F32, false, gguf);
            Llama4Weights w = Llama4Weights.load(st, config, WeightQuantization.NONE);
            try (CpuForwardPass fp = new CpuForwardPass(w, KvBlockCounts.forSingleSequence(config, 64, 4), Precision.F32, 2)) {
                want = new SingleSequence(fp).greedy(prompt, 6);
            }
        }
        Run run = herd("generate", "--model", gguf.toString(), "--prompt-tokens", "1,71,300,12,5", "--max-tokens", "6");
        assertThat(run.status()).as(run.err()).isZero();
        assertThat(run.out().strip()).isEqualTo(Arrays.stream(want).mapToObj(String::valueOf).collect(Collectors.joining(" ")));
    }

    @Test
    void withoutJsonPrintsIdsWhenTheCheckpointHasNoTokenizer() {
        Run run = herd("generate", "--model", fixture("llama4-tiny-scout").toString(), "--prompt-tokens", "71",
                "--max-tokens", "4");
        assertThat(run.status()).as(run.err()).isZero();
        assertThat(run.out().strip()).isEqualTo("30 508 508 508");
        assertThat(run.err()).contains("4 generated, finish: length");
    }

    @Test
    void promptTextGetsBosAndPlainTextEncoding() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(demoDir);
        String text = "Tell me about llamas <|eot|>";
        Run run = herd("generate", "--model", demoDir.toString(), "--prompt", text, "--max-tokens", "12", "--json");
        assertThat(run.status()).as(run.err()).isZero();
        List<JsonNode> lines = run.lines();
        JsonNode done = lines.getLast();
        assertThat(toList(done.get("prompt_token_ids")))
                .isEqualTo(Arrays.stream(tokenizer.encode(text, true, false)).boxed().toList());
        assertStreamedTextIsTheDecodedCompletion(tokenizer, lines);
    }

    @Test
    void chatFileUsesTheChatFormatAndSamplingRepeatsWithTheSeed() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(demoDir);
        Path chat = tmp.resolve("chat.json");
        Files.writeString(chat, """
                {"messages": [{"role": "system", "content": "You are a helpful assistant"},
                              {"role": "user", "content": [{"type": "text", "text": "Hello!"}]}]}""");
        String[] args = {"generate", "--model", demoDir.toString(), "--chat", chat.toString(), "--max-tokens", "10",
                "--temperature", "1.5", "--top-p", "0.95", "--seed", "5", "--json"};
        Run first = herd(args);
        assertThat(first.status()).as(first.err()).isZero();
        int[] expectedPrompt = new ChatFormat(tokenizer).encodeDialogPrompt(List.of(
                ChatMessage.system("You are a helpful assistant"), ChatMessage.user("Hello!")));
        assertThat(toList(first.lines().getLast().get("prompt_token_ids")))
                .isEqualTo(Arrays.stream(expectedPrompt).boxed().toList());
        assertThat(ids(herd(args))).isEqualTo(ids(first));
        args[args.length - 2] = "6";
        assertThat(ids(herd(args))).isNotEqualTo(ids(first));
        assertStreamedTextIsTheDecodedCompletion(tokenizer, first.lines());
    }

    private static void assertStreamedTextIsTheDecodedCompletion(Tokenizer tokenizer, List<JsonNode> lines) {
        StringBuilder streamed = new StringBuilder();
        List<Integer> completion = new ArrayList<>();
        for (JsonNode line : lines.subList(0, lines.size() - 1)) {
            streamed.append(line.get("text").asText());
            int id = line.get("id").asInt();
            if (!tokenizer.isSpecial(id)) completion.add(id);
        }
        assertThat(streamed.toString())
                .isEqualTo(tokenizer.decode(completion.stream().mapToInt(Integer::intValue).toArray()));
    }

    private static List<Integer> ids(Run run) {
        return run.lines().stream().filter(l -> l.has("id")).map(l -> l.get("id").asInt()).toList();
    }

    private static List<Integer> toList(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    @Test
    void badUsageExitsWithTwoAndBadInputWithOne() {
        Run noModel = herd("generate", "--prompt-tokens", "1");
        assertThat(noModel.status()).isEqualTo(2);
        assertThat(noModel.err()).contains("--model DIR is required").contains("usage: herd generate");
        assertThat(herd("generate", "--model", "x", "--prompt", "a", "--prompt-tokens", "1").err())
                .contains("exactly one of");
        assertThat(herd("generate", "--model", "x", "--prompt-tokens", "1,a").err()).contains("comma-separated");
        assertThat(herd("generate", "--model", "x", "--prompt-tokens", "1", "--bogus", "1").status()).isEqualTo(2);
        assertThat(herd("nonsense").status()).isEqualTo(2);

        Run noTokenizer = herd("generate", "--model", fixture("llama4-tiny-scout").toString(), "--prompt", "hi");
        assertThat(noTokenizer.status()).isEqualTo(1);
        assertThat(noTokenizer.err()).contains("no tokenizer.model or tokenizer.json").contains("--prompt-tokens");
        Run outside = herd("generate", "--model", fixture("llama4-tiny-scout").toString(), "--prompt-tokens", "512");
        assertThat(outside.status()).isEqualTo(1);
        assertThat(outside.err()).contains("outside the model's vocabulary of 512");
        Run missing = herd("generate", "--model", tmp.resolve("nowhere").toString(), "--prompt-tokens", "1");
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).contains("is neither a directory nor a .gguf file");
        assertThat(herd("generate", "--help").out()).contains("--prompt-tokens");
    }
}

package io.herd.cli;

import io.herd.model.sampling.Sampler;
import io.herd.model.sampling.SamplingParams;
import io.herd.structured.ConstraintCompiler;
import io.herd.structured.ConstraintCursor;
import io.herd.structured.ConstraintSpec;
import io.herd.structured.OutputGrammar;
import io.herd.structured.TokenVocabulary;
import io.herd.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code herd bench --structured}: what constrained decoding costs outside the forward pass, over a real vocabulary.
 * Schema compile time (cold: a fresh compiler; cached: the SHA-256 hit), and per generated token the sampler step with
 * and without a mask, on random logits whose samples drive the constraint (new states, so masks are computed as a
 * generation meets them; the figure includes those first computations).
 */
final class StructuredBench {
    static final String USAGE = """
            usage: herd bench --structured [--tokenizer FILE (default ../shared/llama4/tokenizer.model)]
                              [--tokens N (per schema, default 300)] [--json]
                              [--shape scout|maverick|CONFIG --layers L --quant none|q8 --batch 1,16
                               --prompt-len P (default 128) --gen-len G (default 32)]
              with --shape: also decode through the engine on random weights of that shape, free and constrained,
              at each batch size (same model, same batch)
            """;

    static final List<String> SCHEMAS = List.of(
            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":40},\"days\":{\"type\":\"integer\","
                    + "\"minimum\":1,\"maximum\":14},\"units\":{\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"city\",\"days\",\"units\"]}",
            "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"when\":{\"type\":\"string\",\"format\":\"date-time\"},"
                    + "\"email\":{\"type\":\"string\",\"format\":\"email\"},\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"pattern\":\"^[a-z]{2,8}$\"},"
                    + "\"maxItems\":5},\"score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},\"note\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}},"
                    + "\"required\":[\"id\",\"when\",\"email\",\"tags\",\"score\",\"note\"]}",
            "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"integer\"},\"children\":{\"type\":\"array\","
                    + "\"items\":{\"$ref\":\"#/$defs/node\"},\"maxItems\":3}},\"required\":[\"value\",\"children\"]}},\"$ref\":\"#/$defs/node\"}");

    private StructuredBench() {}

    static int run(String[] args) {
        Path tokenizerFile = Path.of("../shared/llama4/tokenizer.model");
        int tokens = 300;
        boolean json = false;
        String shape = null;
        Integer layers = null;
        io.herd.model.WeightQuantization quant = io.herd.model.WeightQuantization.NONE;
        List<Integer> batches = List.of(1);
        int promptLen = 128, genLen = 32;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--structured" -> { }
                case "--shape" -> shape = CliArgs.value(args, ++i, args[i - 1]);
                case "--layers" -> layers = Integer.parseInt(CliArgs.value(args, ++i, args[i - 1]));
                case "--quant" -> quant = io.herd.model.WeightQuantization.parse(CliArgs.value(args, ++i, args[i - 1]));
                case "--batch" -> batches = java.util.Arrays.stream(CliArgs.value(args, ++i, args[i - 1]).split(","))
                        .map(String::trim).map(Integer::parseInt).toList();
                case "--prompt-len" -> promptLen = Integer.parseInt(CliArgs.value(args, ++i, args[i - 1]));
                case "--gen-len" -> genLen = Integer.parseInt(CliArgs.value(args, ++i, args[i - 1]));
                case "--tokenizer" -> tokenizerFile = Path.of(CliArgs.value(args, ++i, args[i - 1]));
                case "--tokens" -> tokens = Integer.parseInt(CliArgs.value(args, ++i, args[i - 1]));
                case "--json" -> json = true;
                case "--help", "-h" -> {
                    System.out.print(USAGE);
                    return 0;
                }
                default -> throw new UsageException("unknown option " + args[i] + "\n" + USAGE);
            }
        }
        Tokenizer tokenizer = tokenizerFile.getFileName().toString().endsWith(".json")
                ? Tokenizer.fromHuggingFace(tokenizerFile) : Tokenizer.fromTiktoken(tokenizerFile);
        Map<String, Object> r = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        TokenVocabulary vocabulary = TokenVocabulary.of(tokenizer);
        r.put("vocabularySize", vocabulary.vocabSize());
        r.put("trieNodes", vocabulary.nTrieNodes());
        r.put("trieBuildMs", ms(System.nanoTime() - t0));
        int vocab = vocabulary.vocabSize();
        for (int k = 0; k < SCHEMAS.size(); k++) {
            String schema = SCHEMAS.get(k);
            // Warm the compiler's code paths once, then time a cold compile on a fresh compiler.
            new ConstraintCompiler(vocabulary).compile(ConstraintSpec.jsonSchema(schema));
            ConstraintCompiler compiler = new ConstraintCompiler(vocabulary);
            t0 = System.nanoTime();
            OutputGrammar g = compiler.compile(ConstraintSpec.jsonSchema(schema));
            r.put("schema" + k + "CompileMs", ms(System.nanoTime() - t0));
            t0 = System.nanoTime();
            compiler.compile(ConstraintSpec.jsonSchema(schema));
            r.put("schema" + k + "CachedCompileMs", ms(System.nanoTime() - t0));

            SplittableRandom random = new SplittableRandom(k);
            float[] logits = new float[vocab];
            SamplingParams params = new SamplingParams(1f, 1f, 0, 0f, k, 1f, 0f, 0f, tokenizer.stopTokenIds(), tokens,
                    false, 0);
            Sampler free = new Sampler(params, vocab, new int[0]);
            Sampler masked = new Sampler(params, vocab, new int[0]);
            long freeNanos = 0, maskedNanos = 0;
            int steps = 0, documents = 0;
            ConstraintCursor cursor = new ConstraintCursor(g);
            for (int step = 0; step < tokens; step++) {
                for (int i = 0; i < vocab; i++) logits[i] = (float) random.nextGaussian() * 3f;
                long a = System.nanoTime();
                free.sample(logits, 0);
                long b = System.nanoTime();
                int token = masked.sample(logits, 0, cursor.allowedTokens(tokens - step)).tokenId();
                cursor.accept(token);
                long c = System.nanoTime();
                freeNanos += b - a;
                maskedNanos += c - b;
                steps++;
                if (cursor.finished()) {
                    documents++;
                    cursor = new ConstraintCursor(g);
                }
            }
            r.put("schema" + k + "SampleMsPerToken", ms(freeNanos / steps));
            r.put("schema" + k + "ConstrainedSampleMsPerToken", ms(maskedNanos / steps));
            r.put("schema" + k + "DocumentsCompleted", documents);
            r.put("schema" + k + "GrammarStates", g.nStates());
        }
        if (shape != null) {
            try {
                ConstrainedDecodeBench.run(r, new ConstraintCompiler(vocabulary), shape, layers, quant, batches, promptLen, genLen);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        BenchCommand.print(r, json);
        return 0;
    }

    private static double ms(long nanos) { return Math.round(nanos / 1e3) / 1e3; }
}

package io.herd.cli;

import io.herd.model.Precision;
import io.herd.model.WeightQuantization;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Parsed arguments of {@code herd generate}. Exactly one prompt source is set.
 *
 * @param promptText   --prompt: plain text, encoded after a BOS
 * @param promptTokens --prompt-tokens: ids used as given (no BOS added)
 * @param chatFile     --chat: a JSON dialog, laid out with the Llama 4 chat format
 * @param temperature  0 (the default) means greedy
 * @param seed         RNG seed for sampling; 0 unless given, so runs repeat
 * @param topLogprobs  alternatives reported per token with --json (0 … 20)
 */
record GenerateOptions(Path modelDir, String promptText, int[] promptTokens, Path chatFile, int maxTokens,
                       float temperature, float topP, int topK, float minP, long seed, int topLogprobs,
                       Precision precision, WeightQuantization quantization, boolean json) {

    static final String USAGE = """
            usage: herd generate --model DIR|FILE.gguf (--prompt TEXT | --prompt-tokens 1,2,3 | --chat FILE.json)
                                 [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--min-p P] [--seed S]
                                 [--top-logprobs K] [--precision f32|bf16] [--quant none|q8] [--json]
              --prompt TEXT          plain text after <|begin_of_text|>; special-token strings stay text
              --prompt-tokens IDS    comma-separated token ids, used as given (no BOS added)
              --chat FILE.json       [{"role": "system|user|assistant|tool", "content": "..."}, ...] (or
                                     {"messages": [...]}), laid out in the Llama 4 chat format
              --max-tokens N         tokens to generate at most (default 64); stops earlier at the config's eos ids
              --temperature T        0 = greedy (default 0); --top-p (default 1), --top-k (default 0 = off),
                                     --min-p (default 0 = off) filter the distribution when T > 0
              --seed S               sampling seed (default 0): same seed, same tokens
              --top-logprobs K       with --json: the K most likely tokens per position (0 … 20, default 0)
              --precision f32|bf16   numeric mode of the CPU forward pass (default f32)
              --quant none|q8        re-quantize matrices to int8 at load (default none)
              --json                 one JSON object per token, then a summary object; else text as it is made
            """;

    static GenerateOptions parse(String[] args) {
        Path model = null;
        String prompt = null;
        int[] promptTokens = null;
        Path chat = null;
        int maxTokens = 64;
        float temperature = 0f, topP = 1f, minP = 0f;
        int topK = 0, topLogprobs = 0;
        long seed = 0;
        Precision precision = Precision.F32;
        WeightQuantization quantization = WeightQuantization.NONE;
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--json")) {
                json = true;
                continue;
            }
            if (!flag.startsWith("--")) throw new UsageException("unexpected argument '" + flag + "'");
            if (i + 1 >= args.length) throw new UsageException(flag + " needs a value");
            String value = args[++i];
            switch (flag) {
                case "--model" -> model = Path.of(value);
                case "--prompt" -> prompt = value;
                case "--prompt-tokens" -> promptTokens = parseIds(value);
                case "--chat" -> chat = Path.of(value);
                case "--max-tokens" -> maxTokens = parseInt(flag, value);
                case "--temperature" -> temperature = parseFloat(flag, value);
                case "--top-p" -> topP = parseFloat(flag, value);
                case "--top-k" -> topK = parseInt(flag, value);
                case "--min-p" -> minP = parseFloat(flag, value);
                case "--seed" -> seed = parseLong(flag, value);
                case "--top-logprobs" -> topLogprobs = parseInt(flag, value);
                case "--precision" -> precision = switch (value.toLowerCase(java.util.Locale.ROOT)) {
                    case "f32" -> Precision.F32;
                    case "bf16" -> Precision.BF16;
                    default -> throw new UsageException("--precision must be f32 or bf16, got '" + value + "'");
                };
                case "--quant" -> {
                    try {
                        quantization = WeightQuantization.parse(value);
                    } catch (IllegalArgumentException e) {
                        throw new UsageException("--quant: " + e.getMessage());
                    }
                }
                default -> throw new UsageException("unknown option " + flag);
            }
        }
        if (model == null) throw new UsageException("--model DIR is required");
        int sources = (prompt != null ? 1 : 0) + (promptTokens != null ? 1 : 0) + (chat != null ? 1 : 0);
        if (sources != 1) throw new UsageException("give exactly one of --prompt, --prompt-tokens, --chat");
        if (maxTokens < 1) throw new UsageException("--max-tokens must be at least 1, got " + maxTokens);
        if (topLogprobs < 0 || topLogprobs > 20) throw new UsageException("--top-logprobs must be 0 … 20");
        return new GenerateOptions(model, prompt, promptTokens, chat, maxTokens, temperature, topP, topK, minP, seed,
                topLogprobs, precision, quantization, json);
    }

    private static int[] parseIds(String value) {
        try {
            int[] ids = Arrays.stream(value.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
            if (ids.length == 0) throw new UsageException("--prompt-tokens is empty");
            for (int id : ids) if (id < 0) throw new UsageException("--prompt-tokens has a negative id " + id);
            return ids;
        } catch (NumberFormatException e) {
            throw new UsageException("--prompt-tokens must be comma-separated integers, got '" + value + "'");
        }
    }

    private static int parseInt(String flag, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be an integer, got '" + value + "'");
        }
    }

    private static long parseLong(String flag, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be an integer, got '" + value + "'");
        }
    }

    private static float parseFloat(String flag, String value) {
        try {
            return Float.parseFloat(value);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " must be a number, got '" + value + "'");
        }
    }
}

package io.herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.model.CpuForwardPass;
import io.herd.model.KvBlockCounts;
import io.herd.model.Llama4Checkpoint;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4Weights;
import io.herd.model.SingleSequence;
import io.herd.model.sampling.Sampler;
import io.herd.model.sampling.SamplingParams;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.serving.ImagePrompts;
import io.herd.tokenizer.ChatFormat;
import io.herd.tokenizer.ChatMessage;
import io.herd.tokenizer.Role;
import io.herd.tokenizer.StreamingDetokenizer;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.CheckpointFormatException;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code herd generate}: loads a checkpoint on the CPU forward pass and generates one sequence, printing text as it
 * is made or, with {@code --json}, one JSON object per token and a summary. Greedy unless {@code --temperature} is
 * given; stops at the config's eos ids (the tokenizer's stop ids when the config names none) or after
 * {@code --max-tokens}. A checkpoint without a tokenizer file works with {@code --prompt-tokens}; its output is ids.
 */
final class GenerateCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream out;
    private final PrintStream err;

    GenerateCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out.print(GenerateOptions.USAGE);
            return 0;
        }
        try {
            return generate(GenerateOptions.parse(args));
        } catch (UsageException e) {
            err.println("herd generate: " + e.getMessage());
            err.print(GenerateOptions.USAGE);
            return 2;
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException
                 | CheckpointFormatException e) {
            err.println("herd generate: " + e.getMessage());
            return 1;
        }
    }

    private int generate(GenerateOptions options) {
        Path dir = options.modelDir();
        if (!Files.isDirectory(dir) && !Llama4Checkpoint.isGguf(dir))
            throw new IllegalArgumentException("--model " + dir + " is neither a directory nor a .gguf file");
        try (Llama4Checkpoint checkpoint = Llama4Checkpoint.open(dir)) {
            return generate(options, checkpoint);
        }
    }

    private int generate(GenerateOptions options, Llama4Checkpoint checkpoint) {
        Llama4Config config = checkpoint.config();
        Tokenizer tokenizer = checkpoint.tokenizerOrNull();
        // Images come with safetensors checkpoints that have a vision tower (a GGUF holds the text model only).
        ImagePrompts.Encoded withImages = options.chatFile() != null && tokenizer != null && !checkpoint.isGguf()
                && ImageChat.hasImages(options.chatFile())
                ? ImageChat.encode(options.chatFile(), checkpoint.location(), config, tokenizer, checkpoint.safetensors())
                : null;
        int[] prompt = withImages != null ? withImages.ids() : prompt(options, tokenizer);
        for (int id : prompt) {
            if (id >= config.vocabSize()) {
                throw new IllegalArgumentException("prompt token " + id + " is outside the model's vocabulary of "
                        + config.vocabSize());
            }
        }
        int[] stopIds = config.eosTokenIds().length > 0 || tokenizer == null
                ? config.eosTokenIds() : tokenizer.stopTokenIds();
        int maxPositions = prompt.length + options.maxTokens();
        if (maxPositions > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("prompt (" + prompt.length + ") plus --max-tokens ("
                    + options.maxTokens() + ") exceeds max_position_embeddings " + config.maxPositionEmbeddings());
        }
        SamplingParams params = new SamplingParams(options.temperature(), options.topP(), options.topK(),
                options.minP(), options.seed(), 1f, 0f, 0f, stopIds, options.maxTokens(), options.json(),
                options.json() ? options.topLogprobs() : 0);
        Sampler sampler = new Sampler(params, config.vocabSize(), prompt);
        Llama4Weights weights = checkpoint.weights(options.quantization());
        KvBlockCounts kv = KvBlockCounts.forSingleSequence(config, maxPositions, blockSize(config));
        try (CpuForwardPass forwardPass = new CpuForwardPass(weights, kv, options.precision(),
                Runtime.getRuntime().availableProcessors())) {
            Output output = options.json() ? new JsonLines(tokenizer) : new LiveText(tokenizer);
            Generation.Result result = Generation.run(new SingleSequence(forwardPass), sampler, prompt,
                    withImages == null ? null : withImages.embeddings().compute(), options.maxTokens(), stopIds, output::token);
            output.finish(result, prompt);
        }
        return 0;
    }

    /** A block size that divides the attention chunk when the chunk is small, so chunked blocks are recycled. */
    private static int blockSize(Llama4Config config) {
        int chunk = config.attentionChunkSize();
        return chunk % 16 == 0 || chunk > 16 ? 16 : chunk;
    }

    private static int[] prompt(GenerateOptions options, Tokenizer tokenizer) {
        if (options.promptTokens() != null) return options.promptTokens();
        if (tokenizer == null) {
            throw new IllegalArgumentException(options.modelDir() + " has no tokenizer.model or tokenizer.json (nor a GGUF "
                    + "vocabulary); give the prompt as --prompt-tokens");
        }
        if (options.promptText() != null) return tokenizer.encode(options.promptText(), true, false);
        return new ChatFormat(tokenizer).encodeDialogPrompt(readDialog(options.chatFile()));
    }

    /** A JSON array of messages, or an object with a "messages" array (the OpenAI request shape). */
    static List<ChatMessage> readDialog(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the chat file: " + e.getMessage(), e);
        }
        JsonNode messages = root != null && root.isObject() ? root.path("messages") : root;
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw new IllegalArgumentException(file + ": expected a non-empty array of messages");
        }
        List<ChatMessage> dialog = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = file + ": messages[" + i + "]";
            if (!m.path("role").isTextual()) throw new IllegalArgumentException(where + ".role missing");
            Role role;
            try {
                role = Role.parse(m.get("role").asText());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage());
            }
            String context = m.path("context").isTextual() ? m.get("context").asText() : null;
            dialog.add(new ChatMessage(role, content(m.path("content"), where), context,
                    m.path("end_of_message").asBoolean(false)));
        }
        return dialog;
    }

    /** A string, or a list of {"type": "text", "text": …} parts joined without separators. */
    private static String content(JsonNode content, String where) {
        if (content.isTextual()) return content.asText();
        if (content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw new IllegalArgumentException(where + ".content: only text parts are supported: " + part);
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw new IllegalArgumentException(where + ".content must be a string or a list of text parts");
    }

    /** Where generated tokens go. */
    private interface Output {
        void token(int index, int id, TokenLogprobs logprobs);

        void finish(Generation.Result result, int[] prompt);
    }

    /** Text for a token id: the detokenizer's complete characters, or nothing without a tokenizer. */
    private static String text(StreamingDetokenizer detokenizer, Tokenizer tokenizer, int id) {
        if (detokenizer == null || id >= tokenizer.vocabSize()) return "";
        return detokenizer.append(id);
    }

    /**
     * One object per token. A token's line waits while the detokenizer holds an unfinished character, so that text
     * released only by the final flush still lands in the last token's line.
     */
    private final class JsonLines implements Output {
        private final Tokenizer tokenizer;
        private final StreamingDetokenizer detokenizer;
        private ObjectNode held;

        JsonLines(Tokenizer tokenizer) {
            this.tokenizer = tokenizer;
            this.detokenizer = tokenizer == null ? null : new StreamingDetokenizer(tokenizer, true);
        }

        @Override
        public void token(int index, int id, TokenLogprobs logprobs) {
            if (held != null) emit(held);
            ObjectNode line = JSON.createObjectNode();
            line.put("index", index);
            line.put("id", id);
            line.put("text", text(detokenizer, tokenizer, id));
            line.put("logprob", logprobs.logprob());
            ArrayNode top = line.putArray("top");
            for (int j = 0; j < logprobs.topIds().length; j++) {
                top.addArray().add(logprobs.topIds()[j]).add(logprobs.topLogprobs()[j]);
            }
            held = line;
            if (detokenizer == null || !detokenizer.hasPendingBytes()) {
                emit(held);
                held = null;
            }
        }

        @Override
        public void finish(Generation.Result result, int[] prompt) {
            if (held != null) {
                held.put("text", held.get("text").asText() + detokenizer.flush());
                emit(held);
            }
            ObjectNode done = JSON.createObjectNode();
            done.put("done", true);
            done.put("finish_reason", result.finishReason().wireName());
            ArrayNode ids = done.putArray("prompt_token_ids");
            for (int id : prompt) ids.add(id);
            done.put("completion_tokens", result.completion().length);
            done.put("ttft_ms", Math.round(result.ttftMillis() * 1000) / 1000.0);
            done.put("decode_tokens_per_s", Math.round(result.decodeTokensPerSecond() * 1000) / 1000.0);
            emit(done);
        }

        private void emit(ObjectNode node) {
            out.println(node.toString());
            out.flush();
        }
    }

    /** Text as it is made (ids when there is no tokenizer); a one-line summary on stderr. */
    private final class LiveText implements Output {
        private final Tokenizer tokenizer;
        private final StreamingDetokenizer detokenizer;

        LiveText(Tokenizer tokenizer) {
            this.tokenizer = tokenizer;
            this.detokenizer = tokenizer == null ? null : new StreamingDetokenizer(tokenizer, true);
        }

        @Override
        public void token(int index, int id, TokenLogprobs logprobs) {
            out.print(detokenizer == null ? (index == 0 ? "" : " ") + id : text(detokenizer, tokenizer, id));
            out.flush();
        }

        @Override
        public void finish(Generation.Result result, int[] prompt) {
            if (detokenizer != null) out.print(detokenizer.flush());
            out.println();
            out.flush();
            err.printf("[%d prompt tokens, %d generated, finish: %s, time to first token %.1f ms, %.2f tokens/s]%n",
                    prompt.length, result.completion().length, result.finishReason().wireName(), result.ttftMillis(),
                    result.decodeTokensPerSecond());
        }
    }
}

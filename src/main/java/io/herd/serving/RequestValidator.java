package io.herd.serving;

import io.herd.engine.EngineRequest;
import io.herd.model.sampling.SamplingParams;
import io.herd.structured.ConstraintCompiler;
import io.herd.structured.ConstraintSpec;
import io.herd.structured.ToolChoiceSchemas;
import io.herd.structured.InvalidConstraintException;
import io.herd.structured.OutputGrammar;

import java.util.List;
import java.util.function.LongSupplier;

/** Checks a decoded request against the limits, tokenizes it and builds the {@link EngineRequest}. */
public final class RequestValidator {

    /** The most alternatives a request may ask for per position (OpenAI's bound). */
    public static final int MAX_TOP_LOGPROBS = 20;
    static final int MAX_ID_LENGTH = 256;
    /** Priorities run from -1000 (first) to 1000; outside, one client could starve everyone else for good. */
    public static final int MIN_PRIORITY = -1000;
    public static final int MAX_PRIORITY = 1000;
    /** Longest stop string (UTF-8 bytes): the matcher's work per token grows with it, on the shared output thread. */
    public static final int MAX_STOP_BYTES = 256;
    public static final int MAX_CACHE_SALT_LENGTH = 256;
    public static final int MAX_MESSAGES = 1024;
    /** Latest deadline accepted, from now: far enough for any batch job, near enough to never overflow a clock. */
    public static final long MAX_DEADLINE_AHEAD_MS = 7L * 24 * 3600 * 1000;
    /** Most choices per request (n): each one is a sequence in the batch, so one request may not fill it. */
    public static final int MAX_CHOICES = 16;
    /** Longest {@code user} tag: it goes into logs, so it stays short. */
    public static final int MAX_USER_LENGTH = 256;
    /** Most alternatives per prompt position in prompt_logprobs: they all ride on the done event. */
    public static final int MAX_PROMPT_LOGPROBS = 5;
    /** Longest prompt that may ask for prompt_logprobs: keeps the done event well under the topic's record size. */
    public static final int MAX_PROMPT_LOGPROBS_TOKENS = 2048;

    private final ServingLimits limits;
    private final PromptCodec codec;
    private final LongSupplier epochMillis;
    private final LongSupplier nanoTime;
    private final ImagePrompts images;
    /** Compiles response_format for the model's vocabulary; null where the model has no tokenizer to constrain. */
    private final ConstraintCompiler constraints;

    public RequestValidator(ServingLimits limits, PromptCodec codec) {
        this(limits, codec, (ImagePrompts) null, (ConstraintCompiler) null);
    }

    /** @param images turns messages with image parts into prompts; null where the model takes no images */
    public RequestValidator(ServingLimits limits, PromptCodec codec, ImagePrompts images) {
        this(limits, codec, images, (ConstraintCompiler) null);
    }

    public RequestValidator(ServingLimits limits, PromptCodec codec, ConstraintCompiler constraints) {
        this(limits, codec, (ImagePrompts) null, constraints);
    }

    /**
     * @param images      turns messages with image parts into prompts; null where the model takes no images
     * @param constraints compiles response_format for the model's vocabulary; null where it cannot be constrained
     */
    public RequestValidator(ServingLimits limits, PromptCodec codec, ImagePrompts images, ConstraintCompiler constraints) {
        this(limits, codec, images, System::currentTimeMillis, System::nanoTime, constraints);
    }

    RequestValidator(ServingLimits limits, PromptCodec codec, LongSupplier epochMillis, LongSupplier nanoTime) {
        this(limits, codec, null, epochMillis, nanoTime, null);
    }

    RequestValidator(ServingLimits limits, PromptCodec codec, LongSupplier epochMillis, LongSupplier nanoTime,
                     ConstraintCompiler constraints) {
        this(limits, codec, null, epochMillis, nanoTime, constraints);
    }

    private RequestValidator(ServingLimits limits, PromptCodec codec, ImagePrompts images, LongSupplier epochMillis,
                             LongSupplier nanoTime, ConstraintCompiler constraints) {
        this.limits = limits;
        this.codec = codec;
        this.images = images;
        this.epochMillis = epochMillis;
        this.nanoTime = nanoTime;
        this.constraints = constraints;
    }

    public ServingLimits limits() { return limits; }

    public PreparedRequest prepare(CompletionRequest r) {
        if (r.id() == null || r.id().isBlank()) throw reject("missing_id", "field 'id' is required");
        if (r.id().length() > MAX_ID_LENGTH) throw reject("invalid_id", "field 'id' is longer than " + MAX_ID_LENGTH);
        // U+0000 separates a request id from its choice number in the engine (PreparedRequest.choice).
        if (r.id().indexOf('\0') >= 0) throw reject("invalid_id", "field 'id' contains U+0000");
        if (r.choices() < 1 || r.choices() > MAX_CHOICES) {
            throw reject("invalid_parameter", "n must be in [1, " + MAX_CHOICES + "], got " + r.choices());
        }
        if (r.promptLogprobs() != null && (r.promptLogprobs() < 0 || r.promptLogprobs() > MAX_PROMPT_LOGPROBS)) {
            throw reject("invalid_parameter", "prompt_logprobs must be in [0, " + MAX_PROMPT_LOGPROBS + "], got " + r.promptLogprobs());
        }
        if (r.user() != null && r.user().length() > MAX_USER_LENGTH) {
            throw reject("invalid_parameter", "user is longer than " + MAX_USER_LENGTH + " characters");
        }
        if (r.model() != null && !limits.modelNames().contains(r.model())) {
            throw reject("unknown_model", "model '" + r.model() + "' is not served here; served: " + limits.modelNames());
        }
        boolean hasPrompt = r.prompt() != null;
        boolean hasMessages = r.messages() != null;
        if (hasPrompt == hasMessages) {
            throw reject(hasPrompt ? "invalid_request" : "missing_prompt",
                    hasPrompt ? "give either 'prompt' or 'messages', not both" : "field 'prompt' or 'messages' is required");
        }
        if (hasPrompt && r.prompt().isEmpty()) throw reject("missing_prompt", "field 'prompt' is empty");
        if (hasMessages) validateMessages(r.messages());

        float temperature = r.temperature() == null ? 1f : r.temperature();
        if (!(temperature >= 0f && temperature <= 2f)) throw reject("invalid_parameter", "temperature must be in [0, 2], got " + temperature);
        float topP = r.topP() == null ? 1f : r.topP();
        if (!(topP > 0f && topP <= 1f)) throw reject("invalid_parameter", "top_p must be in (0, 1], got " + topP);
        int topK = r.topK() == null ? 0 : r.topK();
        if (topK < -1) throw reject("invalid_parameter", "top_k must be -1, 0 (disabled) or positive, got " + topK);
        float minP = r.minP() == null ? 0f : r.minP();
        if (!(minP >= 0f && minP <= 1f)) throw reject("invalid_parameter", "min_p must be in [0, 1], got " + minP);
        boolean logprobs = r.logprobs() != null && r.logprobs();
        int topLogprobs = r.topLogprobs() == null ? 0 : r.topLogprobs();
        if (topLogprobs < 0 || topLogprobs > MAX_TOP_LOGPROBS) {
            throw reject("invalid_parameter", "top_logprobs must be in [0, " + MAX_TOP_LOGPROBS + "], got " + topLogprobs);
        }
        List<String> stop = r.stop() == null ? List.of() : r.stop();
        if (stop.size() > limits.maxStopStrings()) throw reject("invalid_parameter", "at most " + limits.maxStopStrings() + " stop strings");
        if (stop.stream().anyMatch(s -> s == null || s.isEmpty())) throw reject("invalid_parameter", "stop strings must be non-empty");
        if (stop.stream().anyMatch(s -> s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_STOP_BYTES)) {
            throw reject("invalid_parameter", "a stop string is longer than " + MAX_STOP_BYTES + " bytes");
        }
        int priority = r.priority() == null ? 0 : r.priority();
        if (priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
            throw reject("invalid_parameter", "priority must be in [" + MIN_PRIORITY + ", " + MAX_PRIORITY + "], got " + priority);
        }
        if (r.cacheSalt() != null && r.cacheSalt().length() > MAX_CACHE_SALT_LENGTH) {
            throw reject("invalid_parameter", "cache_salt is longer than " + MAX_CACHE_SALT_LENGTH + " characters");
        }
        if (r.deadlineMs() != null && r.deadlineMs() - epochMillis.getAsLong() > MAX_DEADLINE_AHEAD_MS) {
            throw reject("invalid_parameter", "deadline_ms is more than " + MAX_DEADLINE_AHEAD_MS / 86_400_000L + " days ahead");
        }
        float presence = penalty(r.presencePenalty(), 0f, "presence_penalty", -2f, 2f);
        float frequency = penalty(r.frequencyPenalty(), 0f, "frequency_penalty", -2f, 2f);
        float repetition = penalty(r.repetitionPenalty(), 1f, "repetition_penalty", 0f, 2f);
        if (r.repetitionPenalty() != null && repetition <= 0f) {
            throw reject("invalid_parameter", "repetition_penalty must be in (0, 2], got " + repetition);
        }
        boolean ignoreEos = r.ignoreEos() != null && r.ignoreEos();
        if (ignoreEos && r.responseFormat() != null) {
            throw reject("invalid_parameter", "ignore_eos cannot be combined with response_format (a complete document stops)");
        }
        int[] biasIds = new int[r.logitBias() == null ? 0 : r.logitBias().size()];
        float[] biasValues = new float[biasIds.length];
        if (r.logitBias() != null) {
            int k = 0;
            for (var e : r.logitBias().entrySet()) {
                float b = e.getValue();
                if (!(b >= -100f && b <= 100f)) throw reject("invalid_parameter", "logit_bias values must be in [-100, 100], got " + b);
                if (constraints != null && e.getKey() >= constraints.vocabulary().vocabSize()) {
                    throw reject("invalid_parameter", "logit_bias token id " + e.getKey() + " is not in the vocabulary");
                }
                biasIds[k] = e.getKey();
                biasValues[k++] = b;
            }
        }
        OutputGrammar constraint = null;
        if (r.responseFormat() != null) {
            if (constraints == null) throw reject("invalid_parameter", "response_format is not available for this model");
            try {
                constraint = constraints.compile(r.responseFormat());
            } catch (InvalidConstraintException e) {
                throw reject("invalid_parameter", "response_format: " + e.getMessage());
            }
        }
        ConstraintSpec toolConstraint = toolConstraint(r);
        if (toolConstraint != null) {
            if (ignoreEos) throw reject("invalid_parameter", "ignore_eos cannot be combined with tool_choice " + r.tools().choice());
            if (constraints == null) throw reject("invalid_parameter", "tool_choice " + r.tools().choice() + " is not available for this model");
            try {
                constraint = constraints.compile(toolConstraint);
            } catch (InvalidConstraintException e) {
                throw reject("invalid_parameter", "tools: a function's parameters schema: " + e.getMessage());
            }
        }

        boolean imagePrompt = hasMessages && r.messages().stream().anyMatch(RequestMessage::hasImages);
        if (imagePrompt && ((r.tools() != null && r.tools().hasTools()) || r.messages().stream().anyMatch(m -> m.toolCalls() != null))) {
            // The image prompt builder lays out Meta's format without a chat template: tools would be dropped.
            throw reject("invalid_parameter", "tools and tool calls cannot be combined with images yet");
        }
        // Calls are read from one output: tools come with one choice.
        if (r.tools() != null && r.tools().hasTools() && r.choices() > 1) {
            throw reject("invalid_parameter", "n > 1 is not supported with tools");
        }
        ImagePrompts.Encoded withImages = imagePrompt ? encodeImages(r.messages()) : null;
        // An image prompt's embeddings are computed for one sequence; its choices are not fanned out.
        if (withImages != null && r.choices() > 1) throw reject("invalid_parameter", "n > 1 is not supported with images");
        int[] prompt = withImages != null ? withImages.ids()
                : hasPrompt ? codec.encodePrompt(r.prompt()) : codec.encodeChat(r.messages(), r.tools());
        int maxLen = limits.maxModelLength();
        if (prompt.length >= maxLen) {
            throw reject("prompt_too_long", "prompt has " + prompt.length + " tokens; the context holds " + maxLen
                    + " including at least one generated token");
        }
        if (r.promptLogprobs() != null && prompt.length > MAX_PROMPT_LOGPROBS_TOKENS) {
            throw reject("invalid_parameter", "prompt_logprobs needs a prompt of at most " + MAX_PROMPT_LOGPROBS_TOKENS
                    + " tokens, got " + prompt.length);
        }
        int maxTokens;
        if (r.maxTokens() == null) {
            maxTokens = Math.min(limits.defaultMaxTokens(), maxLen - prompt.length);
        } else {
            maxTokens = r.maxTokens();
            if (maxTokens < 1 || maxTokens > limits.maxTokensLimit()) {
                throw reject("invalid_max_tokens", "max_tokens must be in [1, " + limits.maxTokensLimit() + "], got " + maxTokens);
            }
            if (prompt.length + maxTokens > maxLen) {
                throw reject("invalid_max_tokens", "prompt (" + prompt.length + " tokens) + max_tokens (" + maxTokens
                        + ") exceeds the context of " + maxLen);
            }
        }

        long deadlineNanos = Long.MAX_VALUE;
        if (r.deadlineMs() != null) {
            long remainingMs = r.deadlineMs() - epochMillis.getAsLong();
            if (remainingMs <= 0) {
                throw new RequestRejectedException("deadline_exceeded",
                        "deadline_ms " + r.deadlineMs() + " passed before the request was admitted", false);
            }
            deadlineNanos = nanoTime.getAsLong() + remainingMs * 1_000_000L;
        }
        // Without a seed one is derived from the id, so a re-run after a crash samples the same continuation.
        long seed = r.seed() != null ? r.seed() : seedFromId(r.id());
        int minTokens = r.minTokens() == null ? 0 : r.minTokens();
        if (minTokens < 0 || minTokens > maxTokens) {
            throw reject("invalid_parameter", "min_tokens must be in [0, max_tokens], got " + minTokens);
        }
        SamplingParams sampling = new SamplingParams(temperature, topP, Math.max(topK, 0), minP, seed, repetition,
                presence, frequency, ignoreEos ? new int[0] : codec.stopTokenIds().clone(), maxTokens,
                logprobs || topLogprobs > 0, topLogprobs, minTokens, biasIds, biasValues);
        EngineRequest engineRequest = new EngineRequest(r.id(), prompt, sampling, priority, deadlineNanos,
                r.cacheSalt() == null || r.cacheSalt().isEmpty() ? null : r.cacheSalt(),
                withImages == null ? List.of() : withImages.spans(), withImages == null ? null : withImages.embeddings(),
                constraint, r.promptLogprobs() == null ? -1 : r.promptLogprobs());
        return new PreparedRequest(r, engineRequest, List.copyOf(stop), codec);
    }

    /**
     * The output constraint of {@code tool_choice} required / named (TOOLS.md §7, ToolChoiceSchemas), or null when
     * the output is free (auto: parsed afterwards; none).
     */
    private static ConstraintSpec toolConstraint(CompletionRequest r) {
        ChatTools tools = r.tools();
        if (tools == null) return null;
        if (r.prompt() != null) throw reject("invalid_request", "tools need 'messages' (chat), not 'prompt'");
        boolean constrained = ChatTools.REQUIRED.equals(tools.choice()) || ChatTools.FUNCTION.equals(tools.choice());
        if (!constrained) return null;
        if (r.responseFormat() != null) {
            throw reject("invalid_request", "tool_choice " + tools.choice() + " and response_format both constrain the output; give one");
        }
        try {
            if (ChatTools.FUNCTION.equals(tools.choice())) return ConstraintSpec.jsonSchema(ToolChoiceSchemas.named(tools.tools(), tools.function()));
            String schema = ToolChoiceSchemas.required(tools.tools());
            if (!tools.parallel()) schema = schema.replaceFirst("\\{", "{\"maxItems\":1,"); // one call per turn
            return ConstraintSpec.jsonSchema(schema);
        } catch (InvalidConstraintException e) {
            throw reject("invalid_request", e.getMessage());
        }
    }

    private ImagePrompts.Encoded encodeImages(List<RequestMessage> messages) {
        if (images == null) throw reject("invalid_image", "this model does not accept images");
        try {
            return images.encode(messages);
        } catch (io.herd.image.ImageRejectedException e) {
            throw reject(e.code(), e.getMessage());
        }
    }

    private static float penalty(Float value, float absent, String name, float lo, float hi) {
        if (value == null) return absent;
        if (!(value >= lo && value <= hi)) throw reject("invalid_parameter", name + " must be in [" + lo + ", " + hi + "], got " + value);
        return value;
    }

    static long seedFromId(String id) {
        long h = 0xcbf29ce484222325L; // FNV-1a 64
        for (int i = 0; i < id.length(); i++) {
            h ^= id.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }

    private static void validateMessages(List<RequestMessage> messages) {
        if (messages.isEmpty()) throw reject("missing_prompt", "field 'messages' is empty");
        if (messages.size() > MAX_MESSAGES) throw reject("invalid_parameter", "at most " + MAX_MESSAGES + " messages");
        for (int i = 0; i < messages.size(); i++) {
            RequestMessage m = messages.get(i);
            if (m == null || m.role() == null || m.content() == null) {
                throw reject("invalid_type", "messages[" + i + "] needs string fields 'role' and 'content'");
            }
            if (!List.of("system", "user", "assistant", "tool").contains(m.role())) {
                throw reject("invalid_parameter", "messages[" + i + "].role '" + m.role() + "' is not system|user|assistant|tool");
            }
        }
    }

    private static RequestRejectedException reject(String code, String message) {
        return new RequestRejectedException(code, message);
    }
}

package io.herd.serving;

import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.TokenLogprobs;

import java.util.List;

/** The events of one request's stream, in the order they are published (see kafka-topics/README.md). */
public sealed interface StreamEvent {

    /**
     * First scheduled: time queued, prompt length, prompt tokens served from the prefix cache, prompt tokens that
     * belong to images (counted in promptTokens too).
     */
    record Started(double queueMs, int promptTokens, int cachedTokens, int imageTokens) implements StreamEvent {
        public Started(double queueMs, int promptTokens, int cachedTokens) {
            this(queueMs, promptTokens, cachedTokens, 0);
        }
    }

    /**
     * One or more generated tokens of one choice; logprobs is null unless requested, else one entry per token id.
     * {@code index} is the choice's index for a request with n &gt; 1, null for a single-choice request.
     */
    record Delta(String text, int[] tokenIds, List<TokenLogprobs> logprobs, Integer index) implements StreamEvent {
        public Delta(String text, int[] tokenIds, List<TokenLogprobs> logprobs) {
            this(text, tokenIds, logprobs, null);
        }
    }

    /**
     * The end of a successful or cancelled stream. For n &gt; 1, {@code choices} has each choice's end in index
     * order and {@code finishReason} is choice 0's; null for a single-choice request. {@code promptLogprobs}: the
     * logprobs of prompt tokens 1 … (token 0 has none) when the request asked for them, else null. {@code toolCalls}:
     * the calls the output made (finish reason {@code tool_calls}), else null.
     */
    record Done(String finishReason, Usage usage, Timings timings, List<ChoiceEnd> choices,
                List<PromptTokenLogprob> promptLogprobs, List<ToolCallOutput> toolCalls) implements StreamEvent {
        public Done(String finishReason, Usage usage, Timings timings) {
            this(finishReason, usage, timings, null, null, null);
        }
    }

    /**
     * How one choice of an n &gt; 1 request ended; cachedTokens are its prompt tokens served from the prefix cache
     * (choices after the first share the first one's prompt blocks).
     */
    record ChoiceEnd(int index, String finishReason, int completionTokens, int cachedTokens) {}

    /** The end of a failed stream. */
    record Error(String code, String message) implements StreamEvent {}

    /** @param imageTokens prompt tokens that belong to images (counted in promptTokens too) */
    record Usage(int promptTokens, int completionTokens, int cachedTokens, int imageTokens) {
        public Usage(int promptTokens, int completionTokens, int cachedTokens) {
            this(promptTokens, completionTokens, cachedTokens, 0);
        }
    }

    /**
     * Times of one attempt. Durations are measured from the moment the record was received.
     *
     * @param receivedEpochNanos wall-clock time the record was received (for trace spans)
     * @param queueNanos         received → first scheduled
     * @param ttftNanos          received → first token
     * @param e2eNanos           received → finished
     * @param itlNanos           gap before each token after the first (inter-token latency)
     */
    record Timings(long receivedEpochNanos, long queueNanos, long ttftNanos, long e2eNanos, long[] itlNanos) {}

    static String finishReason(io.herd.engine.RequestSink.FinishReason reason) {
        return switch (reason) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case CANCELLED -> "cancelled";
        };
    }
}

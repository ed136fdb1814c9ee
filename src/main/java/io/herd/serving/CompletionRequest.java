package io.herd.serving;

import io.herd.structured.ConstraintSpec;

import java.util.List;
import java.util.Map;

/**
 * A decoded request with OpenAI field names, before semantic validation. Exactly one of {@code prompt} and
 * {@code messages} is set. Boxed fields are null when the client left them out (defaults are applied by
 * {@link RequestValidator}).
 *
 * @param deadlineMs absolute deadline in Unix epoch milliseconds, or null for none
 * @param replyTo    topic for this request's events, or null for the default response topic
 * @param responseFormat what the output must be ({@code response_format}), or null for free text
 * @param logitBias      token id → shift of its logit, or null
 * @param n              independent choices to generate (1 … {@link RequestValidator#MAX_CHOICES}), or null for 1
 * @param user           the caller's end-user tag, carried for logs and metrics only, or null
 * @param promptLogprobs top-k of each prompt token's logprob to report (vLLM's prompt_logprobs), or null for none
 * @param tools          tools, tool_choice and parallel_tool_calls of a chat request, or null without tools
 */
public record CompletionRequest(String id, String model, String prompt, List<RequestMessage> messages,
                                Integer maxTokens, Float temperature, Float topP, Integer topK, Float minP, Long seed,
                                List<String> stop, Boolean logprobs, Integer topLogprobs, Integer priority,
                                Long deadlineMs, String replyTo, String cacheSalt, Map<String, Object> metadata,
                                ConstraintSpec responseFormat, Float presencePenalty, Float frequencyPenalty,
                                Float repetitionPenalty, Map<Integer, Float> logitBias, Integer minTokens,
                                Boolean ignoreEos, Integer n, String user, Integer promptLogprobs, ChatTools tools) {

    /** A request for one choice, without a user tag. */
    public CompletionRequest(String id, String model, String prompt, List<RequestMessage> messages,
                             Integer maxTokens, Float temperature, Float topP, Integer topK, Float minP, Long seed,
                             List<String> stop, Boolean logprobs, Integer topLogprobs, Integer priority,
                             Long deadlineMs, String replyTo, String cacheSalt, Map<String, Object> metadata,
                             ConstraintSpec responseFormat, Float presencePenalty, Float frequencyPenalty,
                             Float repetitionPenalty, Map<Integer, Float> logitBias, Integer minTokens,
                             Boolean ignoreEos) {
        this(id, model, prompt, messages, maxTokens, temperature, topP, topK, minP, seed, stop, logprobs, topLogprobs,
                priority, deadlineMs, replyTo, cacheSalt, metadata, responseFormat, presencePenalty, frequencyPenalty,
                repetitionPenalty, logitBias, minTokens, ignoreEos, null, null, null, null);
    }

    /** Number of choices asked for (1 when absent). */
    public int choices() { return n == null ? 1 : n; }

    /** A request without response_format or penalties. */
    public CompletionRequest(String id, String model, String prompt, List<RequestMessage> messages,
                             Integer maxTokens, Float temperature, Float topP, Integer topK, Float minP, Long seed,
                             List<String> stop, Boolean logprobs, Integer topLogprobs, Integer priority,
                             Long deadlineMs, String replyTo, String cacheSalt, Map<String, Object> metadata) {
        this(id, model, prompt, messages, maxTokens, temperature, topP, topK, minP, seed, stop, logprobs, topLogprobs,
                priority, deadlineMs, replyTo, cacheSalt, metadata, null, null, null, null, null, null, null, null, null, null, null);
    }
}

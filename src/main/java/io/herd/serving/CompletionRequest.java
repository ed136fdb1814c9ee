package io.herd.serving;

import java.util.List;
import java.util.Map;

/**
 * A decoded request with OpenAI field names, before semantic validation. Exactly one of {@code prompt} and
 * {@code messages} is set. Boxed fields are null when the client left them out (defaults are applied by
 * {@link RequestValidator}).
 *
 * @param deadlineMs absolute deadline in Unix epoch milliseconds, or null for none
 * @param replyTo    topic for this request's events, or null for the default response topic
 */
public record CompletionRequest(String id, String model, String prompt, List<ChatMessage> messages,
                                Integer maxTokens, Float temperature, Float topP, Integer topK, Float minP, Long seed,
                                List<String> stop, Boolean logprobs, Integer topLogprobs, Integer priority,
                                Long deadlineMs, String replyTo, String cacheSalt, Map<String, Object> metadata) {}

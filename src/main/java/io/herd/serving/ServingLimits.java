package io.herd.serving;

import java.util.Set;

/**
 * Bounds applied when a request is validated.
 *
 * @param maxModelLength   prompt + generated tokens must fit (the engine's context)
 * @param maxTokensLimit   largest max_tokens accepted
 * @param defaultMaxTokens used when the request leaves max_tokens out (capped by the remaining context)
 * @param modelNames       names a request's "model" may carry; a request without one gets the first
 * @param maxStopStrings   most stop strings per request
 */
public record ServingLimits(int maxModelLength, int maxTokensLimit, int defaultMaxTokens, Set<String> modelNames,
                            int maxStopStrings) {}

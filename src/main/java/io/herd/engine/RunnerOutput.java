package io.herd.engine;

import io.herd.model.sampling.TokenLogprobs;

import java.util.Map;

/**
 * What the runner produced in one step: per request that reached the end of its known tokens, the sampled token
 * (requests in the middle of a chunked prefill are absent).
 */
public record RunnerOutput(Map<String, SampledToken> sampled) {

    /** @param logprobs null unless the request asked for logprobs */
    public record SampledToken(int tokenId, TokenLogprobs logprobs) {}
}

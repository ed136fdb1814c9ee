package io.herd.engine;

import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.TokenLogprobs;

import java.util.List;
import java.util.Map;

/**
 * What the runner produced in one step: per request that reached the end of its known tokens, the sampled token
 * (requests in the middle of a chunked prefill are absent); and per request that asked for prompt logprobs, those of
 * the prompt positions this step computed (in position order, each position once).
 */
public record RunnerOutput(Map<String, SampledToken> sampled, Map<String, List<PromptTokenLogprob>> promptLogprobs) {

    public RunnerOutput(Map<String, SampledToken> sampled) {
        this(sampled, Map.of());
    }

    /** @param logprobs null unless the request asked for logprobs */
    public record SampledToken(int tokenId, TokenLogprobs logprobs) {}
}

package io.herd.engine;

import io.herd.model.sampling.SamplingParams;
import io.herd.structured.OutputGrammar;

import java.util.List;

/**
 * What one step runs, shaped as a diff against the runner's persistent batch (vLLM's SchedulerOutput): requests
 * seen for the first time come in full, the others only with what changed.
 *
 * @param scheduledNewRequests    first step of a request: all its tokens and block tables
 * @param scheduledCachedRequests later steps (and resumption after preemption)
 * @param totalNumScheduledTokens sum of the scheduled tokens, at most the step's token budget
 * @param finishedRequestIds      requests that ended since the previous step (the runner drops their state)
 */
public record SchedulerOutput(List<NewRequest> scheduledNewRequests, List<CachedRequest> scheduledCachedRequests,
                              int totalNumScheduledTokens, List<String> finishedRequestIds) {

    public boolean isEmpty() { return scheduledNewRequests.isEmpty() && scheduledCachedRequests.isEmpty(); }

    public int nScheduledRequests() { return scheduledNewRequests.size() + scheduledCachedRequests.size(); }

    /**
     * @param tokenIds           prompt tokens
     * @param globalBlockIds     GLOBAL table
     * @param chunkedBlockIds    CHUNKED table (-1 for released / not held entries)
     * @param numComputedTokens  positions already in the KV cache (prefix-cache hit)
     * @param numScheduledTokens positions to run this step, from numComputedTokens on
     * @param constraint         output constraint or null; new to the runner exactly once per request, so the
     *                           runner's cursor in it survives preemption
     * @param promptLogprobs     -1, or k: the runner computes logits at every prompt position and reports each
     *                           prompt token's logprob with the top k, once per position (also across preemption)
     */
    public record NewRequest(String requestId, int[] tokenIds, SamplingParams sampling, int[] globalBlockIds,
                             int[] chunkedBlockIds, int numComputedTokens, int numScheduledTokens,
                             PromptEmbeddings promptEmbeddings, OutputGrammar constraint, int promptLogprobs) {

        public NewRequest(String requestId, int[] tokenIds, SamplingParams sampling, int[] globalBlockIds,
                          int[] chunkedBlockIds, int numComputedTokens, int numScheduledTokens,
                          PromptEmbeddings promptEmbeddings, OutputGrammar constraint) {
            this(requestId, tokenIds, sampling, globalBlockIds, chunkedBlockIds, numComputedTokens,
                    numScheduledTokens, promptEmbeddings, constraint, -1);
        }

        public NewRequest(String requestId, int[] tokenIds, SamplingParams sampling, int[] globalBlockIds,
                          int[] chunkedBlockIds, int numComputedTokens, int numScheduledTokens) {
            this(requestId, tokenIds, sampling, globalBlockIds, chunkedBlockIds, numComputedTokens,
                    numScheduledTokens, null, null);
        }

        public NewRequest(String requestId, int[] tokenIds, SamplingParams sampling, int[] globalBlockIds,
                          int[] chunkedBlockIds, int numComputedTokens, int numScheduledTokens,
                          PromptEmbeddings promptEmbeddings) {
            this(requestId, tokenIds, sampling, globalBlockIds, chunkedBlockIds, numComputedTokens,
                    numScheduledTokens, promptEmbeddings, null);
        }

        public NewRequest(String requestId, int[] tokenIds, SamplingParams sampling, int[] globalBlockIds,
                          int[] chunkedBlockIds, int numComputedTokens, int numScheduledTokens,
                          OutputGrammar constraint) {
            this(requestId, tokenIds, sampling, globalBlockIds, chunkedBlockIds, numComputedTokens,
                    numScheduledTokens, null, constraint);
        }
    }

    /**
     * @param resumedFromPreemption true: the block tables are replaced by the new ids (the sequence restarts
     *                              from numComputedTokens, tokens kept); false: the new ids are appended
     * @param nReleasedChunkedBlocks CHUNKED entries below this logical index are released (-1)
     */
    public record CachedRequest(String requestId, boolean resumedFromPreemption, int[] newGlobalBlockIds,
                                int[] newChunkedBlockIds, int nReleasedChunkedBlocks, int numComputedTokens,
                                int numScheduledTokens) {}
}

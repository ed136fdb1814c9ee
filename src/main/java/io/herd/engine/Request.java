package io.herd.engine;

import io.herd.engine.kv.BlockHash;
import io.herd.engine.kv.IntArrayList;
import io.herd.engine.kv.MultimodalSpan;
import io.herd.model.sampling.SamplingParams;
import io.herd.structured.OutputGrammar;

import java.util.ArrayList;
import java.util.List;

/**
 * A request as the scheduler tracks it (engine thread only). {@code numComputedTokens} chases {@code numTokens()}:
 * that one rule covers chunked prefill, prefix-cache hits and recompute after preemption.
 */
public final class Request {
    final String requestId;
    final int[] promptTokens;
    final SamplingParams sampling;
    /** Output constraint, or null; the runner keeps the sequence's position in it. */
    final OutputGrammar constraint;
    final int priority;
    final long deadlineNanos;
    final RequestSink sink;
    /** Arrival order; ties between equal priorities go to the earlier one. */
    final long arrivalSeq;
    /** Effective (aged) priority when last admitted to running; what priority preemption compares against. */
    long admittedPriority;
    /** Step at which the request (re-)entered the waiting queue, for priority aging. */
    long waitingSinceStep;

    /** Prompt then generated tokens. */
    final IntArrayList tokens;
    final List<BlockHash> blockHashes = new ArrayList<>();
    private final BlockHash rootHash;
    private final int blockSize;
    private final List<MultimodalSpan> multimodalSpans;
    /** Image rows for prompt positions, handed to the runner with the request; null for text-only prompts. */
    final PromptEmbeddings promptEmbeddings;
    /** -1, or the top-k of the prompt logprobs the request asked for (see {@link EngineRequest#promptLogprobs}). */
    final int promptLogprobs;

    RequestStatus status = RequestStatus.WAITING;
    int numComputedTokens;
    boolean everScheduled;
    /** True once the runner has this request's state (so later steps send diffs). */
    boolean knownToRunner;

    Request(EngineRequest r, RequestSink sink, long arrivalSeq, BlockHash rootHash, int blockSize) {
        this.requestId = r.requestId();
        this.promptTokens = r.promptTokens().clone();
        this.sampling = r.sampling();
        this.constraint = r.constraint();
        this.priority = r.priority();
        this.deadlineNanos = r.deadlineNanos();
        this.sink = sink;
        this.arrivalSeq = arrivalSeq;
        this.rootHash = rootHash;
        this.blockSize = blockSize;
        this.multimodalSpans = r.multimodalSpans();
        this.promptEmbeddings = r.promptEmbeddings();
        this.promptLogprobs = r.promptLogprobs();
        this.tokens = IntArrayList.of(promptTokens);
        extendHashes();
    }

    public String requestId() { return requestId; }

    public int priority() { return priority; }

    public RequestStatus status() { return status; }

    public int numTokens() { return tokens.size(); }

    public int numOutputTokens() { return tokens.size() - promptTokens.length; }

    public int numComputedTokens() { return numComputedTokens; }

    void appendOutputToken(int tokenId) {
        tokens.add(tokenId);
        extendHashes();
    }

    /** Chained hashes of every full block of the known tokens (vLLM computes them as tokens arrive). */
    private void extendHashes() {
        int nFull = tokens.size() / blockSize;
        if (blockHashes.size() >= nFull) return;
        BlockHash parent = blockHashes.isEmpty() ? rootHash : blockHashes.getLast();
        for (int i = blockHashes.size(); i < nFull; i++) {
            parent = BlockHash.chain(parent, tokens, i * blockSize, (i + 1) * blockSize, multimodalSpans);
            blockHashes.add(parent);
        }
    }

    @Override
    public String toString() {
        return "Request[" + requestId + " " + status + " prio=" + priority + " computed=" + numComputedTokens
                + "/" + numTokens() + "]";
    }
}

package io.herd.engine;

import io.herd.engine.kv.KvBlocks;
import io.herd.engine.kv.KvCacheLayout;
import io.herd.engine.kv.KvCacheManager;
import io.herd.engine.kv.NewBlocks;
import io.herd.engine.kv.PrefixHit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Continuous batching without separate prefill and decode phases (vLLM v1): every step, each running request gets
 * {@code numTokens - numComputedTokens} tokens (1 when decoding, a prompt chunk when prefilling), capped by the step's
 * token budget and by the end of its attention chunk; leftover budget admits waiting requests, best priority first.
 * When blocks run out, the lowest-priority, latest-arrived running request is preempted: its blocks are freed and it
 * is recomputed later (its full blocks usually come back from the prefix cache). Engine thread only.
 */
public final class Scheduler {

    /** Notified on the engine thread when a request is scheduled for the first time and when it is retired. */
    public interface Listener {
        void started(Request request);

        void retired(Request request);
    }

    /** Serving order among running requests, and preemption order read backwards. */
    /** Prompt positions per step of a request that asked for prompt logprobs (each one a row of logits). */
    static final int PROMPT_LOGPROBS_CHUNK = 64;
    private static final Comparator<Request> BY_PRIORITY =
            Comparator.comparingInt((Request r) -> r.priority).thenComparingLong(r -> r.arrivalSeq);

    private final EngineConfig config;
    private final KvCacheManager kv;
    private final int maxModelLength;
    private final Listener listener;
    private final Map<String, Request> requests = new HashMap<>();
    private final List<Request> waiting = new ArrayList<>();
    private final List<Request> running = new ArrayList<>();
    private List<String> finishedIds = new ArrayList<>();
    private long step;

    private long prefixCacheQueries;
    private long prefixCacheHits;
    private long promptTokens;
    private long generationTokens;
    private long preemptions;

    public Scheduler(EngineConfig config, KvCacheLayout layout, int maxModelLength, Listener listener) {
        this.config = config;
        this.kv = new KvCacheManager(layout, config.enablePrefixCaching());
        this.maxModelLength = maxModelLength;
        this.listener = listener;
    }

    public KvCacheManager kvCacheManager() { return kv; }

    public int maxModelLength() { return maxModelLength; }

    public boolean hasWork() { return !waiting.isEmpty() || !running.isEmpty(); }

    public int numWaiting() { return waiting.size(); }

    public int numRunning() { return running.size(); }

    public boolean contains(String requestId) { return requests.containsKey(requestId); }

    public Request request(String requestId) { return requests.get(requestId); }

    public EngineStats stats(int extraWaiting) {
        return new EngineStats(running.size(), waiting.size() + extraWaiting, kv.usage(), prefixCacheQueries,
                prefixCacheHits, promptTokens, generationTokens, preemptions);
    }

    /** Queues a validated request (prompt shorter than maxModelLength, non-empty). */
    public void addRequest(Request r) {
        if (requests.putIfAbsent(r.requestId, r) != null) {
            throw new IllegalStateException("request id already live: " + r.requestId);
        }
        r.status = RequestStatus.WAITING;
        r.waitingSinceStep = step;
        waiting.add(r);
    }

    /** Cancels a queued or running request: frees its blocks, sink gets onFinished(CANCELLED). */
    public boolean abort(String requestId) {
        Request r = requests.get(requestId);
        if (r == null) return false;
        retire(r, RequestStatus.FINISHED_ABORTED);
        r.sink.onFinished(RequestSink.FinishReason.CANCELLED);
        return true;
    }

    /** Fails every request whose deadline is at or before {@code nowNanos} with deadline_exceeded. */
    public int failExpired(long nowNanos) {
        List<Request> expired = new ArrayList<>();
        for (Request r : requests.values()) {
            if (r.deadlineNanos != Long.MAX_VALUE && nowNanos - r.deadlineNanos >= 0) expired.add(r);
        }
        expired.sort(Comparator.comparingLong(r -> r.arrivalSeq));
        for (Request r : expired) {
            retire(r, RequestStatus.FINISHED_ERROR);
            r.sink.onError("deadline_exceeded", "request " + r.requestId + " passed its deadline after "
                    + r.numOutputTokens() + " generated tokens");
        }
        return expired.size();
    }

    /** Retires every live request with an error (engine shutdown or failure). */
    public void failAll(String code, String message) {
        List<Request> all = new ArrayList<>(requests.values());
        all.sort(Comparator.comparingLong(r -> r.arrivalSeq));
        for (Request r : all) {
            retire(r, RequestStatus.FINISHED_ERROR);
            r.sink.onError(code, message);
        }
    }

    public SchedulerOutput schedule() {
        step++;
        int budget = config.maxNumBatchedTokens();
        List<SchedulerOutput.NewRequest> newReqs = new ArrayList<>();
        List<SchedulerOutput.CachedRequest> cachedReqs = new ArrayList<>();
        int total = 0;

        preemptForPriority();
        // Decoding requests first (one token each), then prompt chunks: a long prompt never stalls running streams.
        List<Request> order = new ArrayList<>(running);
        order.sort(Comparator.comparing((Request r) -> r.numTokens() - r.numComputedTokens > 1).thenComparing(BY_PRIORITY));
        Set<Request> done = new HashSet<>(); // Request has identity equality
        boolean preempted = false;
        for (Request r : order) {
            if (budget == 0) break;
            if (r.status != RequestStatus.RUNNING) continue; // preempted earlier in this step
            int nNew = numNewTokens(r, r.numComputedTokens, budget);
            Optional<NewBlocks> blocks;
            while ((blocks = kv.allocateSlots(r.requestId, r.numComputedTokens, nNew, PrefixHit.NONE)).isEmpty()) {
                // Scheduled requests keep their blocks; the victim is the lowest-ranked of the rest (maybe r).
                Request victim = running.stream().filter(x -> !done.contains(x)).max(BY_PRIORITY).orElseThrow();
                preempt(victim);
                preempted = true;
                if (victim == r) break;
            }
            if (blocks.isEmpty()) continue;
            done.add(r);
            NewBlocks nb = blocks.get();
            KvBlocks t = kv.table(r.requestId);
            cachedReqs.add(new SchedulerOutput.CachedRequest(r.requestId, false, nb.global(), nb.chunked(),
                    t.nReleasedChunked(), r.numComputedTokens, nNew));
            budget -= nNew;
            total += nNew;
        }

        // vLLM admits nothing in a step that had to preempt: memory is short, admitting would only thrash.
        while (!preempted && budget > 0 && !waiting.isEmpty() && running.size() < config.maxNumSeqs()) {
            Request r = bestWaiting();
            PrefixHit hit = prefixHit(r);
            int nComputed = hit.nTokens();
            int nNew = numNewTokens(r, nComputed, budget);
            Optional<NewBlocks> blocks = kv.allocateSlots(r.requestId, nComputed, nNew, hit);
            if (blocks.isEmpty()) break; // head of line waits: skipping it would starve long prompts
            r.admittedPriority = effectivePriority(r);
            waiting.remove(r);
            running.add(r);
            r.status = RequestStatus.RUNNING;
            r.numComputedTokens = nComputed;
            KvBlocks t = kv.table(r.requestId);
            if (!r.everScheduled) {
                r.everScheduled = true;
                prefixCacheQueries += r.promptTokens.length;
                prefixCacheHits += nComputed;
                promptTokens += r.promptTokens.length;
                listener.started(r);
                r.sink.onStarted(r.promptTokens.length, nComputed);
            }
            if (!r.knownToRunner) {
                r.knownToRunner = true;
                newReqs.add(new SchedulerOutput.NewRequest(r.requestId, r.tokens.toArray(), r.sampling,
                        t.globalIds(), t.chunkedIds(), nComputed, nNew, r.promptEmbeddings, r.constraint, r.promptLogprobs));
            } else {
                cachedReqs.add(new SchedulerOutput.CachedRequest(r.requestId, true, t.globalIds(), t.chunkedIds(),
                        t.nReleasedChunked(), nComputed, nNew));
            }
            budget -= nNew;
            total += nNew;
        }

        List<String> finished = finishedIds;
        finishedIds = new ArrayList<>();
        return new SchedulerOutput(List.copyOf(newReqs), List.copyOf(cachedReqs), total, List.copyOf(finished));
    }

    /** Applies the runner's sampled tokens: advances computed counts, emits tokens, stops, caches full blocks. */
    public void updateFromOutput(SchedulerOutput out, RunnerOutput result) {
        Map<Request, Integer> scheduled = new LinkedHashMap<>(); // scheduled order: events stay deterministic
        for (SchedulerOutput.NewRequest n : out.scheduledNewRequests()) scheduled.put(live(n.requestId()), n.numScheduledTokens());
        for (SchedulerOutput.CachedRequest c : out.scheduledCachedRequests()) scheduled.put(live(c.requestId()), c.numScheduledTokens());
        for (Map.Entry<Request, Integer> e : scheduled.entrySet()) {
            Request r = e.getKey();
            r.numComputedTokens += e.getValue();
            RunnerOutput.SampledToken s = result.sampled().get(r.requestId);
            boolean atEnd = r.numComputedTokens == r.numTokens();
            if (atEnd != (s != null)) {
                throw new IllegalStateException(r + ": runner " + (s == null ? "sampled nothing" : "sampled mid-prefill"));
            }
            RequestStatus finish = null;
            var promptLogprobs = result.promptLogprobs().get(r.requestId);
            if (promptLogprobs != null && !promptLogprobs.isEmpty()) r.sink.onPromptLogprobs(promptLogprobs);
            if (s != null) {
                r.appendOutputToken(s.tokenId());
                generationTokens++;
                r.sink.onToken(s.tokenId(), s.logprobs());
                finish = stopStatus(r, s.tokenId());
            }
            kv.onComputed(r.requestId, r.blockHashes, r.numComputedTokens);
            if (finish != null) {
                retire(r, finish);
                r.sink.onFinished(finish == RequestStatus.FINISHED_STOPPED
                        ? RequestSink.FinishReason.STOP : RequestSink.FinishReason.LENGTH);
            }
        }
    }

    private RequestStatus stopStatus(Request r, int tokenId) {
        for (int stop : r.sampling.stopTokenIds()) if (stop == tokenId) return RequestStatus.FINISHED_STOPPED;
        if (r.numOutputTokens() >= r.sampling.maxTokens() || r.numTokens() >= maxModelLength) {
            return RequestStatus.FINISHED_LENGTH;
        }
        return null;
    }

    private Request live(String requestId) {
        Request r = requests.get(requestId);
        if (r == null || r.status != RequestStatus.RUNNING) {
            throw new IllegalStateException("scheduled request " + requestId + " is not running: " + r);
        }
        return r;
    }

    /**
     * Tokens to run for {@code r} from {@code nComputed}: all it has, within the budget and never past the end of
     * its attention chunk (so one step never needs more CHUNKED blocks than one chunk's).
     */
    private int numNewTokens(Request r, int nComputed, int budget) {
        int n = Math.min(r.numTokens() - nComputed, budget);
        // Every prompt position of a prompt-logprobs request yields a row of logits: few per step bound that memory.
        if (r.promptLogprobs >= 0 && nComputed < r.promptTokens.length) n = Math.min(n, PROMPT_LOGPROBS_CHUNK);
        KvCacheLayout layout = kv.layout();
        if (layout.hasChunkedGroup()) n = Math.min(n, layout.nextChunkStart(nComputed) - nComputed);
        if (n <= 0) throw new IllegalStateException(r + ": nothing to schedule");
        return n;
    }

    /**
     * A waiting request of strictly better (effective) priority than a running one's priority at admission, that cannot start (no sequence slot or no blocks) preempts the
     * lowest-priority running requests, one at a time, until it can.
     */
    private void preemptForPriority() {
        if (waiting.isEmpty() || running.isEmpty()) return;
        Request head = bestWaiting();
        PrefixHit hit = prefixHit(head);
        while (!running.isEmpty()) {
            Request worst = running.stream().max(BY_PRIORITY).orElseThrow();
            // Compare as admitted: an aged request must not be pushed out again by the ones it aged past.
            if (effectivePriority(head) >= worst.admittedPriority) return;
            boolean blocked = running.size() >= config.maxNumSeqs()
                    || !kv.canAllocate(head.requestId, hit.nTokens(),
                            numNewTokens(head, hit.nTokens(), config.maxNumBatchedTokens()), hit);
            if (!blocked) return;
            preempt(worst);
            hit = prefixHit(head);
        }
    }

    /**
     * The cached prefix a request may start from. None for a prompt-logprobs request: the logits of every prompt
     * position are needed, so its prompt is computed in full (its blocks still go into the cache for others).
     */
    private PrefixHit prefixHit(Request r) {
        return r.promptLogprobs >= 0 ? PrefixHit.NONE : kv.findCachedPrefix(r.blockHashes, r.numTokens());
    }

    /** Best waiting request: lowest effective priority (aged), then earliest arrival. */
    private Request bestWaiting() {
        Request best = null;
        long bestPrio = 0;
        for (Request r : waiting) {
            long p = effectivePriority(r);
            if (best == null || p < bestPrio || (p == bestPrio && r.arrivalSeq < best.arrivalSeq)) {
                best = r;
                bestPrio = p;
            }
        }
        return best;
    }

    private long effectivePriority(Request r) {
        if (config.priorityAgingSteps() == 0) return r.priority;
        return (long) r.priority - (step - r.waitingSinceStep) / config.priorityAgingSteps();
    }

    private void preempt(Request r) {
        kv.free(r.requestId);
        running.remove(r);
        r.status = RequestStatus.PREEMPTED;
        r.numComputedTokens = 0;
        r.waitingSinceStep = step;
        waiting.add(r);
        preemptions++;
    }

    private void retire(Request r, RequestStatus status) {
        kv.free(r.requestId);
        running.remove(r);
        waiting.remove(r);
        requests.remove(r.requestId);
        r.status = status;
        if (r.knownToRunner) finishedIds.add(r.requestId);
        listener.retired(r);
    }
}

package io.herd.serving;

import io.herd.engine.EngineRequest;
import io.herd.engine.InferenceEngine;
import io.herd.engine.RequestSink;
import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.TokenLogprobs;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The request lifecycle between the Kafka edge and the engine: admission, submission, incremental detokenizing,
 * stop strings, delta batching, deadlines, cancellation and the terminal event.
 *
 * <p>Threads: the engine calls each request's {@link RequestSink} on its own thread; those calls, broker
 * acknowledgements and control signals only enqueue onto {@code inbox}. One platform thread, "herd-stream-out",
 * owns all stream state and is the only caller of {@link StreamOutput#publish}, so each stream's events leave in
 * order and no lock guards a stream.
 */
public final class Frontend implements AutoCloseable {

    /**
     * @param maxInFlight      requests admitted and not yet finished (the admission queue bound)
     * @param maxDeltaLatency  longest a generated token may wait for its delta under load
     * @param maxUnackedDeltas deltas of one stream awaiting the broker before tokens start to share deltas
     * @param submitRetry      pause before offering a request again when the engine's queue was full
     * @param cancelMemory     how long a cancel for a not-yet-seen id is remembered
     * @param maxEarlyCancels  how many such cancels are remembered at most (the oldest is forgotten first)
     */
    public record Config(int maxInFlight, Duration maxDeltaLatency, int maxUnackedDeltas, Duration submitRetry,
                         Duration cancelMemory, int maxEarlyCancels) {
        public Config(int maxInFlight, Duration maxDeltaLatency, int maxUnackedDeltas, Duration submitRetry,
                      Duration cancelMemory) {
            this(maxInFlight, maxDeltaLatency, maxUnackedDeltas, submitRetry, cancelMemory, 100_000);
        }
    }

    /** How a stream ended. */
    public enum Outcome {
        /** The terminal event (done or error) was acknowledged by the broker. */
        COMPLETED,
        /**
         * Dropped without a terminal event (partition revoked, shutdown): the request is left to be re-run. Reported
         * only once the engine let go of it and every event already sent was acknowledged or failed, so nothing of
         * this attempt can follow the next one.
         */
        ABANDONED,
        /**
         * An event could not be published: the attempt was stopped at once (nothing after the lost event is sent)
         * and, as for {@link #ABANDONED}, reported once it settled; the caller runs the next attempt.
         */
        PUBLISH_FAILED
    }

    /** Called once per started stream, on the output thread, when it has ended. */
    @FunctionalInterface
    public interface Completion {
        void ended(Outcome outcome, Throwable failure);
    }

    private static final long DEADLINE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final InferenceEngine engine;
    private final StreamOutput output;
    private final Config config;
    private final LongSupplier nanoTime;
    private final AdmissionGate gate;
    private final PublishGate publishGate;
    private final LinkedBlockingQueue<Signal> inbox = new LinkedBlockingQueue<>();
    private final Map<String, Stream> active = new ConcurrentHashMap<>();
    private final CancelMemory earlyCancels;
    // Owned by the output thread:
    private final Set<Choice> dirty = new LinkedHashSet<>();
    private final ArrayDeque<Choice> unsubmitted = new ArrayDeque<>();
    private final Set<Stream> holding = new LinkedHashSet<>();
    private long nextRetryNanos;
    private long nextDeadlineCheckNanos;
    private final Thread thread;
    private volatile boolean closed;
    private volatile Throwable failure;

    public Frontend(InferenceEngine engine, StreamOutput output, Config config) {
        this(engine, output, config, PublishGate.ALWAYS_OPEN, System::nanoTime);
    }

    public Frontend(InferenceEngine engine, StreamOutput output, Config config, PublishGate publishGate) {
        this(engine, output, config, publishGate, System::nanoTime);
    }

    Frontend(InferenceEngine engine, StreamOutput output, Config config, LongSupplier nanoTime) {
        this(engine, output, config, PublishGate.ALWAYS_OPEN, nanoTime);
    }

    Frontend(InferenceEngine engine, StreamOutput output, Config config, PublishGate publishGate, LongSupplier nanoTime) {
        this.publishGate = publishGate;
        this.engine = engine;
        this.output = output;
        this.config = config;
        this.nanoTime = nanoTime;
        this.gate = new AdmissionGate(config.maxInFlight());
        this.earlyCancels = new CancelMemory(config.maxEarlyCancels(), config.cancelMemory().toNanos());
        this.thread = Thread.ofPlatform().name("herd-stream-out").daemon().unstarted(this::run);
        thread.start();
    }

    /** Completes when the request may be started; the caller then calls {@link #start} or {@link #releaseCapacity}. */
    public CompletionStage<Void> awaitCapacity() { return gate.acquire(); }

    /** Gives back a slot taken with {@link #awaitCapacity} for a request that will not be started. */
    public void releaseCapacity() { gate.release(); }

    /** Starts a request holding an admission slot; {@code completion} hears how it ended. */
    public void start(PreparedRequest request, StreamTarget target, long receivedNanos, long receivedEpochNanos,
                      Completion completion) {
        start(request, target, receivedNanos, receivedEpochNanos, output, CLEARED, completion);
    }

    /**
     * As {@link #start(PreparedRequest, StreamTarget, long, long, Completion)}, but none of the stream's events leaves
     * before {@code clearance} completes: the request computes meanwhile, so whatever must be settled before its first
     * event (the running marker of its attempt) overlaps its prefill instead of preceding it. A failed clearance
     * abandons the stream without an event.
     */
    public void start(PreparedRequest request, StreamTarget target, long receivedNanos, long receivedEpochNanos,
                      CompletionStage<Void> clearance, Completion completion) {
        start(request, target, receivedNanos, receivedEpochNanos, output, clearance, completion);
    }

    /** As {@link #start(PreparedRequest, StreamTarget, long, long, Completion)}, with this stream's events sent to
     *  {@code streamOutput} (e.g. an HTTP response) instead of the default output. */
    public void start(PreparedRequest request, StreamTarget target, long receivedNanos, long receivedEpochNanos,
                      StreamOutput streamOutput, Completion completion) {
        start(request, target, receivedNanos, receivedEpochNanos, streamOutput, CLEARED, completion);
    }

    private static final CompletionStage<Void> CLEARED = CompletableFuture.completedFuture(null);

    private void start(PreparedRequest request, StreamTarget target, long receivedNanos, long receivedEpochNanos,
                       StreamOutput streamOutput, CompletionStage<Void> clearance, Completion completion) {
        Stream stream = new Stream(request, target, receivedNanos, receivedEpochNanos, streamOutput, completion);
        Stream previous = active.putIfAbsent(request.id(), stream);
        if (previous != null) {
            gate.release();
            throw new IllegalStateException("request " + request.id() + " is already running");
        }
        CompletableFuture<Void> c = clearance.toCompletableFuture();
        stream.cleared = c.isDone() && !c.isCompletedExceptionally();
        inbox.add(new Signal.Start(stream));
        if (!stream.cleared) c.whenComplete((ok, error) -> inbox.add(new Signal.Cleared(stream, error)));
    }

    /** Cancels a request: it ends with done/cancelled. An id not seen yet is remembered for a while. */
    public void cancel(String requestId) { inbox.add(new Signal.Cancel(requestId)); }

    /** Stops a request without a terminal event, leaving it to be re-run elsewhere. */
    public void abandon(String requestId) { inbox.add(new Signal.Abandon(requestId)); }

    public boolean isActive(String requestId) { return active.containsKey(requestId); }

    public Set<String> activeIds() { return Set.copyOf(active.keySet()); }

    public int inFlight() { return gate.used(); }

    public int waitingForAdmission() { return gate.waiting(); }

    public int capacity() { return gate.capacity(); }

    /** The output thread's failure, if it died of a broken invariant. */
    public Throwable failure() { return failure; }

    /** Waits until no stream is active or the timeout passes; true when idle. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!active.isEmpty()) {
            if (System.nanoTime() >= end) return false;
            Thread.sleep(10); // a shutdown-only poll; no hot path waits here
        }
        return true;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- output thread ----------------------------------------------------------------------------------------

    private void run() {
        try {
            while (!closed) {
                Signal signal = inbox.poll(waitNanos(), TimeUnit.NANOSECONDS);
                while (signal != null) {
                    handle(signal);
                    signal = inbox.poll();
                }
                long now = nanoTime.getAsLong();
                if (!holding.isEmpty() && publishGate.isOpen(now)) releaseHeld();
                if (!unsubmitted.isEmpty() && now >= nextRetryNanos) retrySubmits(now);
                if (now >= nextDeadlineCheckNanos) {
                    checkDeadlines(now);
                    nextDeadlineCheckNanos = now + DEADLINE_CHECK_NANOS;
                }
                flushDue(now);
            }
        } catch (InterruptedException e) {
            if (!closed) failure = e;
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        }
    }

    private long waitNanos() {
        long now = nanoTime.getAsLong();
        long wake = nextDeadlineCheckNanos;
        if (!holding.isEmpty()) wake = Math.min(wake, now + TimeUnit.MILLISECONDS.toNanos(10));
        if (!unsubmitted.isEmpty()) wake = Math.min(wake, nextRetryNanos);
        for (Choice c : dirty) wake = Math.min(wake, c.batcher.dueAtNanos());
        return Math.max(0, Math.min(wake - now, TimeUnit.MILLISECONDS.toNanos(50)));
    }

    private void handle(Signal signal) {
        switch (signal) {
            case Signal.Start(Stream s) -> {
                boolean cancelled = earlyCancels.take(s.id(), nanoTime.getAsLong());
                if (s.terminalSent || s.abandoned) return; // ended (deadline, cancel, abandon) before its start was read
                if (cancelled) {
                    for (Choice c : s.choices) finishChoice(c, "cancelled");
                } else {
                    submit(s.choices[0]);
                }
            }
            case Signal.Started(Choice c, long at, int promptTokens, int cachedTokens) -> onStarted(c, at, promptTokens, cachedTokens);
            case Signal.Token(Choice c, long at, int tokenId, TokenLogprobs lp) -> onToken(c, at, tokenId, lp);
            case Signal.PromptLogprobs(Choice c, List<PromptTokenLogprob> lps) -> {
                if (c.stream.promptLogprobs != null && c.index == 0) c.stream.promptLogprobs.addAll(lps);
            }
            case Signal.Finished(Choice c, long at, RequestSink.FinishReason reason) -> {
                c.engineDone = true;
                Stream s = c.stream;
                if (s.abandoned) endAbandonedWhenSettled(s);
                else if (!s.terminalSent && c.finishReason == null) {
                    c.finishedNanos = at;
                    submitOtherChoices(s);
                    finishChoice(c, StreamEvent.finishReason(reason));
                }
            }
            case Signal.Failed(Choice c, long at, String code, String message) -> {
                c.engineDone = true;
                Stream s = c.stream;
                if (s.abandoned) endAbandonedWhenSettled(s);
                else if (!s.terminalSent) {
                    stopChoices(s);
                    fail(s, code, message);
                }
            }
            case Signal.Acked(Stream s, Choice c, boolean terminal, Throwable error) -> onAcked(s, c, terminal, error);
            case Signal.Cancel(String id) -> onCancel(id);
            case Signal.Abandon(String id) -> onAbandon(id);
            case Signal.Cleared(Stream s, Throwable error) -> onCleared(s, error);
        }
    }

    private void submit(Choice c) {
        c.submitted = true;
        if (engine.submit(c.engineRequest, c)) {
            c.inEngine = true;
        } else {
            if (unsubmitted.isEmpty()) nextRetryNanos = nanoTime.getAsLong() + config.submitRetry().toNanos();
            unsubmitted.add(c);
        }
    }

    /**
     * Choices after the first enter the engine once the first has its first token (or ended): its prompt blocks
     * are then computed and in the prefix cache, so theirs are cache hits and only the last partial block is
     * prefilled again.
     */
    private void submitOtherChoices(Stream s) {
        if (s.otherChoicesSubmitted || s.terminalSent || s.abandoned) return;
        s.otherChoicesSubmitted = true;
        for (int i = 1; i < s.choices.length; i++) if (s.choices[i].finishReason == null) submit(s.choices[i]);
    }

    private void retrySubmits(long now) {
        int n = unsubmitted.size();
        for (int i = 0; i < n; i++) {
            Choice c = unsubmitted.poll();
            if (!engine.submit(c.engineRequest, c)) {
                unsubmitted.addFirst(c); // keep arrival order; the engine is still full
                break;
            }
            c.inEngine = true;
        }
        nextRetryNanos = now + config.submitRetry().toNanos();
    }

    private void onStarted(Choice c, long at, int promptTokens, int cachedTokens) {
        Stream s = c.stream;
        c.cachedTokens = cachedTokens;
        if (s.terminalSent || s.abandoned || s.startedNanos != 0) return;
        s.startedNanos = at;
        s.promptTokens = promptTokens;
        s.cachedTokens = cachedTokens;
        publish(s, new StreamEvent.Started((at - s.receivedNanos) / 1e6, promptTokens, cachedTokens, s.imageTokens), false);
    }

    private void onToken(Choice c, long at, int tokenId, TokenLogprobs lp) {
        Stream s = c.stream;
        if (s.terminalSent || s.abandoned || c.finishReason != null) return;
        if (s.firstTokenNanos == 0) s.firstTokenNanos = at;
        if (c.lastTokenNanos != 0) c.itl.add(at - c.lastTokenNanos);
        c.lastTokenNanos = at;
        c.completionTokens++;
        c.batcher.add(tokenId, lp, at);
        submitOtherChoices(s);
        if (c.stop.append(c.decoder.append(tokenId))) {
            c.finishedNanos = at;
            if (c.inEngine && !c.engineDone) engine.abort(c.engineRequest.requestId());
            finishChoice(c, "stop");
        } else {
            dirty.add(c);
        }
    }

    private void onAcked(Stream s, Choice sentBy, boolean terminal, Throwable error) {
        s.unacked--;
        if (error != null && s.publishFailure == null) s.publishFailure = error;
        if (s.abandoned) {
            endAbandonedWhenSettled(s);
        } else if (error != null && !terminal && !s.terminalSent) {
            // A lost event would leave a gap in seq: stop this attempt; the caller runs the next one.
            s.abandoned = true;
            dropHeld(s);
            stopChoices(s);
            endAbandonedWhenSettled(s);
        } else if (terminal) {
            end(s, s.publishFailure == null ? Outcome.COMPLETED : Outcome.PUBLISH_FAILED, s.publishFailure);
        } else {
            (sentBy != null ? sentBy : s.choices[0]).batcher.acked();
            sendNext(s);
        }
    }

    /** Nothing of the stream awaits the broker: its next held event goes, or its gathered tokens become due. */
    private void sendNext(Stream s) {
        if (!s.held.isEmpty() && publishGate.isOpen(nanoTime.getAsLong())) {
            Held h = s.held.poll();
            if (s.held.isEmpty()) holding.remove(s);
            send(s, h.seq(), h.event(), h.terminal(), h.choice());
        } else {
            for (Choice c : s.choices) if (c.batcher.hasPending()) dirty.add(c);
        }
    }

    /** Takes every choice of a stream out of the engine and out of the queues, without events. */
    private void stopChoices(Stream s) {
        for (Choice c : s.choices) {
            dirty.remove(c);
            if (unsubmitted.remove(c)) c.inEngine = false;
            if (c.inEngine && !c.engineDone) engine.abort(c.engineRequest.requestId());
        }
    }

    private void onCancel(String id) {
        Stream s = active.get(id);
        if (s == null) {
            earlyCancels.remember(id, nanoTime.getAsLong());
            return;
        }
        if (s.terminalSent || s.abandoned) return;
        for (Choice c : s.choices) {
            if (c.finishReason != null) continue;
            if (unsubmitted.remove(c) || c.engineDone || !c.inEngine) {
                // Queued, settled, not submitted yet, or its Start signal is still queued behind this one.
                finishChoice(c, "cancelled");
            } else {
                engine.abort(c.engineRequest.requestId()); // the engine answers with onFinished(CANCELLED)
            }
            if (s.terminalSent) return;
        }
    }

    private void onCleared(Stream s, Throwable error) {
        if (s.ended || s.abandoned) return;
        if (error != null) {
            abandon(s); // nothing of it has left: it runs again wherever its record is read next
            return;
        }
        s.cleared = true;
        sendNext(s);
    }

    private void onAbandon(String id) {
        Stream s = active.get(id);
        // A terminal event still held (not sent) does not count: it never leaves once the stream is abandoned.
        if (s == null || s.abandoned || (s.terminalSent && s.held.isEmpty())) return;
        abandon(s);
    }

    private void abandon(Stream s) {
        s.abandoned = true;
        dropHeld(s);
        stopChoices(s); // ends when the engine confirms, so the KV is free first
        endAbandonedWhenSettled(s);
    }

    /** Events held while the gate was closed never leave once their stream is abandoned (it runs elsewhere now). */
    private void dropHeld(Stream s) {
        s.held.clear();
        holding.remove(s);
    }

    /** Ends an abandoned stream once the engine let go of it and none of its events awaits the broker. */
    private void endAbandonedWhenSettled(Stream s) {
        for (Choice c : s.choices) if (c.inEngine && !c.engineDone) return;
        if (s.unacked == 0) {
            end(s, s.publishFailure == null ? Outcome.ABANDONED : Outcome.PUBLISH_FAILED, s.publishFailure);
        }
    }

    private void checkDeadlines(long now) {
        for (Stream s : active.values()) {
            long deadline = s.request.engineRequest().deadlineNanos();
            if (deadline != Long.MAX_VALUE && now >= deadline && !s.terminalSent && !s.abandoned) {
                stopChoices(s);
                fail(s, "deadline_exceeded", "deadline passed after " + s.completionTokens() + " generated tokens");
            }
        }
        earlyCancels.expire(now);
    }

    private void flushDue(long now) {
        for (Iterator<Choice> it = dirty.iterator(); it.hasNext(); ) {
            Choice c = it.next();
            Stream s = c.stream;
            if (s.terminalSent || s.abandoned || !c.batcher.hasPending()) {
                it.remove();
            } else if (s.unacked > 0 || !s.cleared) {
                it.remove(); // tokens keep gathering; the acknowledgement (or the clearance) marks the choice dirty again
            } else if (c.batcher.due(now)) {
                it.remove();
                flushDelta(c, false);
            }
        }
    }

    private void flushDelta(Choice c, boolean end) {
        if (end && !c.stop.stopped()) c.stop.append(c.decoder.finish());
        String text = c.stop.take(end);
        if (c.outputText != null) c.outputText.append(text);
        int[] tokenIds = c.batcher.takeTokenIds();
        var logprobs = c.batcher.takeLogprobs();
        if (tokenIds.length == 0 && text.isEmpty()) return;
        c.batcher.sent();
        Integer index = c.stream.choices.length > 1 ? c.index : null;
        publish(c.stream, new StreamEvent.Delta(text, tokenIds, logprobs, index), false, c);
    }

    /**
     * Ends one choice: its last delta goes out, and when it was the last choice still running, the request's one
     * {@code done}. With n &gt; 1, {@code done} names each choice's end; its finish_reason is choice 0's.
     */
    private void finishChoice(Choice c, String finishReason) {
        Stream s = c.stream;
        if (c.finishReason != null || s.terminalSent) return;
        c.finishReason = finishReason;
        if (c.finishedNanos == 0) c.finishedNanos = nanoTime.getAsLong();
        flushDelta(c, true);
        for (Choice other : s.choices) if (other.finishReason == null) return;
        long finished = 0;
        for (Choice other : s.choices) finished = Math.max(finished, other.finishedNanos);
        long ttft = s.firstTokenNanos == 0 ? 0 : s.firstTokenNanos - s.receivedNanos;
        long queue = s.startedNanos == 0 ? finished - s.receivedNanos : s.startedNanos - s.receivedNanos;
        var timings = new StreamEvent.Timings(s.receivedEpochNanos, queue, ttft, finished - s.receivedNanos,
                s.choices[0].itl.toArray());
        var usage = new StreamEvent.Usage(s.promptTokens, s.completionTokens(), s.cachedTokens, s.imageTokens);
        List<StreamEvent.ChoiceEnd> ends = null;
        if (s.choices.length > 1) {
            ends = new ArrayList<>(s.choices.length);
            for (Choice other : s.choices) {
                ends.add(new StreamEvent.ChoiceEnd(other.index, other.finishReason, other.completionTokens, other.cachedTokens));
            }
        }
        // Calls are read from a complete output only: one cut short by max_tokens or a cancel stays text. Tools come
        // with one choice only (RequestValidator).
        Choice first = s.choices[0];
        List<ToolCallOutput> calls = first.outputText != null && "stop".equals(first.finishReason)
                ? ToolCallExtraction.extract(s.request.request().tools(), s.id(), first.outputText.toString()) : null;
        publish(s, new StreamEvent.Done(calls != null ? "tool_calls" : first.finishReason, usage, timings, ends,
                s.promptLogprobs == null ? null : List.copyOf(s.promptLogprobs), calls), true, null);
    }

    private void fail(Stream s, String code, String message) {
        for (Choice c : s.choices) flushDelta(c, true);
        publish(s, new StreamEvent.Error(code, message), true, null);
    }

    private void publish(Stream s, StreamEvent event, boolean terminal) {
        publish(s, event, terminal, null);
    }

    /** @param choice the choice whose delta this is, or null for an event of the whole request */
    private void publish(Stream s, StreamEvent event, boolean terminal, Choice choice) {
        if (terminal) {
            s.terminalSent = true;
            for (Choice c : s.choices) dirty.remove(c);
        }
        int seq = s.seq++;
        // One event of a stream in flight at a time: an event the broker refuses is then never followed by a later
        // one, so a stream's seq has no holes (the attempt stops there and the request runs again).
        if (!s.held.isEmpty() || s.unacked > 0 || !s.cleared || !publishGate.isOpen(nanoTime.getAsLong())) {
            s.held.add(new Held(seq, event, terminal, choice));
            holding.add(s);
            return;
        }
        send(s, seq, event, terminal, choice);
    }

    /** The gate is open: each holding stream whose previous event was acknowledged sends its next one. */
    private void releaseHeld() {
        for (Iterator<Stream> it = holding.iterator(); it.hasNext(); ) {
            Stream s = it.next();
            if (s.unacked == 0 && s.cleared) {
                Held h = s.held.poll();
                if (h != null) send(s, h.seq(), h.event(), h.terminal(), h.choice());
            }
            if (s.held.isEmpty()) it.remove();
        }
    }

    private void send(Stream s, int seq, StreamEvent event, boolean terminal, Choice choice) {
        s.unacked++;
        CompletionStage<Void> acked;
        try {
            acked = s.output.publish(s.target, seq, event);
        } catch (RuntimeException e) {
            inbox.add(new Signal.Acked(s, choice, terminal, e));
            return;
        }
        acked.whenComplete((ignored, error) -> inbox.add(new Signal.Acked(s, choice, terminal, error)));
    }

    private void end(Stream s, Outcome outcome, Throwable error) {
        if (s.ended) return;
        s.ended = true;
        active.remove(s.id(), s);
        for (Choice c : s.choices) dirty.remove(c);
        gate.release();
        s.completion.ended(outcome, error);
    }

    // ---- per-request state --------------------------------------------------------------------------------------

    /** One attempt of one request: its n choices share one event stream (one seq, one event in flight). */
    private final class Stream {
        final PreparedRequest request;
        final StreamTarget target;
        final long receivedNanos;
        final long receivedEpochNanos;
        final StreamOutput output;
        final Completion completion;
        final Choice[] choices;
        int seq;
        /** Events handed to the output and not yet acknowledged or failed. */
        int unacked;
        /** Events waiting for the publish gate to open or for the stream's clearance, in seq order. */
        final ArrayDeque<Held> held = new ArrayDeque<>(0);
        /** The stream's own clearance completed: its events may leave (start's {@code clearance}). */
        boolean cleared;
        boolean terminalSent, abandoned, ended, otherChoicesSubmitted;
        long startedNanos, firstTokenNanos;
        int promptTokens, cachedTokens;
        /** Prompt tokens inside image runs (their spans); constant for the stream. */
        final int imageTokens;
        Throwable publishFailure;
        /** Prompt logprobs as choice 0's prefill reports them; null when not asked for. */
        final List<PromptTokenLogprob> promptLogprobs;

        Stream(PreparedRequest request, StreamTarget target, long receivedNanos, long receivedEpochNanos,
               StreamOutput output, Completion completion) {
            this.request = request;
            this.output = output;
            this.target = target;
            this.receivedNanos = receivedNanos;
            this.receivedEpochNanos = receivedEpochNanos;
            this.completion = completion;
            EngineRequest er = request.engineRequest();
            this.promptTokens = er.promptTokens().length;
            this.imageTokens = er.multimodalSpans().stream().mapToInt(sp -> sp.end() - sp.start()).sum();
            this.promptLogprobs = er.promptLogprobs() >= 0 ? new ArrayList<>() : null;
            this.choices = new Choice[request.choices()];
            for (int i = 0; i < choices.length; i++) choices[i] = new Choice(this, i, request.choice(i));
        }

        String id() { return request.id(); }

        int completionTokens() {
            int sum = 0;
            for (Choice c : choices) sum += c.completionTokens;
            return sum;
        }
    }

    /** One choice of a request: one engine sequence. The sink methods run on the engine thread and only enqueue. */
    private final class Choice implements RequestSink {
        final Stream stream;
        final int index;
        final EngineRequest engineRequest;
        final PromptCodec.IncrementalDecoder decoder;
        final StopMatcher stop;
        /** The whole output, kept only where it is read for tool calls at the end. */
        final StringBuilder outputText;
        final DeltaBatcher batcher;
        final LongList itl = new LongList();
        boolean submitted, inEngine, engineDone;
        /** Set once the choice ended (its last delta is out or waits in line). */
        String finishReason;
        long lastTokenNanos, finishedNanos;
        int completionTokens, cachedTokens;

        Choice(Stream stream, int index, EngineRequest engineRequest) {
            this.stream = stream;
            this.index = index;
            this.engineRequest = engineRequest;
            this.decoder = stream.request.decoder();
            this.stop = new StopMatcher(stream.request.stop());
            ChatTools tools = stream.request.request().tools();
            this.outputText = tools != null && tools.parsesCalls() ? new StringBuilder() : null;
            this.batcher = new DeltaBatcher(config.maxDeltaLatency().toNanos(), config.maxUnackedDeltas());
        }

        @Override public void onStarted(int promptTokens, int cachedTokens) {
            inbox.add(new Signal.Started(this, nanoTime.getAsLong(), promptTokens, cachedTokens));
        }

        @Override public void onToken(int tokenId, TokenLogprobs logprobs) {
            inbox.add(new Signal.Token(this, nanoTime.getAsLong(), tokenId, logprobs));
        }

        @Override public void onPromptLogprobs(List<PromptTokenLogprob> logprobs) {
            inbox.add(new Signal.PromptLogprobs(this, List.copyOf(logprobs)));
        }

        @Override public void onFinished(FinishReason reason) {
            inbox.add(new Signal.Finished(this, nanoTime.getAsLong(), reason));
        }

        @Override public void onError(String code, String message) {
            inbox.add(new Signal.Failed(this, nanoTime.getAsLong(), code, message));
        }
    }

    /** An event numbered and held back while the publish gate was closed. */
    private record Held(int seq, StreamEvent event, boolean terminal, Choice choice) {}

    private sealed interface Signal {
        record Start(Stream s) implements Signal {}
        record Started(Choice c, long at, int promptTokens, int cachedTokens) implements Signal {}
        record Token(Choice c, long at, int tokenId, TokenLogprobs lp) implements Signal {}
        record PromptLogprobs(Choice c, List<PromptTokenLogprob> logprobs) implements Signal {}
        record Finished(Choice c, long at, RequestSink.FinishReason reason) implements Signal {}
        record Failed(Choice c, long at, String code, String message) implements Signal {}
        record Acked(Stream s, Choice c, boolean terminal, Throwable error) implements Signal {}
        record Cancel(String id) implements Signal {}
        record Abandon(String id) implements Signal {}
        record Cleared(Stream s, Throwable error) implements Signal {}
    }

    /** A growable long array (inter-token gaps) without boxing. */
    private static final class LongList {
        private long[] values = new long[16];
        private int size;

        void add(long v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long[] toArray() { return Arrays.copyOf(values, size); }
    }
}

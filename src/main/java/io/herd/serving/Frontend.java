package io.herd.serving;

import io.herd.engine.EngineRequest;
import io.herd.engine.InferenceEngine;
import io.herd.engine.RequestSink;
import io.herd.model.sampling.TokenLogprobs;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
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
    private final Set<Stream> dirty = new LinkedHashSet<>();
    private final ArrayDeque<Stream> unsubmitted = new ArrayDeque<>();
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
        for (Stream s : dirty) wake = Math.min(wake, s.batcher.dueAtNanos());
        return Math.max(0, Math.min(wake - now, TimeUnit.MILLISECONDS.toNanos(50)));
    }

    private void handle(Signal signal) {
        switch (signal) {
            case Signal.Start(Stream s) -> {
                boolean cancelled = earlyCancels.take(s.id(), nanoTime.getAsLong());
                if (s.terminalSent || s.abandoned) return; // ended (deadline, cancel, abandon) before its start was read
                if (cancelled) finish(s, "cancelled");
                else submit(s);
            }
            case Signal.Started(Stream s, long at, int promptTokens, int cachedTokens) -> onStarted(s, at, promptTokens, cachedTokens);
            case Signal.Token(Stream s, long at, int tokenId, TokenLogprobs lp) -> onToken(s, at, tokenId, lp);
            case Signal.Finished(Stream s, long at, RequestSink.FinishReason reason) -> {
                s.engineDone = true;
                if (s.abandoned) endAbandonedWhenSettled(s);
                else if (!s.terminalSent) {
                    s.finishedNanos = at;
                    finish(s, StreamEvent.finishReason(reason));
                }
            }
            case Signal.Failed(Stream s, long at, String code, String message) -> {
                s.engineDone = true;
                if (s.abandoned) endAbandonedWhenSettled(s);
                else if (!s.terminalSent) fail(s, code, message);
            }
            case Signal.Acked(Stream s, boolean terminal, Throwable error) -> onAcked(s, terminal, error);
            case Signal.Cancel(String id) -> onCancel(id);
            case Signal.Abandon(String id) -> onAbandon(id);
            case Signal.Cleared(Stream s, Throwable error) -> onCleared(s, error);
        }
    }

    private void submit(Stream s) {
        if (engine.submit(s.request.engineRequest(), s)) {
            s.inEngine = true;
        } else {
            if (unsubmitted.isEmpty()) nextRetryNanos = nanoTime.getAsLong() + config.submitRetry().toNanos();
            unsubmitted.add(s);
        }
    }

    private void retrySubmits(long now) {
        int n = unsubmitted.size();
        for (int i = 0; i < n; i++) {
            Stream s = unsubmitted.poll();
            if (!engine.submit(s.request.engineRequest(), s)) {
                unsubmitted.addFirst(s); // keep arrival order; the engine is still full
                break;
            }
            s.inEngine = true;
        }
        nextRetryNanos = now + config.submitRetry().toNanos();
    }

    private void onStarted(Stream s, long at, int promptTokens, int cachedTokens) {
        if (s.terminalSent || s.abandoned || s.startedNanos != 0) return;
        s.startedNanos = at;
        s.promptTokens = promptTokens;
        s.cachedTokens = cachedTokens;
        publish(s, new StreamEvent.Started((at - s.receivedNanos) / 1e6, promptTokens, cachedTokens, s.imageTokens), false);
    }

    private void onToken(Stream s, long at, int tokenId, TokenLogprobs lp) {
        if (s.terminalSent || s.abandoned) return;
        if (s.firstTokenNanos == 0) s.firstTokenNanos = at;
        else s.itl.add(at - s.lastTokenNanos);
        s.lastTokenNanos = at;
        s.completionTokens++;
        s.batcher.add(tokenId, lp, at);
        if (s.stop.append(s.decoder.append(tokenId))) {
            s.finishedNanos = at;
            if (!s.engineDone) engine.abort(s.id());
            finish(s, "stop");
        } else {
            dirty.add(s);
        }
    }

    private void onAcked(Stream s, boolean terminal, Throwable error) {
        s.unacked--;
        if (error != null && s.publishFailure == null) s.publishFailure = error;
        if (s.abandoned) {
            endAbandonedWhenSettled(s);
        } else if (error != null && !terminal && !s.terminalSent) {
            // A lost event would leave a gap in seq: stop this attempt; the caller runs the next one.
            s.abandoned = true;
            dirty.remove(s);
            dropHeld(s);
            if (unsubmitted.remove(s)) s.inEngine = false;
            if (s.inEngine && !s.engineDone) engine.abort(s.id());
            endAbandonedWhenSettled(s);
        } else if (terminal) {
            end(s, s.publishFailure == null ? Outcome.COMPLETED : Outcome.PUBLISH_FAILED, s.publishFailure);
        } else {
            s.batcher.acked();
            sendNext(s);
        }
    }

    /** Nothing of the stream awaits the broker: its next held event goes, or its gathered tokens become due. */
    private void sendNext(Stream s) {
        if (!s.held.isEmpty() && publishGate.isOpen(nanoTime.getAsLong())) {
            Held h = s.held.poll();
            if (s.held.isEmpty()) holding.remove(s);
            send(s, h.seq(), h.event(), h.terminal());
        } else if (s.batcher.hasPending()) {
            dirty.add(s);
        }
    }

    private void onCancel(String id) {
        Stream s = active.get(id);
        if (s == null) {
            earlyCancels.remember(id, nanoTime.getAsLong());
            return;
        }
        if (s.terminalSent || s.abandoned) return;
        if (unsubmitted.remove(s) || s.engineDone) finish(s, "cancelled");
        else if (s.inEngine) engine.abort(id); // the engine answers with onFinished(CANCELLED)
        else finish(s, "cancelled"); // the Start signal is still queued behind this one
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
        String id = s.id();
        s.abandoned = true;
        dirty.remove(s);
        dropHeld(s);
        if (unsubmitted.remove(s)) s.inEngine = false;
        if (s.inEngine && !s.engineDone) engine.abort(id); // ends when the engine confirms, so the KV is free first
        endAbandonedWhenSettled(s);
    }

    /** Events held while the gate was closed never leave once their stream is abandoned (it runs elsewhere now). */
    private void dropHeld(Stream s) {
        s.held.clear();
        holding.remove(s);
    }

    /** Ends an abandoned stream once the engine let go of it and none of its events awaits the broker. */
    private void endAbandonedWhenSettled(Stream s) {
        if ((!s.inEngine || s.engineDone) && s.unacked == 0) {
            end(s, s.publishFailure == null ? Outcome.ABANDONED : Outcome.PUBLISH_FAILED, s.publishFailure);
        }
    }

    private void checkDeadlines(long now) {
        for (Stream s : active.values()) {
            long deadline = s.request.engineRequest().deadlineNanos();
            if (deadline != Long.MAX_VALUE && now >= deadline && !s.terminalSent && !s.abandoned) {
                if (unsubmitted.remove(s)) s.inEngine = false;
                if (s.inEngine && !s.engineDone) engine.abort(s.id());
                fail(s, "deadline_exceeded", "deadline passed after " + s.completionTokens + " generated tokens");
            }
        }
        earlyCancels.expire(now);
    }

    private void flushDue(long now) {
        for (Iterator<Stream> it = dirty.iterator(); it.hasNext(); ) {
            Stream s = it.next();
            if (s.terminalSent || s.abandoned || !s.batcher.hasPending()) {
                it.remove();
            } else if (s.unacked > 0 || !s.cleared) {
                it.remove(); // tokens keep gathering; the acknowledgement (or the clearance) marks it dirty again
            } else if (s.batcher.due(now)) {
                it.remove();
                flushDelta(s, false);
            }
        }
    }

    private void flushDelta(Stream s, boolean end) {
        if (end && !s.stop.stopped()) s.stop.append(s.decoder.finish());
        String text = s.stop.take(end);
        if (s.outputText != null) s.outputText.append(text);
        int[] tokenIds = s.batcher.takeTokenIds();
        var logprobs = s.batcher.takeLogprobs();
        if (tokenIds.length == 0 && text.isEmpty()) return;
        s.batcher.sent();
        publish(s, new StreamEvent.Delta(text, tokenIds, logprobs), false);
    }

    private void finish(Stream s, String finishReason) {
        flushDelta(s, true);
        long finished = s.finishedNanos != 0 ? s.finishedNanos : nanoTime.getAsLong();
        long ttft = s.firstTokenNanos == 0 ? 0 : s.firstTokenNanos - s.receivedNanos;
        long queue = s.startedNanos == 0 ? finished - s.receivedNanos : s.startedNanos - s.receivedNanos;
        var timings = new StreamEvent.Timings(s.receivedEpochNanos, queue, ttft, finished - s.receivedNanos, s.itl.toArray());
        var usage = new StreamEvent.Usage(s.promptTokens, s.completionTokens, s.cachedTokens, s.imageTokens);
        // Calls are read from a complete output only: one cut short by max_tokens or a cancel stays text.
        java.util.List<ToolCallOutput> calls = s.outputText != null && "stop".equals(finishReason)
                ? ToolCallExtraction.extract(s.request.request().tools(), s.id(), s.outputText.toString()) : null;
        publish(s, new StreamEvent.Done(calls != null ? "tool_calls" : finishReason, usage, timings, calls), true);
    }

    private void fail(Stream s, String code, String message) {
        flushDelta(s, true);
        publish(s, new StreamEvent.Error(code, message), true);
    }

    private void publish(Stream s, StreamEvent event, boolean terminal) {
        if (terminal) {
            s.terminalSent = true;
            dirty.remove(s);
        }
        int seq = s.seq++;
        // One event of a stream in flight at a time: an event the broker refuses is then never followed by a later
        // one, so a stream's seq has no holes (the attempt stops there and the request runs again).
        if (!s.held.isEmpty() || s.unacked > 0 || !s.cleared || !publishGate.isOpen(nanoTime.getAsLong())) {
            s.held.add(new Held(seq, event, terminal));
            holding.add(s);
            return;
        }
        send(s, seq, event, terminal);
    }

    /** The gate is open: each holding stream whose previous event was acknowledged sends its next one. */
    private void releaseHeld() {
        for (Iterator<Stream> it = holding.iterator(); it.hasNext(); ) {
            Stream s = it.next();
            if (s.unacked == 0 && s.cleared) {
                Held h = s.held.poll();
                if (h != null) send(s, h.seq(), h.event(), h.terminal());
            }
            if (s.held.isEmpty()) it.remove();
        }
    }

    private void send(Stream s, int seq, StreamEvent event, boolean terminal) {
        s.unacked++;
        CompletionStage<Void> acked;
        try {
            acked = s.output.publish(s.target, seq, event);
        } catch (RuntimeException e) {
            inbox.add(new Signal.Acked(s, terminal, e));
            return;
        }
        acked.whenComplete((ignored, error) -> inbox.add(new Signal.Acked(s, terminal, error)));
    }

    private void end(Stream s, Outcome outcome, Throwable error) {
        if (s.ended) return;
        s.ended = true;
        active.remove(s.id(), s);
        dirty.remove(s);
        gate.release();
        s.completion.ended(outcome, error);
    }

    // ---- per-request state --------------------------------------------------------------------------------------

    /** One attempt of one request. The sink methods run on the engine thread and only enqueue. */
    private final class Stream implements RequestSink {
        final PreparedRequest request;
        final StreamTarget target;
        final long receivedNanos;
        final long receivedEpochNanos;
        final StreamOutput output;
        final Completion completion;
        final PromptCodec.IncrementalDecoder decoder;
        final StopMatcher stop;
        /** The whole output, kept only where it is read for tool calls at the end. */
        final StringBuilder outputText;
        final DeltaBatcher batcher;
        final LongList itl = new LongList();
        int seq;
        /** Events handed to the output and not yet acknowledged or failed. */
        int unacked;
        /** Events waiting for the publish gate to open or for the stream's clearance, in seq order. */
        final ArrayDeque<Held> held = new ArrayDeque<>(0);
        /** The stream's own clearance completed: its events may leave (start's {@code clearance}). */
        boolean cleared;
        boolean inEngine, engineDone, terminalSent, abandoned, ended;
        long startedNanos, firstTokenNanos, lastTokenNanos, finishedNanos;
        int promptTokens, cachedTokens, completionTokens;
        /** Prompt tokens inside image runs (their spans); constant for the stream. */
        final int imageTokens;
        Throwable publishFailure;

        Stream(PreparedRequest request, StreamTarget target, long receivedNanos, long receivedEpochNanos,
               StreamOutput output, Completion completion) {
            this.request = request;
            this.output = output;
            this.target = target;
            this.receivedNanos = receivedNanos;
            this.receivedEpochNanos = receivedEpochNanos;
            this.completion = completion;
            this.decoder = request.decoder();
            this.stop = new StopMatcher(request.stop());
            ChatTools tools = request.request().tools();
            this.outputText = tools != null && tools.parsesCalls() ? new StringBuilder() : null;
            this.batcher = new DeltaBatcher(config.maxDeltaLatency().toNanos(), config.maxUnackedDeltas());
            EngineRequest er = request.engineRequest();
            this.promptTokens = er.promptTokens().length;
            this.imageTokens = er.multimodalSpans().stream().mapToInt(sp -> sp.end() - sp.start()).sum();
        }

        String id() { return request.id(); }

        @Override public void onStarted(int promptTokens, int cachedTokens) {
            inbox.add(new Signal.Started(this, nanoTime.getAsLong(), promptTokens, cachedTokens));
        }

        @Override public void onToken(int tokenId, TokenLogprobs logprobs) {
            inbox.add(new Signal.Token(this, nanoTime.getAsLong(), tokenId, logprobs));
        }

        @Override public void onFinished(FinishReason reason) {
            inbox.add(new Signal.Finished(this, nanoTime.getAsLong(), reason));
        }

        @Override public void onError(String code, String message) {
            inbox.add(new Signal.Failed(this, nanoTime.getAsLong(), code, message));
        }
    }

    /** An event numbered and held back while the publish gate was closed. */
    private record Held(int seq, StreamEvent event, boolean terminal) {}

    private sealed interface Signal {
        record Start(Stream s) implements Signal {}
        record Started(Stream s, long at, int promptTokens, int cachedTokens) implements Signal {}
        record Token(Stream s, long at, int tokenId, TokenLogprobs lp) implements Signal {}
        record Finished(Stream s, long at, RequestSink.FinishReason reason) implements Signal {}
        record Failed(Stream s, long at, String code, String message) implements Signal {}
        record Acked(Stream s, boolean terminal, Throwable error) implements Signal {}
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

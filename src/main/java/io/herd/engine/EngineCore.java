package io.herd.engine;

import io.herd.engine.kv.BlockHash;
import io.herd.engine.kv.KvCacheLayout;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The serving core: one platform thread ("herd-engine") owns the {@link Scheduler}, its requests and the block
 * pools, and runs the step loop schedule → execute → update while there is work. Other threads only enqueue
 * submissions and aborts (no locks on the hot path); every {@link RequestSink} event is delivered on the engine
 * thread, in order.
 *
 * <p>Error codes sent to sinks: {@code invalid_request} (empty or too long prompt, unsupported sampling),
 * {@code deadline_exceeded}, {@code unavailable} (engine closed with the request live), {@code internal} (the
 * step loop failed; the engine then stops and {@link #failure()} says why).
 */
public final class EngineCore implements InferenceEngine {

    private sealed interface Command permits Submit, Abort, Close {}

    private record Submit(EngineRequest request, RequestSink sink) implements Command {}

    private record Abort(String requestId) implements Command {}

    private record Close() implements Command {}

    private final EngineConfig config;
    private final ModelExecutor executor;
    private final int maxModelLength;
    private final LinkedBlockingQueue<Command> inbox = new LinkedBlockingQueue<>();
    /** Accepted but not yet scheduled (or finished before): bounded by queueCapacity. */
    private final AtomicInteger queued = new AtomicInteger();
    private final Set<String> liveIds = ConcurrentHashMap.newKeySet();
    /** Arrival order, assigned on the engine thread. */
    private long arrivals;
    private final Scheduler scheduler;
    private final Thread thread;
    private volatile boolean closed;
    private volatile Throwable failure;
    private volatile EngineStats stats = new EngineStats(0, 0, 0, 0, 0, 0, 0, 0);
    private volatile long steps;

    public EngineCore(EngineConfig config, ModelExecutor executor) {
        this.config = config;
        this.executor = executor;
        KvCacheLayout layout = executor.kvLayout();
        if (layout.blockSize() != config.kvCache().blockSize()) {
            throw new IllegalArgumentException("executor KV block size " + layout.blockSize()
                    + " != configured " + config.kvCache().blockSize());
        }
        this.maxModelLength = Math.min(config.maxModelLength(), Math.min(executor.maxPositions(), layout.maxSequenceTokens()));
        if (maxModelLength < 2) {
            throw new IllegalArgumentException("KV pool too small: holds " + layout.maxSequenceTokens() + " tokens per sequence");
        }
        this.scheduler = new Scheduler(config, layout, maxModelLength, new Scheduler.Listener() {
            @Override
            public void started(Request r) { queued.decrementAndGet(); }

            @Override
            public void retired(Request r) {
                if (!r.everScheduled) queued.decrementAndGet();
                liveIds.remove(r.requestId);
            }
        });
        this.thread = Thread.ofPlatform().name("herd-engine").daemon(true).unstarted(this::run);
        thread.start();
    }

    @Override
    public boolean submit(EngineRequest request, RequestSink sink) {
        if (request == null || sink == null) throw new IllegalArgumentException("request and sink are required");
        if (closed) throw new IllegalStateException("engine closed");
        Throwable f = failure;
        if (f != null) throw new IllegalStateException("engine stopped after a failure: " + f, f);
        if (liveIds.contains(request.requestId())) {
            throw new IllegalArgumentException("request id already live: " + request.requestId());
        }
        int n;
        do {
            n = queued.get();
            if (n >= config.queueCapacity()) return false;
        } while (!queued.compareAndSet(n, n + 1));
        if (!liveIds.add(request.requestId())) {
            queued.decrementAndGet();
            throw new IllegalArgumentException("request id already live: " + request.requestId());
        }
        inbox.add(new Submit(request, sink));
        return true;
    }

    /**
     * Queues the abort; true when the request was live at the call. A request that finishes before the engine
     * thread reads the abort ends normally instead of with CANCELLED.
     */
    @Override
    public boolean abort(String requestId) {
        if (!liveIds.contains(requestId)) return false;
        inbox.add(new Abort(requestId));
        return true;
    }

    @Override
    public EngineStats stats() { return stats; }

    @Override
    public int maxModelLength() { return maxModelLength; }

    /** Why the engine thread stopped, if it failed. */
    public Optional<Throwable> failure() { return Optional.ofNullable(failure); }

    /** Steps run so far (for benchmarks and tests). */
    public long steps() { return steps; }

    /** True while the engine thread runs (readiness). */
    public boolean isAlive() { return thread.isAlive() && failure == null; }

    @Override
    public void close() {
        closed = true;
        inbox.add(new Close());
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drainAfterClose(); // a submit that raced with close: the engine thread is gone, answer it here
    }

    private void run() {
        try {
            while (true) {
                if (!drain(!scheduler.hasWork())) break;
                scheduler.failExpired(System.nanoTime());
                if (scheduler.hasWork()) step();
                publishStats();
            }
            scheduler.failAll("unavailable", "engine closed");
            drainAfterClose();
            publishStats();
        } catch (RuntimeException | Error e) {
            failure = e;
            try {
                scheduler.failAll("internal", "engine stopped: " + e);
            } finally {
                drainAfterClose();
            }
            throw e;
        }
    }

    private void step() {
        SchedulerOutput out = scheduler.schedule();
        if (out.isEmpty()) {
            throw new IllegalStateException("scheduler made no progress: " + scheduler.numWaiting() + " waiting, "
                    + scheduler.numRunning() + " running");
        }
        RunnerOutput result = executor.execute(out);
        scheduler.updateFromOutput(out, result);
        steps++;
    }

    /** Applies queued commands; blocks for the first one when idle. Returns false on close. */
    private boolean drain(boolean block) {
        List<Command> commands = new ArrayList<>();
        if (block) {
            try {
                commands.add(inbox.take());
            } catch (InterruptedException e) {
                return false;
            }
        }
        inbox.drainTo(commands);
        boolean open = true;
        for (Command c : commands) {
            switch (c) {
                case Submit s -> admit(s.request(), s.sink());
                case Abort a -> scheduler.abort(a.requestId());
                case Close ignored -> open = false;
            }
        }
        return open && !closed;
    }

    private void admit(EngineRequest er, RequestSink sink) {
        String problem = validate(er);
        if (problem != null) {
            queued.decrementAndGet();
            liveIds.remove(er.requestId());
            sink.onError("invalid_request", problem);
            return;
        }
        BlockHash root = BlockHash.root(config.modelId(), er.cacheSalt());
        scheduler.addRequest(new Request(er, sink, arrivals++, root, config.kvCache().blockSize()));
    }

    private String validate(EngineRequest er) {
        int[] prompt = er.promptTokens();
        if (prompt == null || prompt.length == 0) return "request " + er.requestId() + ": empty prompt";
        if (prompt.length >= maxModelLength) {
            return "request " + er.requestId() + ": prompt of " + prompt.length + " tokens leaves no room to generate"
                    + " within maxModelLength " + maxModelLength;
        }
        if (er.sampling() == null) return "request " + er.requestId() + ": sampling parameters missing";
        if (er.sampling().maxTokens() <= 0) return "request " + er.requestId() + ": maxTokens must be > 0";
        Optional<String> unsupported = executor.unsupported(er.sampling());
        return unsupported.map(u -> "request " + er.requestId() + ": " + u).orElse(null);
    }

    /** After the loop ended: anything still queued gets an error so no sink waits forever. */
    private void drainAfterClose() {
        List<Command> rest = new ArrayList<>();
        inbox.drainTo(rest);
        for (Command c : rest) {
            if (c instanceof Submit s) {
                liveIds.remove(s.request().requestId());
                queued.decrementAndGet();
                s.sink().onError("unavailable", "engine closed");
            }
        }
    }

    private void publishStats() {
        int pending = 0;
        for (Command c : inbox) if (c instanceof Submit) pending++;
        stats = scheduler.stats(pending);
    }
}

package io.herd.compute.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed set of platform threads that run the tasks of one parallel loop at a time. Vector API loops must run on
 * platform threads (a virtual thread would pin its carrier), and a private pool keeps kernels off the common
 * ForkJoin pool that the rest of the JVM shares. The calling thread takes part in its own loop; a loop started while
 * the pool is busy, or from inside one of its tasks, runs on the caller alone, so nesting cannot deadlock.
 *
 * <p>Owner: {@link #shared()} lives for the JVM (daemon threads); pools made with {@link #CpuThreadPool(int)} are
 * closed by whoever made them.
 */
public final class CpuThreadPool implements AutoCloseable {
    private static final int SPINS_BEFORE_PARK = 2_000;

    private final Thread[] workers;
    private final ReentrantLock dispatch = new ReentrantLock();
    private volatile Loop current;
    private volatile long generation;
    private volatile boolean closed;

    /** @param nThreads threads that run a loop, the caller included (so nThreads - 1 workers are started) */
    public CpuThreadPool(int nThreads) {
        if (nThreads < 1) throw new IllegalArgumentException("nThreads must be >= 1, got " + nThreads);
        workers = new Thread[nThreads - 1];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = Thread.ofPlatform().daemon().name("herd-compute-" + (w + 1)).unstarted(this::workLoop);
            workers[w].start();
        }
    }

    private static final class Holder {
        static final CpuThreadPool SHARED = new CpuThreadPool(sharedSize(System.getenv("HERD_CPU_THREADS"),
                Runtime.getRuntime().availableProcessors()));
    }

    /**
     * The shared pool's size: {@code HERD_CPU_THREADS} when set (e.g. to leave a core to a broker or other processes on
     * the same machine), else every available processor.
     */
    static int sharedSize(String setting, int processors) {
        if (setting == null || setting.isBlank()) return processors;
        try {
            int n = Integer.parseInt(setting.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("HERD_CPU_THREADS must be a positive integer, got '" + setting + "'");
    }

    /** One pool per JVM ({@link #sharedSize}); used by the matrices {@code Matrices} creates. */
    public static CpuThreadPool shared() {
        return Holder.SHARED;
    }

    /** Threads a loop can use, the caller included. */
    public int parallelism() {
        return workers.length + 1;
    }

    /**
     * Runs {@code task.accept(i)} for every {@code i < nTasks}, spread over the pool, and returns when all are done.
     * The first exception thrown by a task is rethrown here after the loop has finished.
     */
    public void parallelFor(int nTasks, IntConsumer task) {
        if (nTasks <= 0) return;
        // The lock is reentrant, so a loop started from the caller's own task must be caught before tryLock.
        if (nTasks == 1 || workers.length == 0 || closed || isWorker() || dispatch.isHeldByCurrentThread()
                || !dispatch.tryLock()) {
            for (int i = 0; i < nTasks; i++) task.accept(i);
            return;
        }
        try {
            Loop loop = new Loop(task, nTasks, Thread.currentThread());
            current = loop;
            generation++;
            for (Thread w : workers) LockSupport.unpark(w);
            loop.runTasks();
            loop.awaitTasks();
            current = null;
            loop.rethrow();
        } finally {
            dispatch.unlock();
        }
    }

    private boolean isWorker() {
        Thread t = Thread.currentThread();
        for (Thread w : workers) if (w == t) return true;
        return false;
    }

    private void workLoop() {
        long seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPINS_BEFORE_PARK) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = generation;
            Loop loop = current;
            if (loop != null) loop.runTasks(); // null: that loop was finished by the others before this one woke

        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }

    /**
     * The state of one parallel loop: a shared task counter and a count of finished tasks. The caller waits for the
     * tasks, not for the workers: a worker the OS has not scheduled yet (the cores are shared with the broker, the
     * event loops, other processes) simply finds nothing left when it wakes, instead of holding every loop up for a
     * scheduler time slice.
     */
    private static final class Loop {
        private final IntConsumer task;
        private final int nTasks;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private final Thread caller;
        private volatile Throwable failure;

        Loop(IntConsumer task, int nTasks, Thread caller) {
            this.task = task;
            this.nTasks = nTasks;
            this.caller = caller;
        }

        void runTasks() {
            int i;
            while ((i = next.getAndIncrement()) < nTasks) {
                // After a failure the remaining tasks are claimed and counted without running, so the caller returns.
                if (failure == null) {
                    try {
                        task.accept(i);
                    } catch (Throwable t) {
                        if (failure == null) failure = t;
                    }
                }
                if (finished.incrementAndGet() == nTasks && Thread.currentThread() != caller) LockSupport.unpark(caller);
            }
        }

        void awaitTasks() {
            int spins = 0;
            while (finished.get() != nTasks) {
                if (++spins < SPINS_BEFORE_PARK) Thread.onSpinWait();
                else LockSupport.park(this);
            }
        }

        void rethrow() {
            Throwable t = failure;
            if (t == null) return;
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error e) throw e;
            throw new IllegalStateException(t);
        }
    }
}

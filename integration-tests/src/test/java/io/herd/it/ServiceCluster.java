package io.herd.it;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * 1–3 instances of the packaged service in one consumer group, each in a slot with its own static member id (the
 * pod name under Kubernetes). The harness knows which exits it caused; any other exit is an unplanned restart, except
 * the test crash (exit 99), after which the slot is started again as Kubernetes would.
 */
final class ServiceCluster implements AutoCloseable {

    /** The exit code of the service's test-only crash (herd.testing.crash-marker). */
    static final int TEST_CRASH_EXIT = 99;

    private final String name;
    private final TestKafka.Topics topics;
    private final Map<String, String> env;
    private final Map<Integer, HerdService> slots = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> generation = new ConcurrentHashMap<>();
    /** Slots whose process the harness is stopping, killing, or that may crash on purpose. */
    private final Set<Integer> planned = ConcurrentHashMap.newKeySet();
    private final List<String> unplannedExits = new CopyOnWriteArrayList<>();
    private final List<String> crashRestarts = new CopyOnWriteArrayList<>();
    private final Thread watchdog;
    private volatile boolean restartCrashes;
    private volatile boolean closed;

    ServiceCluster(String name, TestKafka.Topics topics, Map<String, String> env) {
        this.name = name;
        this.topics = topics;
        this.env = Map.copyOf(env);
        watchdog = Thread.ofPlatform().name("fault-watchdog").daemon().start(this::watch);
    }

    /** Starts the slot (again), with its static member id; waits until it is ready. */
    void start(int slot) {
        int gen = generation.merge(slot, 1, Integer::sum);
        Map<String, String> e = new HashMap<>(env);
        e.put("HERD_INSTANCE_ID", name + "-" + slot);
        planned.add(slot);
        try {
            slots.put(slot, HerdService.start(name + "-" + slot + "-" + gen, topics, e));
        } finally {
            planned.remove(slot);
        }
    }

    /** Starts several slots at once (a scale-up). */
    void startAll(int... slotsToStart) throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> started = new ArrayList<>();
            for (int s : slotsToStart) started.add(pool.submit(() -> start(s)));
            for (Future<?> f : started) f.get(300, TimeUnit.SECONDS);
        }
    }

    /** SIGTERM (graceful: the service drains) and wait; returns the exit code. */
    int stop(int slot) throws InterruptedException {
        planned.add(slot);
        HerdService s = slots.remove(slot);
        try {
            return s.stop();
        } finally {
            planned.remove(slot);
        }
    }

    /** SIGKILL. */
    void kill(int slot) throws InterruptedException {
        planned.add(slot);
        try {
            HerdService s = slots.remove(slot);
            if (s != null) s.kill(); // SIGKILL ends a frozen process too
        } finally {
            planned.remove(slot);
        }
    }

    /**
     * Replaces (SIGKILL, start) every running instance that is not live, so that one failed scenario does not decide
     * the next one; returns the slots replaced.
     */
    List<Integer> replaceUnhealthy() throws InterruptedException {
        List<Integer> replaced = new ArrayList<>();
        for (int slot : running()) {
            HerdService s = slots.get(slot);
            if (s != null && s.isAlive() && s.liveness() == 200) continue;
            if (s != null) kill(slot);
            start(slot);
            replaced.add(slot);
        }
        return replaced;
    }

    /** SIGKILL and start again (the harness's own decision, not a fault of the service). */
    void replace(int slot) throws InterruptedException {
        if (slots.containsKey(slot)) kill(slot);
        start(slot);
    }

    void freeze(int slot) { Signals.stop(slots.get(slot).pid()); }

    void resume(int slot) { Signals.resume(slots.get(slot).pid()); }

    HerdService instance(int slot) { return slots.get(slot); }

    List<Integer> running() { return slots.keySet().stream().sorted().toList(); }

    /** While on, a slot whose process ends with the test crash code is started again (and that is no fault). */
    void restartCrashes(boolean on) { restartCrashes = on; }

    /** Exits the harness did not cause: "slot: exit code" (must stay empty). */
    List<String> unplannedExits() { return List.copyOf(unplannedExits); }

    /** Restarts after a test crash, in order. */
    List<String> crashRestarts() { return List.copyOf(crashRestarts); }

    private void watch() {
        while (!closed) {
            for (var e : new LinkedHashMap<>(slots).entrySet()) {
                int slot = e.getKey();
                HerdService s = e.getValue();
                if (s.isAlive() || planned.contains(slot) || slots.get(slot) != s) continue;
                int code = s.exitValue();
                slots.remove(slot, s);
                if (code == TEST_CRASH_EXIT && restartCrashes) {
                    crashRestarts.add(name + "-" + slot + " exit " + code);
                    restartAfterCrash(slot);
                } else {
                    unplannedExits.add(name + "-" + slot + " exit " + code + " (see " + s.log() + ")");
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Starts the slot again after a test crash. The poison record may crash it again before it reports ready; like
     * Kubernetes, the harness then simply starts it once more (bounded).
     */
    private void restartAfterCrash(int slot) {
        for (int tries = 0; tries < 6; tries++) {
            try {
                start(slot);
                return;
            } catch (RuntimeException failure) {
                if (!String.valueOf(failure.getMessage()).contains("exited with " + TEST_CRASH_EXIT)) {
                    unplannedExits.add(name + "-" + slot + " did not come back after a crash: " + failure.getMessage());
                    return;
                }
                crashRestarts.add(name + "-" + slot + " exit " + TEST_CRASH_EXIT + " before ready");
            }
        }
        unplannedExits.add(name + "-" + slot + " crashed 6 times in a row while starting");
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        watchdog.interrupt();
        watchdog.join(5000);
        for (int slot : running()) {
            HerdService s = slots.remove(slot);
            if (s == null) continue;
            try {
                Signals.resume(s.pid());
            } catch (RuntimeException ignored) {
                // already gone
            }
            s.close();
        }
    }
}

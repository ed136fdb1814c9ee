package io.herd.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Membership and broker faults under steady load, on one broker process and up to three instances in one group
 * (shared across the scenarios, in this order): scale-up 1→3, a rolling restart, a member frozen past its session
 * timeout, scale-down 3→1, a broker SIGKILL with a restart 30 s later, and a 3-minute broker outage. Each scenario
 * checks its own requests with {@link FaultInvariants}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RebalanceFaultIT {

    /** Requests a second and tokens each: a light load that keeps a few requests in flight on 2 cores. */
    private static final double RATE = 2;
    private static final int MAX_TOKENS = 24;

    static FaultRig rig;

    @BeforeAll
    static void start() {
        rig = new FaultRig("frb", 4, Map.of(), List.of());
        rig.cluster.start(0);
    }

    @AfterAll
    static void stop() throws Exception {
        if (rig != null) rig.close();
    }

    /** A scenario that left an instance not live must not decide the next one: that instance is replaced. */
    @BeforeEach
    void replaceUnhealthyInstances() throws InterruptedException {
        List<Integer> replaced = rig.cluster.replaceUnhealthy();
        if (!replaced.isEmpty()) System.out.println("[fault-suite] replaced instances not live: " + replaced);
    }

    private static void pause(Duration d) throws InterruptedException { Thread.sleep(d.toMillis()); }

    private static void finish(String scenario, String fault, FaultInvariants.Expect expect, Duration atMost, String note)
            throws InterruptedException {
        rig.load.stopSteady();
        List<String> ids = rig.load.sent(scenario);
        boolean all = rig.invariants.awaitFinished(ids, atMost);
        FaultInvariants.Report report = rig.invariants.check(fault, ids, expect);
        FaultSummary.record(report, note + (all ? "" : "; not all finished within " + atMost.toSeconds() + " s"));
        assertThat(ids).as("requests sent in '%s'", fault).isNotEmpty();
        report.assertClean();
    }

    @Test
    @Order(1)
    void scaleUpFromOneToThreeDuringLoad() throws Exception {
        rig.load.startSteady("scaleup", RATE, MAX_TOKENS);
        pause(Duration.ofSeconds(4));
        rig.cluster.startAll(1, 2);
        pause(Duration.ofSeconds(4));
        finish("scaleup", "scale-up 1→3 during load", new FaultInvariants.Expect(), Duration.ofSeconds(120),
                "instances " + rig.cluster.running());
    }

    @Test
    @Order(2)
    void rollingRestartOneAtATimeDuringLoad() throws Exception {
        if (rig.cluster.running().size() < 3) rig.cluster.startAll(missing(3));
        rig.load.startSteady("rolling", RATE, MAX_TOKENS);
        pause(Duration.ofSeconds(3));
        StringBuilder exits = new StringBuilder();
        for (int slot = 0; slot < 3; slot++) {
            int code = rig.cluster.stop(slot);
            exits.append(code).append(' ');
            rig.cluster.start(slot);
        }
        pause(Duration.ofSeconds(3));
        finish("rolling", "rolling restart (SIGTERM) during load", new FaultInvariants.Expect(), Duration.ofSeconds(120),
                "exit codes " + exits.toString().trim());
        assertThat(exits.toString().trim().split(" ")).as("graceful exit codes").allMatch(c -> c.equals("0") || c.equals("143"));
    }

    @Test
    @Order(3)
    void memberFrozenPastItsSessionTimeoutThenResumed() throws Exception {
        if (rig.cluster.running().size() < 3) rig.cluster.startAll(missing(3));
        rig.load.startSteady("frozen", RATE, MAX_TOKENS);
        pause(Duration.ofSeconds(3));
        rig.cluster.freeze(1);
        try {
            pause(Duration.ofSeconds(12)); // twice the session timeout: its partitions move
        } finally {
            rig.cluster.resume(1);
        }
        pause(Duration.ofSeconds(8));
        finish("frozen", "member SIGSTOP 12 s (session 6 s) then SIGCONT", new FaultInvariants.Expect(),
                Duration.ofSeconds(120), "frozen slot 1 alive after: " + rig.cluster.instance(1).isAlive());
    }

    @Test
    @Order(4)
    void scaleDownFromThreeToOneDuringLoad() throws Exception {
        if (rig.cluster.running().size() < 3) rig.cluster.startAll(missing(3));
        rig.load.startSteady("scaledown", RATE, MAX_TOKENS);
        pause(Duration.ofSeconds(3));
        int a = rig.cluster.stop(2);
        int b = rig.cluster.stop(1);
        pause(Duration.ofSeconds(5));
        finish("scaledown", "scale-down 3→1 during load", new FaultInvariants.Expect(), Duration.ofSeconds(120),
                "exit codes " + a + " " + b);
    }

    @Test
    @Order(5)
    void brokerKilledAndRestartedAfterThirtySeconds() throws Exception {
        if (rig.cluster.running().isEmpty()) rig.cluster.start(0);
        rig.load.startSteady("brokerkill", RATE, MAX_TOKENS);
        pause(Duration.ofSeconds(3));
        streamsMidway("brokerkill");
        rig.broker.kill();
        pause(Duration.ofSeconds(30));
        rig.broker.launch();
        pause(Duration.ofSeconds(4));
        finish("brokerkill", "broker SIGKILL, back after 30 s", new FaultInvariants.Expect(), Duration.ofSeconds(180),
                "instances " + rig.cluster.running());
    }

    @Test
    @Order(6)
    void threeMinuteBrokerOutage() throws Exception {
        if (rig.cluster.running().isEmpty()) rig.cluster.start(0);
        rig.load.startSteady("outage", 0.3, MAX_TOKENS);
        pause(Duration.ofSeconds(3));
        streamsMidway("outage");
        rig.broker.kill();
        pause(Duration.ofSeconds(180));
        rig.broker.launch();
        pause(Duration.ofSeconds(3));
        finish("outage", "broker down 3 min", new FaultInvariants.Expect(), Duration.ofSeconds(240),
                "instances " + rig.cluster.running());
    }

    /**
     * Long streams that are surely mid-way when the fault hits: four requests of 300 tokens, and a wait (bounded) until
     * one of them streams deltas.
     */
    private static void streamsMidway(String scenario) throws Exception {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String id = FaultLoad.newId(scenario);
            rig.load.sendNow(id, FaultLoad.request(id, "A long walk of llama " + i, 300));
            ids.add(id);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && ids.stream().noneMatch(id -> rig.observer.events(rig.topics.responses(), id)
                .stream().anyMatch(e -> e.path("type").asText().equals("delta")))) {
            Thread.sleep(50);
        }
    }

    private static int[] missing(int size) {
        return java.util.stream.IntStream.range(0, size).filter(s -> !rig.cluster.running().contains(s)).toArray();
    }
}

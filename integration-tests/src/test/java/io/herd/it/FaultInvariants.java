package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one rule book of the fault suite, applied to what the observer read (kafka-topics/README.md): every request
 * ends with exactly one done/error for its highest attempt; no (id, attempt) starts twice (two started events, two
 * streams' seq, two running markers); attempt numbers never repeat or go back; seq runs from 0 without gaps per
 * attempt; the DLQ holds exactly the records it should; no service process ended that the scenario did not end.
 */
final class FaultInvariants {

    private final EventObserver observer;
    private final TestKafka.Topics topics;
    private final ServiceCluster cluster;

    FaultInvariants(EventObserver observer, TestKafka.Topics topics, ServiceCluster cluster) {
        this.observer = observer;
        this.topics = topics;
        this.cluster = cluster;
    }

    /** What one scenario expects beyond "every request completes with done". */
    static final class Expect {
        final Map<String, String> outcome = new HashMap<>(); // id → "done" or an error code ("a|b": either)
        final Map<String, String> deadLetter = new HashMap<>(); // id (record key) → DLQ code
        final Map<String, String> replyTopic = new HashMap<>(); // id → where its events go, if not the default
        Expect outcome(String id, String code) { outcome.put(id, code); return this; }

        Expect replyTo(String id, String topic) { replyTopic.put(id, topic); return this; }

        Expect deadLetter(String id, String code) { deadLetter.put(id, code); return this; }
    }

    /** One scenario's outcome, a row of the summary table. */
    record Report(String fault, int requests, int lost, int sameAttemptTwice, int deadLetteredWrongly, int restarts,
                  int maxAttempt, List<String> rerunAfterFinish, List<String> violations) {
        void assertClean() {
            assertThat(violations).as("fault-suite violations in '%s'", fault).isEmpty();
        }
    }

    /** Waits (bounded) until every id has a terminal event for its highest attempt; false on time-out. */
    boolean awaitFinished(Collection<String> ids, Duration atMost) throws InterruptedException {
        return awaitFinished(ids, new Expect(), atMost);
    }

    boolean awaitFinished(Collection<String> ids, Expect expect, Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < deadline) {
            if (ids.stream().allMatch(id -> finished(id, expect))) {
                // Let a stray duplicate or late event of a lower attempt surface before counting.
                Thread.sleep(1500);
                return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    boolean finished(String id, Expect expect) {
        List<JsonNode> events = observer.events(responsesOf(id, expect), id);
        int highest = events.stream().mapToInt(e -> e.path("attempt").asInt()).max().orElse(0);
        return events.stream().anyMatch(e -> e.path("attempt").asInt() == highest && Streams.isTerminal(e));
    }

    private String responsesOf(String id, Expect expect) {
        return expect.replyTopic.getOrDefault(id, topics.responses());
    }

    Report check(String fault, Collection<String> ids, Expect expect) {
        List<String> violations = new ArrayList<>();
        int lost = 0;
        int twice = 0;
        int dlqWrong = 0;
        int maxAttempt = 0;
        List<String> rerunAfterFinish = new ArrayList<>();
        for (String id : ids) {
            List<JsonNode> events = observer.events(responsesOf(id, expect), id);
            TreeMap<Integer, List<JsonNode>> byAttempt = new TreeMap<>();
            int highestSoFar = 0;
            boolean backwards = false;
            for (JsonNode e : events) {
                if (!id.equals(e.path("id").asText())) violations.add(id + ": event with id " + e.path("id") + " under its key");
                int a = e.path("attempt").asInt();
                if (a < highestSoFar) backwards = true;
                highestSoFar = Math.max(highestSoFar, a);
                byAttempt.computeIfAbsent(a, k -> new ArrayList<>()).add(e);
            }
            if (backwards) violations.add(id + ": an event of a lower attempt after a higher attempt started");
            if (byAttempt.isEmpty()) {
                lost++;
                violations.add(id + ": no events at all");
                continue;
            }
            int highest = byAttempt.lastKey();
            maxAttempt = Math.max(maxAttempt, highest);
            boolean sameTwice = false;
            for (var entry : byAttempt.entrySet()) {
                int a = entry.getKey();
                List<JsonNode> stream = entry.getValue();
                long started = stream.stream().filter(e -> e.path("type").asText().equals("started")).count();
                long terminals = stream.stream().filter(Streams::isTerminal).count();
                if (started > 1 || terminals > 1) sameTwice = true;
                for (int i = 0; i < stream.size(); i++) {
                    int seq = stream.get(i).path("seq").asInt(-1);
                    if (seq != i) {
                        if (stream.stream().filter(e -> e.path("seq").asInt(-1) == seq).count() > 1) sameTwice = true;
                        else violations.add(id + " attempt " + a + ": seq " + seq + " at position " + i + " (gap)");
                        break;
                    }
                }
                // At-least-once allows it (consumers take the first terminal event), but it is wasted work worth
                // seeing: counted in the table, not a violation.
                if (a < highest && terminals > 0) rerunAfterFinish.add(id + ": attempt " + a + " finished, yet attempt " + highest + " ran");
            }
            // The ledger's view: one running marker per (id, attempt), attempts only going up.
            int lastMarked = 0;
            Map<Integer, Integer> running = new HashMap<>();
            for (EventObserver.Seen m : observer.records(topics.attempts(), id)) {
                JsonNode marker = m.json();
                if (marker == null) {
                    violations.add(id + ": not an attempt marker in " + topics.attempts() + ": " + abbreviate(m.value()));
                    continue;
                }
                int a = marker.path("attempt").asInt();
                if (marker.path("state").asText().equals("running")) {
                    if (running.merge(a, 1, Integer::sum) > 1) sameTwice = true;
                    if (a <= lastMarked) violations.add(id + ": running marker for attempt " + a + " after attempt " + lastMarked);
                    lastMarked = Math.max(lastMarked, a);
                }
            }
            if (sameTwice) {
                twice++;
                violations.add(id + ": an attempt started twice " + attemptsSummary(byAttempt));
            }
            List<JsonNode> last = byAttempt.get(highest);
            List<JsonNode> ends = last.stream().filter(Streams::isTerminal).toList();
            String wanted = expect.outcome.getOrDefault(id, "done");
            if (ends.isEmpty()) {
                lost++;
                violations.add(id + ": no done/error for attempt " + highest + " " + attemptsSummary(byAttempt));
            } else {
                JsonNode end = ends.getFirst();
                String got = end.path("type").asText().equals("done") ? "done" : end.path("code").asText();
                if (!oneOf(wanted, got)) {
                    violations.add(id + ": ended with " + got + " (" + end.path("message").asText() + "), expected " + wanted);
                }
            }
            List<EventObserver.Seen> dead = observer.records(topics.dlq(), id);
            String dlqCode = expect.deadLetter.get(id);
            if (dlqCode == null && !dead.isEmpty()) {
                dlqWrong++;
                violations.add(id + ": dead-lettered as " + dead.getFirst().headers().get("herd-dlq-code") + ": "
                        + dead.getFirst().headers().get("herd-dlq-message"));
            } else if (dlqCode != null) {
                if (dead.size() != 1) violations.add(id + ": " + dead.size() + " dead letters, expected 1 (" + dlqCode + ")");
                else if (!oneOf(dlqCode, dead.getFirst().headers().get("herd-dlq-code"))) {
                    violations.add(id + ": dead-lettered as " + dead.getFirst().headers().get("herd-dlq-code") + ", expected " + dlqCode);
                }
            }
        }
        List<String> exits = cluster.unplannedExits();
        for (String exit : exits) violations.add("unplanned exit: " + exit);
        return new Report(fault, ids.size(), lost, twice, dlqWrong, exits.size(), maxAttempt, rerunAfterFinish, violations);
    }

    /** {@code wanted} may list alternatives: "a|b". */
    private static boolean oneOf(String wanted, String got) {
        return got != null && List.of(wanted.split("\\|")).contains(got);
    }

    private static String attemptsSummary(Map<Integer, List<JsonNode>> byAttempt) {
        StringBuilder sb = new StringBuilder("[");
        byAttempt.forEach((a, s) -> sb.append(" attempt ").append(a).append(": ")
                .append(s.stream().map(e -> e.path("type").asText().charAt(0) + "" + e.path("seq").asInt()).toList()));
        return sb.append(" ]").toString();
    }

    static String abbreviate(String s) {
        return s == null ? "null" : s.length() <= 120 ? s : s.substring(0, 120) + "…(" + s.length() + " chars)";
    }
}

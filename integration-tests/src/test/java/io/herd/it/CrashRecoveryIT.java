package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kill -9 the service mid-stream and start it again: every request completes, re-runs carry a higher attempt, and
 * after the consumer-side rule (first terminal event wins) each id has exactly one complete stream.
 */
class CrashRecoveryIT {

    @Test
    void killedMidStreamEveryRequestCompletesOnceAfterRestart() throws Exception {
        TestKafka.Topics topics = TestKafka.topics("crash-" + UUID.randomUUID().toString().substring(0, 8), 2);
        // Same instance id for both runs: static membership hands the partitions straight to the restarted process.
        Map<String, String> env = HerdService.env("HERD_INSTANCE_ID", "crash-it-" + UUID.randomUUID());
        List<String> ids = new ArrayList<>();
        try (TopicClient client = new TopicClient(List.of(topics.responses()))) {
            HerdService first = HerdService.start("crash-first", topics, env);
            for (int i = 0; i < 6; i++) {
                String id = "crash-" + i + "-" + UUID.randomUUID();
                ids.add(id);
                client.send(topics.requests(), id, "{\"id\":\"" + id + "\",\"prompt\":\"Crash story " + i
                        + "\",\"max_tokens\":160,\"temperature\":0}");
            }
            await().atMost(Duration.ofSeconds(120)).until(() -> ids.stream().filter(id -> client.events(topics.responses(), id)
                    .stream().anyMatch(e -> e.path("type").asText().equals("delta"))).count() >= 2);
            first.kill();
            // Nothing is produced any more; give the reader a moment to catch up with what was.
            await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> true);
            List<String> unfinished = ids.stream().filter(id -> !Streams.finished(client.events(topics.responses(), id))).toList();
            assertThat(unfinished).as("requests cut off by the kill").isNotEmpty();

            try (HerdService second = HerdService.start("crash-second", topics, env)) {
                await().atMost(Duration.ofSeconds(240)).until(() -> ids.stream()
                        .allMatch(id -> Streams.finished(client.events(topics.responses(), id))));
                // Let any stray duplicate surface before counting.
                await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> true);
                for (String id : ids) {
                    List<JsonNode> events = client.events(topics.responses(), id);
                    List<JsonNode> result = Streams.result(events);
                    Streams.assertWellFormed(id, result);
                    int resultAttempt = result.getFirst().path("attempt").asInt();
                    for (int attempt = 1; attempt <= maxAttempt(events); attempt++) {
                        int a = attempt;
                        long dones = events.stream().filter(e -> e.path("attempt").asInt() == a && Streams.isTerminal(e)).count();
                        assertThat(dones).as("terminal events of %s attempt %d", id, a).isLessThanOrEqualTo(1);
                        if (a < resultAttempt) assertThat(dones).as("an earlier attempt of %s did not finish", id).isZero();
                        // Greedy with the same seed: the cut-off attempt's tokens are a prefix of the re-run's.
                        List<JsonNode> partial = events.stream().filter(e -> e.path("attempt").asInt() == a).toList();
                        List<Integer> partialIds = Streams.tokenIds(partial);
                        assertThat(Streams.tokenIds(result).subList(0, Math.min(partialIds.size(), Streams.tokenIds(result).size())))
                                .isEqualTo(partialIds.subList(0, Math.min(partialIds.size(), Streams.tokenIds(result).size())));
                    }
                    if (unfinished.contains(id)) {
                        assertThat(resultAttempt).as("%s was cut off, so it was re-run", id).isGreaterThanOrEqualTo(2);
                    }
                }
                assertThat(second.stop()).as("graceful exit code").isIn(0, 143);
            }
        }
    }

    private static int maxAttempt(List<JsonNode> events) {
        return events.stream().mapToInt(e -> e.path("attempt").asInt()).max().orElse(0);
    }
}

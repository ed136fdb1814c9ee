package io.herd.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.assertj.core.api.Assertions.assertThat;

class AttemptLedgerTest {

    /** Acknowledges every marker at once and keeps what was written. */
    static final class RecordingEmitter implements Emitter<String> {
        final List<String> written = new ArrayList<>();
        boolean fail;

        @Override public CompletionStage<Void> send(String payload) { throw new UnsupportedOperationException(); }

        @Override public <M extends Message<? extends String>> void send(M msg) {
            written.add(msg.getPayload());
            if (fail) msg.nack(new IllegalStateException("broker down"));
            else msg.ack();
        }

        @Override public void complete() {}
        @Override public void error(Exception e) {}
        @Override public boolean isCancelled() { return false; }
        @Override public boolean hasRequests() { return true; }
    }

    static AttemptLedger ledger(RecordingEmitter emitter, int maxAttempts) {
        AttemptLedger l = new AttemptLedger();
        l.emitter = emitter;
        l.mapper = new ObjectMapper();
        l.retention = Duration.ofHours(1);
        l.runningRetention = Duration.ofDays(1);
        l.maxAttempts = maxAttempts;
        l.writes = new BrokerWrites();
        return l;
    }

    @Test
    void eachRunIsNumberedAndARequestPastTheCapIsRefused() {
        RecordingEmitter emitter = new RecordingEmitter();
        AttemptLedger l = ledger(emitter, 3);
        for (int attempt = 1; attempt <= 3; attempt++) {
            assertThat(l.decide(0, "crashy")).isEqualTo(new AttemptLedger.Decision.Run(attempt));
            assertThat(l.decide(0, "crashy")).as("a duplicate while it runs").isInstanceOf(AttemptLedger.Decision.Skip.class);
            l.markRunning(0, "crashy", attempt).toCompletableFuture().join();
            l.release("crashy"); // cut off (abandoned): the next delivery runs the next attempt
        }
        assertThat(l.decide(0, "crashy")).isEqualTo(new AttemptLedger.Decision.Exceeded(4));
        assertThat(emitter.written).hasSize(3).allMatch(m -> m.contains("\"state\":\"running\""));
    }

    @Test
    void aFinishedRequestIsSkippedUntilItsRetentionPasses() {
        AttemptLedger l = ledger(new RecordingEmitter(), 3);
        assertThat(l.decide(1, "done-once")).isEqualTo(new AttemptLedger.Decision.Run(1));
        l.markRunning(1, "done-once", 1);
        l.markFinished(1, "done-once", 1).toCompletableFuture().join();
        assertThat(l.decide(1, "done-once")).isEqualTo(new AttemptLedger.Decision.Skip("finished"));
        l.prune(System.currentTimeMillis() + Duration.ofHours(2).toMillis());
        assertThat(l.size()).isZero();
        assertThat(l.decide(1, "done-once")).isEqualTo(new AttemptLedger.Decision.Run(1));
    }

    @Test
    void runningMarkersArePrunedAfterTheirOwnLongerRetention() {
        AttemptLedger l = ledger(new RecordingEmitter(), 3);
        l.decide(0, "cut-off");
        l.markRunning(0, "cut-off", 1);
        l.release("cut-off");
        l.prune(System.currentTimeMillis() + Duration.ofHours(2).toMillis());
        assertThat(l.size()).as("past the finished retention, within the running one").isEqualTo(1);
        l.prune(System.currentTimeMillis() + Duration.ofDays(1).plusMinutes(1).toMillis());
        assertThat(l.size()).isZero();
    }

    @Test
    void aFailedMarkerWriteFailsItsStage() {
        RecordingEmitter emitter = new RecordingEmitter();
        emitter.fail = true;
        AttemptLedger l = ledger(emitter, 3);
        l.decide(0, "x");
        CompletableFuture<Void> written = l.markRunning(0, "x", 1).toCompletableFuture();
        assertThat(written).isCompletedExceptionally();
        assertThat(l.writes.pending()).isZero();
    }

    @Test
    void markersOfPartitionsGivenAwayStayForWhenTheyComeBack() {
        AttemptLedger l = ledger(new RecordingEmitter(), 3);
        l.decide(5, "p5");
        l.markRunning(5, "p5", 1);
        l.release("p5");
        assertThat(l.decide(5, "p5")).isEqualTo(new AttemptLedger.Decision.Run(2));
    }
}

package io.herd.messaging;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LastAttemptGateTest {

    @Test
    void oneHolderAtATimeServedInArrivalOrder() {
        LastAttemptGate gate = new LastAttemptGate();
        CompletableFuture<Void> first = gate.acquire().toCompletableFuture();
        CompletableFuture<Void> second = gate.acquire().toCompletableFuture();
        CompletableFuture<Void> third = gate.acquire().toCompletableFuture();
        assertThat(first).isDone();
        assertThat(second).isNotDone();
        assertThat(gate.waiting()).isEqualTo(2);
        gate.release();
        assertThat(second).isDone();
        assertThat(third).isNotDone();
        gate.release();
        assertThat(third).isDone();
        gate.release();
        assertThat(gate.acquire().toCompletableFuture()).as("free again").isDone();
    }

    @Test
    void releasingAFreeGateIsABug() {
        assertThatThrownBy(() -> new LastAttemptGate().release()).isInstanceOf(IllegalStateException.class);
    }
}

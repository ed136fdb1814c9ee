package io.herd.serving;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DeltaBatcherTest {

    private static final long MS = 1_000_000L;

    @Test
    void aTokenIsDueAtOnceWhileNothingAwaitsTheBroker() {
        DeltaBatcher b = new DeltaBatcher(20 * MS, 1);
        b.add(5, null, 0);
        assertThat(b.due(0)).isTrue();
        assertThat(b.takeTokenIds()).containsExactly(5);
        assertThat(b.hasPending()).isFalse();
    }

    @Test
    void underLoadTokensShareADeltaUntilAckOrMaxLatency() {
        DeltaBatcher b = new DeltaBatcher(20 * MS, 1);
        b.add(1, null, 0);
        b.takeTokenIds();
        b.sent();
        b.add(2, null, 1 * MS);
        b.add(3, null, 5 * MS);
        assertThat(b.due(10 * MS)).as("previous delta unacknowledged, oldest token 9 ms old").isFalse();
        assertThat(b.dueAtNanos()).isEqualTo(21 * MS);
        assertThat(b.due(21 * MS)).as("latency bound reached").isTrue();
        b.acked();
        assertThat(b.due(10 * MS)).as("acknowledged: the pipe is free").isTrue();
        assertThat(b.takeTokenIds()).containsExactly(2, 3);
    }

    @Test
    void moreUnackedDeltasAllowedMeansLessBatching() {
        DeltaBatcher b = new DeltaBatcher(20 * MS, 2);
        b.sent();
        b.add(1, null, 0);
        assertThat(b.due(0)).isTrue();
        b.sent();
        b.add(2, null, 0);
        assertThat(b.due(0)).isFalse();
    }
}

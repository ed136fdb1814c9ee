package io.herd.messaging;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class BrokerWritesTest {

    @Test
    void stallGrowsOnlyWhileWritesWaitWithoutAcknowledgements() {
        AtomicLong now = new AtomicLong(1_000);
        BrokerWrites w = new BrokerWrites(now::get);
        now.addAndGet(5_000);
        assertThat(w.stalledNanos()).as("nothing pending").isZero();
        w.sent();
        now.addAndGet(700);
        assertThat(w.stalledNanos()).isEqualTo(700);
        w.sent();
        now.addAndGet(300);
        w.settled(true); // one acknowledged: the brokers answer
        assertThat(w.stalledNanos()).isZero();
        now.addAndGet(2_000);
        assertThat(w.stalledNanos()).isEqualTo(2_000);
        w.settled(false); // failed for good: no progress, nothing pending any more
        assertThat(w.pending()).isZero();
        assertThat(w.stalledNanos()).isZero();
    }
}

package io.herd.serving;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CancelMemoryTest {

    @Test
    void aCancelIsTakenOnceWithinItsTimeToLive() {
        CancelMemory m = new CancelMemory(10, 100);
        m.remember("a", 0);
        assertThat(m.take("b", 10)).isFalse();
        assertThat(m.take("a", 50)).isTrue();
        assertThat(m.take("a", 60)).as("taken already").isFalse();
        m.remember("c", 100);
        assertThat(m.take("c", 201)).as("expired").isFalse();
    }

    @Test
    void capacityDropsTheOldestAndExpiryPopsFromTheOldEnd() {
        CancelMemory m = new CancelMemory(3, 1_000);
        for (int i = 0; i < 5; i++) m.remember("id" + i, i);
        assertThat(m.size()).isEqualTo(3);
        assertThat(m.take("id0", 10)).isFalse();
        assertThat(m.take("id1", 10)).isFalse();
        assertThat(m.take("id4", 10)).isTrue();
        m.remember("id2", 20); // refreshed: now the youngest
        m.expire(1_004);
        assertThat(m.size()).as("id3 (t=3) expired, id2 (t=20) kept").isEqualTo(1);
        assertThat(m.take("id2", 1_005)).isTrue();
    }

    @Test
    void aFloodStaysBounded() {
        CancelMemory m = new CancelMemory(100_000, Long.MAX_VALUE / 4);
        for (int i = 0; i < 1_000_000; i++) m.remember("flood-" + i, i);
        assertThat(m.size()).isEqualTo(100_000);
        assertThat(m.take("flood-999999", 1_000_001)).isTrue();
    }
}

package io.herd.messaging;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class MarkerTableTest {

    @Test
    void packsEveryFieldLosslessly() {
        long m = MarkerTable.pack(65_535, 32_767, true, 4_000_000_000_000L);
        assertThat(MarkerTable.partition(m)).isEqualTo(65_535);
        assertThat(MarkerTable.attempt(m)).isEqualTo(32_767);
        assertThat(MarkerTable.finished(m)).isTrue();
        assertThat(MarkerTable.epochMs(m)).isEqualTo(4_000_000_000_000L);
        assertThat(m).isNotEqualTo(MarkerTable.ABSENT);
        long n = MarkerTable.pack(3, 1, false, 1_700_000_000_123L);
        assertThat(MarkerTable.finished(n)).isFalse();
        assertThat(MarkerTable.epochMs(n)).as("seconds precision").isEqualTo(1_700_000_000_000L);
    }

    @Test
    void behavesLikeAMapUnderRandomPutsRemovesAndRetains() {
        MarkerTable table = new MarkerTable();
        Map<String, Long> model = new HashMap<>();
        Random random = new Random(42);
        for (int step = 0; step < 200_000; step++) {
            String id = "req-" + random.nextInt(20_000);
            int op = random.nextInt(10);
            if (op < 6) {
                long m = MarkerTable.pack(random.nextInt(24), 1 + random.nextInt(5), random.nextBoolean(),
                        1_700_000_000_000L + random.nextInt(1_000_000) * 1000L);
                table.put(id, m);
                model.put(id, m);
            } else if (op < 9) {
                table.remove(id);
                model.remove(id);
            } else {
                assertThat(table.get(id)).isEqualTo(model.getOrDefault(id, MarkerTable.ABSENT));
            }
            if (step % 50_000 == 49_999) {
                table.retain(MarkerTable::finished);
                model.values().removeIf(m -> !MarkerTable.finished(m));
            }
        }
        assertThat(table.size()).isEqualTo(model.size());
        model.forEach((id, m) -> assertThat(table.get(id)).isEqualTo(m));
        assertThat(table.get("never-seen")).isEqualTo(MarkerTable.ABSENT);
    }

    @Test
    void aMillionMarkersTakeUnder64MiB() {
        MarkerTable table = new MarkerTable();
        for (int i = 0; i < 1_000_000; i++) table.put("request-" + i, MarkerTable.pack(i % 24, 1, true, 0));
        assertThat(table.size()).isEqualTo(1_000_000);
        assertThat(table.bytes()).isLessThanOrEqualTo(64L << 20);
        assertThat(MarkerTable.attempt(table.get("request-999999"))).isEqualTo(1);
    }
}

package io.herd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoadLevelSummaryTest {
    private static final long MS = 1_000_000L;

    @Test
    void nearestRankPercentiles() {
        double[] hundred = new double[100];
        for (int i = 0; i < 100; i++) hundred[i] = 100 - i; // unsorted on purpose: 100 … 1
        LatencySummary s = LatencySummary.of(hundred);
        assertEquals(100, s.count());
        assertEquals(50.5, s.mean(), 1e-9);
        assertEquals(50, s.p50());
        assertEquals(90, s.p90());
        assertEquals(99, s.p99());
        assertEquals(100, s.max());
        assertEquals(100, hundred[0], "input left as given");

        LatencySummary three = LatencySummary.of(new double[] {30, 10, 20});
        assertEquals(20, three.p50());
        assertEquals(30, three.p90());
        assertEquals(30, three.p99());
        assertEquals(7, LatencySummary.of(new double[] {7}).p99());
        assertTrue(Double.isNaN(LatencySummary.of(new double[0]).p50()));
        assertThrows(IllegalArgumentException.class, () -> LatencySummary.percentile(new double[] {1}, 0));
    }

    @Test
    void deltaOfSeveralTokensCountsAsTokensArrivingTogether() {
        StreamTimeline t = new StreamTimeline("a", 0);
        t.tokensArrived(10 * MS, 1);  // first token: TTFT 10 ms
        t.tokensArrived(15 * MS, 3);  // gap 5, then two gaps of 0
        t.tokensArrived(15 * MS, 0);  // an empty delta is not a delta
        t.tokensArrived(22 * MS, 1);  // gap 7
        t.finished(25 * MS, "length");
        assertEquals(10, t.ttftMs(), 1e-9);
        assertEquals(5, t.tokens());
        assertEquals(3, t.deltas());
        assertArrayEquals(new double[] {5, 0, 0, 7}, t.interTokenMs(), 1e-9);
        assertEquals(25, t.endToEndMs(), 1e-9);

        StreamTimeline first = new StreamTimeline("b", 0);
        first.tokensArrived(4 * MS, 2); // the first delta with two tokens: TTFT 4, one gap of 0
        assertEquals(4, first.ttftMs(), 1e-9);
        assertArrayEquals(new double[] {0}, first.interTokenMs(), 1e-9);
    }

    @Test
    void levelAggregatesSuccessfulRequestsAndWallTime() {
        StreamTimeline a = new StreamTimeline("a", 0);
        a.started(12, 0);
        a.tokensArrived(10 * MS, 1);
        a.tokensArrived(20 * MS, 1);
        a.finished(20 * MS, "length");
        StreamTimeline b = new StreamTimeline("b", 5 * MS);
        b.started(12, 8);
        b.tokensArrived(35 * MS, 2);
        b.serverTtftMs(25);
        b.serverInterTokenMs(new double[] {4});
        b.finished(45 * MS, "stop");
        StreamTimeline c = new StreamTimeline("c", 0);
        c.failed(50 * MS, "internal: boom");

        LoadLevelSummary s = LoadLevelSummary.of(2, List.of(a, b, c));
        assertEquals(3, s.requests());
        assertEquals(2, s.completed());
        assertEquals(1, s.failed());
        assertEquals(4, s.tokens());
        assertEquals(3, s.deltas());
        assertEquals(0.05, s.wallSeconds(), 1e-12, "first send (0) → last end (50 ms), failed request included");
        assertEquals(80, s.tokensPerSecond(), 1e-9);
        assertEquals(Map.of("length", 1, "stop", 1), s.finishReasons());
        assertEquals(20, s.ttftMs().mean(), 1e-9);       // 10 and 30
        assertEquals(2, s.interTokenMs().count());       // 10 from a; 0 from b (two tokens in one delta)
        assertEquals(10, s.interTokenMs().max(), 1e-9);
        assertEquals(30, s.endToEndMs().mean(), 1e-9);   // 20 and 40
        assertEquals(1, s.serverTtftMs().count());
        assertEquals(5, s.outsideServerTtftMs().p50(), 1e-9, "client TTFT 30 − the service's 25");
        assertEquals(4, s.meanCachedTokens(), 1e-9);
        assertEquals(1, s.serverInterTokenMs().count());
        assertEquals(1.5, s.deltasPerRequest(), 1e-9);

        ObjectNode json = s.writeTo(new ObjectMapper().createObjectNode());
        LoadLevelSummary back = LoadLevelSummary.readFrom(json);
        assertEquals(s.tokens(), back.tokens());
        assertEquals(s.ttftMs(), back.ttftMs());
        assertEquals(s.finishReasons(), back.finishReasons());
        assertEquals(s.tokensPerSecond(), back.tokensPerSecond(), 1e-9);
    }

    @Test
    void tableShowsKafkaMinusInProcess() {
        StreamTimeline k = new StreamTimeline("k", 0);
        k.tokensArrived(30 * MS, 1);
        k.finished(30 * MS, "length");
        StreamTimeline p = new StreamTimeline("p", 0);
        p.tokensArrived(10 * MS, 1);
        p.finished(10 * MS, "length");
        String table = KafkaBenchCommand.table(LoadLevelSummary.of(1, List.of(k)), LoadLevelSummary.of(1, List.of(p)));
        assertTrue(table.lines().anyMatch(l -> l.startsWith("TTFT p50") && l.trim().endsWith("+20.00")), table);
    }

    @Test
    void optionsNeedAModelInProcess() {
        assertThrows(IllegalArgumentException.class, () -> KafkaBenchCommand.parse(new String[] {"--kafka", "--in-process"}));
        assertThrows(IllegalArgumentException.class, () -> KafkaBenchCommand.parse(new String[] {"--kafka", "--concurrency", "0"}));
        KafkaBenchCommand.Options o = KafkaBenchCommand.parse(new String[] {"--kafka", "--concurrency", "1, 16", "--max-tokens", "8"});
        assertEquals(List.of(1, 16), o.concurrencies());
        assertEquals(8, o.maxTokens());
    }
}

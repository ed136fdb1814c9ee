package io.herd.engine;

import io.herd.engine.kv.BlockPool;
import io.herd.engine.kv.KvCacheManager;
import io.herd.model.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.herd.engine.SchedulerHarness.prompt;
import static org.assertj.core.api.Assertions.assertThat;

class SchedulerTest {

    /** chunk 8, block 4: every chunk spans two blocks, so CHUNKED releases happen every 8 positions. */
    private static SchedulerHarness harness(int nGlobal, int nChunked, int budget, int maxSeqs) {
        return new SchedulerHarness(8, 4, nGlobal, nChunked, budget, maxSeqs, 0);
    }

    @Test
    void singleRequestGivesTheReferenceTokens() {
        SchedulerHarness h = harness(256, 256, 64, 16);
        int[] p = prompt(1, 21);
        RecordingSink s = h.add("a", p, 30);
        h.runToCompletion(100);
        assertThat(s.tokenArray()).containsExactly(h.expected(p, 30));
        assertThat(s.finishReason).isEqualTo(RequestSink.FinishReason.LENGTH);
        assertThat(s.promptTokens).isEqualTo(21);
        assertThat(s.cachedTokens).isZero();
        assertThat(h.scheduler.kvCacheManager().globalPool().nUsed()).isZero();
        assertThat(h.scheduler.kvCacheManager().chunkedPool().orElseThrow().nUsed()).isZero();
    }

    @Test
    void sixteenMixedRequestsJoiningAndLeavingMatchTheReference() {
        SchedulerHarness h = harness(512, 512, 48, 16);
        List<int[]> prompts = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            prompts.add(prompt(100 + i, 3 + 7 * i % 41));
            lengths.add(5 + (11 * i) % 23);
        }
        for (int i = 0; i < 8; i++) h.add("r" + i, prompts.get(i), lengths.get(i));
        for (int i = 0; i < 4; i++) h.step();
        for (int i = 8; i < 16; i++) h.add("r" + i, prompts.get(i), lengths.get(i));
        h.runToCompletion(500);
        for (int i = 0; i < 16; i++) {
            assertThat(h.sinks.get("r" + i).tokenArray()).as("r" + i).containsExactly(h.expected(prompts.get(i), lengths.get(i)));
        }
        // One forward call per step, carrying every scheduled sequence; steps mixed new and running requests.
        assertThat(h.model.calls).hasSize(h.outputs.size());
        for (int i = 0; i < h.outputs.size(); i++) {
            assertThat(h.model.calls.get(i)[0]).isEqualTo(h.outputs.get(i).nScheduledRequests());
            assertThat(h.outputs.get(i).totalNumScheduledTokens()).isLessThanOrEqualTo(48);
        }
        assertThat(h.outputs).anyMatch(o -> !o.scheduledNewRequests().isEmpty() && !o.scheduledCachedRequests().isEmpty());
        assertThat(h.scheduler.kvCacheManager().globalPool().nUsed()).isZero();
    }

    @Test
    void chunkedPrefillNeverStallsRunningStreams() {
        SchedulerHarness h = harness(256, 256, 6, 16);
        int[] shortPrompt = prompt(2, 3);
        int[] longPrompt = prompt(3, 90);
        RecordingSink a = h.add("a", shortPrompt, 40);
        h.step();
        h.step();
        RecordingSink b = h.add("b", longPrompt, 5);
        int prefillSteps = 0;
        while (h.scheduler.hasWork()) {
            SchedulerOutput out = h.step();
            assertThat(out.totalNumScheduledTokens()).isLessThanOrEqualTo(6);
            boolean aLive = !a.isDone() || out.scheduledCachedRequests().stream().anyMatch(c -> c.requestId().equals("a"));
            boolean bPrefilling = b.tokens.isEmpty() && !b.isDone();
            if (bPrefilling && aLive) {
                prefillSteps++;
                assertThat(out.scheduledCachedRequests()).as("a decodes while b prefills")
                        .anyMatch(c -> c.requestId().equals("a") && c.numScheduledTokens() == 1);
            }
        }
        assertThat(prefillSteps).isGreaterThan(10);
        assertThat(a.tokenArray()).containsExactly(h.expected(shortPrompt, 40));
        assertThat(b.tokenArray()).containsExactly(h.expected(longPrompt, 5));
    }

    @Test
    void prefixHitReusesTheSameBlocksAndComputesOnlyTheRest() {
        SchedulerHarness h = harness(256, 256, 64, 16);
        int[] first = prompt(4, 40);
        RecordingSink a = h.add("a", first, 6);
        h.runToCompletion(100);
        int[] aGlobal = globalTable(h, "a");

        int[] second = Arrays.copyOf(first, 45);
        System.arraycopy(prompt(5, 8), 0, second, 37, 8);
        RecordingSink b = h.add("b", second, 6);
        SchedulerOutput out = h.step();
        // Common prefix 37 tokens → 9 whole blocks (36 tokens); position 36's chunk [32, 40) needs CHUNKED block 8.
        assertThat(b.cachedTokens).isEqualTo(36);
        SchedulerOutput.NewRequest nb = out.scheduledNewRequests().getFirst();
        assertThat(nb.numComputedTokens()).isEqualTo(36);
        assertThat(nb.numScheduledTokens()).isEqualTo(4); // up to the chunk end at 40
        assertThat(Arrays.copyOf(nb.globalBlockIds(), 9)).containsExactly(Arrays.copyOf(aGlobal, 9));
        assertThat(Arrays.copyOf(nb.chunkedBlockIds(), 8)).containsOnly(-1);
        assertThat(nb.chunkedBlockIds()[8]).isNotNegative();
        h.runToCompletion(100);
        assertThat(a.tokenArray()).containsExactly(h.expected(first, 6));
        assertThat(b.tokenArray()).containsExactly(h.expected(second, 6));
        EngineStats st = h.scheduler.stats(0);
        assertThat(st.prefixCacheQueries()).isEqualTo(85);
        assertThat(st.prefixCacheHits()).isEqualTo(36);
    }

    @Test
    void anIdenticalPromptStillComputesItsLastToken() {
        SchedulerHarness h = harness(256, 256, 64, 16);
        int[] p = prompt(6, 32); // exactly 8 blocks
        h.add("a", p, 3);
        h.runToCompletion(50);
        RecordingSink b = h.add("b", p, 3);
        h.runToCompletion(50);
        // Position 31 must run for logits, so block 7 is recomputed: 28 cached tokens.
        assertThat(b.cachedTokens).isEqualTo(28);
        assertThat(b.tokenArray()).containsExactly(h.expected(p, 3));
    }

    @Test
    void tenantsWithDifferentCacheSaltsNeverShareBlocks() {
        SchedulerHarness h = harness(256, 256, 64, 16);
        int[] p = prompt(7, 40);
        RecordingSink a = h.add("a", p, SamplingParams.greedy(4), 0, Long.MAX_VALUE, "tenant-a");
        h.runToCompletion(50);
        RecordingSink b = h.add("b", p, SamplingParams.greedy(4), 0, Long.MAX_VALUE, "tenant-b");
        RecordingSink shared = h.add("c", p, SamplingParams.greedy(4), 0, Long.MAX_VALUE, null);
        h.runToCompletion(50);
        RecordingSink a2 = h.add("a2", p, SamplingParams.greedy(4), 0, Long.MAX_VALUE, "tenant-a");
        h.runToCompletion(50);
        assertThat(b.cachedTokens).isZero();
        assertThat(shared.cachedTokens).isZero();
        assertThat(a2.cachedTokens).isEqualTo(36);
        for (RecordingSink s : List.of(a, b, shared, a2)) assertThat(s.tokenArray()).containsExactly(h.expected(p, 4));
    }

    @Test
    void theChunkedGroupHoldsOnlyTheCurrentAttentionChunk() {
        SchedulerHarness h = harness(256, 256, 16, 16);
        int[] p = prompt(8, 70);
        RecordingSink s = h.add("a", p, 30);
        KvCacheManager kv = h.scheduler.kvCacheManager();
        BlockPool chunked = kv.chunkedPool().orElseThrow();
        int maxChunked = 0;
        int maxGlobal = 0;
        while (h.scheduler.hasWork()) {
            h.step();
            maxChunked = Math.max(maxChunked, chunked.nUsed());
            maxGlobal = Math.max(maxGlobal, kv.globalPool().nUsed());
            if (kv.hasTable("a")) {
                Request r = h.scheduler.request("a");
                int[] table = kv.table("a").chunkedIds();
                int released = (r.numComputedTokens() / 8 * 8) / 4;
                for (int i = 0; i < Math.min(released, table.length); i++) assertThat(table[i]).isEqualTo(-1);
            }
        }
        assertThat(maxChunked).isLessThanOrEqualTo(h.runner.kvLayout().maxChunkedBlocksPerSequence()).isEqualTo(2);
        assertThat(maxGlobal).isEqualTo((70 + 30 - 1 + 3) / 4);
        assertThat(s.tokenArray()).containsExactly(h.expected(p, 30));
    }

    @Test
    void aTinyPoolPreemptsAndEvictsWithoutCorruption() {
        // 14 GLOBAL blocks (56 positions) for 5 sequences of up to 40 tokens: preemption is unavoidable.
        SchedulerHarness h = harness(14, 8, 32, 8);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            prompts.add(prompt(20 + i, 10 + 2 * i));
            h.add("r" + i, prompts.get(i), 22);
        }
        h.runToCompletion(2000);
        for (int i = 0; i < 5; i++) {
            assertThat(h.sinks.get("r" + i).tokenArray()).as("r" + i).containsExactly(h.expected(prompts.get(i), 22));
        }
        assertThat(h.scheduler.stats(0).preemptions()).isPositive();
        assertThat(h.scheduler.kvCacheManager().globalPool().evictions()).isPositive();
        assertThat(h.scheduler.kvCacheManager().globalPool().nUsed()).isZero();
    }

    @Test
    void seededSamplingGivesTheSameTokensWithAndWithoutPreemption() {
        SamplingParams sampled = new SamplingParams(0.4f, 0.95f, 0, 0f, 1234L, 1.1f, 0f, 0f, new int[0], 22, true, 2);
        SchedulerHarness roomy = harness(256, 256, 64, 8);
        SchedulerHarness tiny = harness(14, 8, 32, 8);
        for (SchedulerHarness h : List.of(roomy, tiny)) {
            for (int i = 0; i < 5; i++) h.add("r" + i, prompt(20 + i, 10 + 2 * i), sampled, 0, Long.MAX_VALUE, null);
            h.runToCompletion(2000);
        }
        assertThat(tiny.scheduler.stats(0).preemptions()).isPositive();
        assertThat(roomy.scheduler.stats(0).preemptions()).isZero();
        for (int i = 0; i < 5; i++) {
            int[] tokens = roomy.sinks.get("r" + i).tokenArray();
            assertThat(tiny.sinks.get("r" + i).tokenArray()).as("r" + i).containsExactly(tokens);
            // Temperature actually sampled: not the greedy continuation.
            assertThat(tokens).isNotEqualTo(roomy.expected(prompt(20 + i, 10 + 2 * i), 22));
        }
    }

    @Test
    void theLowestPriorityLatestRequestIsPreemptedFirst() {
        SchedulerHarness h = harness(12, 8, 64, 8);
        h.add("high", prompt(30, 12), SamplingParams.greedy(24), 0, Long.MAX_VALUE, null);
        h.add("low-early", prompt(31, 12), SamplingParams.greedy(24), 5, Long.MAX_VALUE, null);
        h.add("low-late", prompt(32, 12), SamplingParams.greedy(24), 5, Long.MAX_VALUE, null);
        while (h.scheduler.stats(0).preemptions() == 0) h.step();
        assertThat(h.scheduler.request("low-late").status()).isEqualTo(RequestStatus.PREEMPTED);
        assertThat(h.scheduler.request("high").status()).isEqualTo(RequestStatus.RUNNING);
        h.runToCompletion(500);
        assertThat(h.sinks.get("low-late").tokenArray()).containsExactly(h.expected(prompt(32, 12), 24));
    }

    @Test
    void abortBetweenStepsFreesEverything() {
        SchedulerHarness h = harness(64, 64, 64, 16);
        RecordingSink a = h.add("a", prompt(40, 20), 50);
        RecordingSink b = h.add("b", prompt(41, 9), 50);
        h.step();
        h.step();
        int usedWithBoth = h.scheduler.kvCacheManager().globalPool().nUsed();
        int heldByA = h.scheduler.kvCacheManager().table("a").globalIds().length;
        assertThat(heldByA).isEqualTo(4); // two 8-token prompt chunks
        assertThat(h.scheduler.abort("a")).isTrue();
        assertThat(a.finishReason).isEqualTo(RequestSink.FinishReason.CANCELLED);
        h.scheduler.kvCacheManager().checkInvariants();
        assertThat(h.scheduler.kvCacheManager().globalPool().nUsed()).isEqualTo(usedWithBoth - heldByA);
        SchedulerOutput next = h.step();
        assertThat(next.finishedRequestIds()).containsExactly("a");
        assertThat(h.runner.batchSize()).isEqualTo(1);
        assertThat(h.scheduler.abort("a")).isFalse();
        RecordingSink c = h.add("c", prompt(42, 5), 5);
        assertThat(h.scheduler.abort("c")).isTrue(); // still waiting: never reaches the runner
        assertThat(c.finishReason).isEqualTo(RequestSink.FinishReason.CANCELLED);
        assertThat(c.startedCalls).isZero();
        h.runToCompletion(100);
        assertThat(b.tokenArray()).containsExactly(h.expected(prompt(41, 9), 50));
        assertThat(h.outputs.stream().flatMap(o -> o.scheduledNewRequests().stream())).noneMatch(n -> n.requestId().equals("c"));
    }

    @Test
    void deadlinesFailQueuedAndRunningRequests() {
        SchedulerHarness h = harness(64, 64, 64, 1);
        long now = System.nanoTime();
        RecordingSink running = h.add("running", prompt(50, 10), SamplingParams.greedy(100), 0, now + 1_000_000_000L, null);
        RecordingSink queued = h.add("queued", prompt(51, 10), SamplingParams.greedy(5), 0, now + 1_000, null);
        RecordingSink free = h.add("free", prompt(52, 10), SamplingParams.greedy(5), 0, Long.MAX_VALUE, null);
        h.step();
        h.step();
        assertThat(h.scheduler.failExpired(now)).isZero();
        assertThat(h.scheduler.failExpired(now + 2_000)).isEqualTo(1);
        assertThat(queued.errorCode).isEqualTo("deadline_exceeded");
        assertThat(queued.startedCalls).isZero();
        assertThat(h.scheduler.failExpired(now + 1_000_000_000L)).isEqualTo(1);
        assertThat(running.errorCode).isEqualTo("deadline_exceeded");
        assertThat(running.tokens).hasSize(1); // 8 prompt tokens (chunk end), then 2 and a first token
        h.scheduler.kvCacheManager().checkInvariants();
        assertThat(h.scheduler.kvCacheManager().globalPool().nUsed()).isZero();
        h.runToCompletion(50);
        assertThat(free.tokenArray()).containsExactly(h.expected(prompt(52, 10), 5));
    }

    @Test
    void lowerPriorityValuesStartFirstAndFcfsWithinAPriority() {
        SchedulerHarness h = harness(64, 64, 64, 1);
        h.add("p5", prompt(60, 5), SamplingParams.greedy(2), 5, Long.MAX_VALUE, null);
        h.add("p1-first", prompt(61, 5), SamplingParams.greedy(2), 1, Long.MAX_VALUE, null);
        h.add("p1-second", prompt(62, 5), SamplingParams.greedy(2), 1, Long.MAX_VALUE, null);
        h.add("p0", prompt(63, 5), SamplingParams.greedy(2), 0, Long.MAX_VALUE, null);
        h.runToCompletion(50);
        List<String> startOrder = h.outputs.stream().flatMap(o -> o.scheduledNewRequests().stream())
                .map(SchedulerOutput.NewRequest::requestId).toList();
        assertThat(startOrder).containsExactly("p0", "p1-first", "p1-second", "p5");
    }

    @Test
    void aBetterPriorityArrivalPreemptsALowerOneWhenBlocked() {
        SchedulerHarness h = harness(64, 64, 64, 1);
        RecordingSink low = h.add("low", prompt(70, 6), SamplingParams.greedy(20), 5, Long.MAX_VALUE, null);
        h.step();
        h.step();
        RecordingSink high = h.add("high", prompt(71, 6), SamplingParams.greedy(3), 0, Long.MAX_VALUE, null);
        h.step();
        assertThat(h.scheduler.request("low").status()).isEqualTo(RequestStatus.PREEMPTED);
        h.runToCompletion(100);
        assertThat(high.tokenArray()).containsExactly(h.expected(prompt(71, 6), 3));
        assertThat(low.tokenArray()).containsExactly(h.expected(prompt(70, 6), 20));
        assertThat(low.startedCalls).isEqualTo(1);
    }

    @Test
    void agingLetsALowPriorityRequestStartDespiteAStreamOfHighOnes() {
        assertThat(stepsUntilStarted(3)).isLessThan(20);
        assertThat(stepsUntilStarted(0)).as("strict priority starves").isEqualTo(-1);
    }

    private static int stepsUntilStarted(int agingSteps) {
        SchedulerHarness h = new SchedulerHarness(8, 4, 256, 256, 64, 1, agingSteps);
        RecordingSink low = h.add("low", prompt(80, 4), SamplingParams.greedy(2), 3, Long.MAX_VALUE, null);
        for (int step = 0; step < 60; step++) {
            h.add("high" + step, prompt(81 + step, 4), SamplingParams.greedy(2), 0, Long.MAX_VALUE, null);
            h.step();
            if (low.startedCalls > 0) return step;
        }
        return -1;
    }

    @Test
    void stopTokensAndModelLengthEndGeneration() {
        SchedulerHarness h = harness(64, 64, 64, 4);
        int[] p = prompt(90, 7);
        int[] ref = h.expected(p, 30);
        int stopAt = 0;
        for (int i = 5; i < 30; i++) {
            final int tok = ref[i];
            if (Arrays.stream(ref, 0, i).noneMatch(t -> t == tok)) { stopAt = i; break; }
        }
        SamplingParams stop = new SamplingParams(0f, 1f, 0, 0f, 0L, 1f, 0f, 0f, new int[] {ref[stopAt]}, 30, false, 0);
        RecordingSink s = h.add("s", p, stop, 0, Long.MAX_VALUE, null);
        h.runToCompletion(100);
        assertThat(s.finishReason).isEqualTo(RequestSink.FinishReason.STOP);
        assertThat(s.tokenArray()).containsExactly(Arrays.copyOf(ref, stopAt + 1));

        Scheduler small = new Scheduler(h.config, h.runner.kvLayout(), 12, new Scheduler.Listener() {
            public void started(Request r) {}
            public void retired(Request r) {}
        });
        RecordingSink sink = new RecordingSink();
        small.addRequest(new Request(new EngineRequest("m", p, SamplingParams.greedy(100), 0, Long.MAX_VALUE, null),
                sink, 0, io.herd.engine.kv.BlockHash.root("x", null), 4));
        while (small.hasWork()) {
            SchedulerOutput out = small.schedule();
            small.updateFromOutput(out, h.runner.execute(out));
        }
        assertThat(sink.finishReason).isEqualTo(RequestSink.FinishReason.LENGTH);
        assertThat(sink.tokens).hasSize(12 - 7);
    }

    /** A request's GLOBAL table, rebuilt from the diffs the runner received. */
    private static int[] globalTable(SchedulerHarness h, String id) {
        List<Integer> table = new ArrayList<>();
        for (SchedulerOutput o : h.outputs) {
            for (SchedulerOutput.NewRequest n : o.scheduledNewRequests()) {
                if (n.requestId().equals(id)) for (int b : n.globalBlockIds()) table.add(b);
            }
            for (SchedulerOutput.CachedRequest c : o.scheduledCachedRequests()) {
                if (!c.requestId().equals(id)) continue;
                if (c.resumedFromPreemption()) table.clear();
                for (int b : c.newGlobalBlockIds()) table.add(b);
            }
        }
        return table.stream().mapToInt(Integer::intValue).toArray();
    }
}

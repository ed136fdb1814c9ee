package io.herd.engine;

import io.herd.engine.kv.BlockHash;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.model.sampling.SamplingParams;
import io.herd.runner.FakeForwardPass;
import io.herd.runner.ModelRunner;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives the step loop synchronously (what EngineCore's thread does) over a {@link ModelRunner} and a
 * {@link FakeForwardPass}, checking the block pools' invariants after every step.
 */
final class SchedulerHarness {
    static final int VOCAB = 97;
    static final String MODEL = "fake-model";

    final FakeForwardPass model;
    final ModelRunner runner;
    final Scheduler scheduler;
    final EngineConfig config;
    final int chunk;
    final Map<String, RecordingSink> sinks = new HashMap<>();
    final List<SchedulerOutput> outputs = new ArrayList<>();
    int started;
    int retired;
    private long arrivals;

    SchedulerHarness(int chunk, int blockSize, int nGlobal, int nChunked, int tokenBudget, int maxSeqs, int agingSteps) {
        this.chunk = chunk;
        this.model = new FakeForwardPass(VOCAB, chunk, 100_000, blockSize, nGlobal, nChunked);
        this.runner = new ModelRunner(model);
        this.config = new EngineConfig(new KvCacheConfig(1 << 20, blockSize, 0), tokenBudget, maxSeqs, 1000,
                100_000, MODEL, true, agingSteps);
        int maxLen = Math.min(config.maxModelLength(), runner.kvLayout().maxSequenceTokens());
        this.scheduler = new Scheduler(config, runner.kvLayout(), maxLen, new Scheduler.Listener() {
            @Override
            public void started(Request r) { started++; }

            @Override
            public void retired(Request r) { retired++; }
        });
    }

    RecordingSink add(String id, int[] prompt, int maxTokens) {
        return add(id, prompt, SamplingParams.greedy(maxTokens), 0, Long.MAX_VALUE, null);
    }

    RecordingSink add(String id, int[] prompt, SamplingParams sampling, int priority, long deadline, String salt) {
        return add(id, prompt, sampling, priority, deadline, salt, List.of());
    }

    RecordingSink add(String id, int[] prompt, SamplingParams sampling, int priority, long deadline, String salt,
                      List<io.herd.engine.kv.MultimodalSpan> spans) {
        RecordingSink sink = new RecordingSink();
        sinks.put(id, sink);
        EngineRequest er = new EngineRequest(id, prompt, sampling, priority, deadline, salt, spans, null);
        scheduler.addRequest(new Request(er, sink, arrivals++, BlockHash.root(MODEL, salt), config.kvCache().blockSize()));
        return sink;
    }

    SchedulerOutput step() {
        SchedulerOutput out = scheduler.schedule();
        outputs.add(out);
        RunnerOutput result = runner.execute(out);
        scheduler.updateFromOutput(out, result);
        scheduler.kvCacheManager().checkInvariants();
        return out;
    }

    int runToCompletion(int maxSteps) {
        int n = 0;
        while (scheduler.hasWork()) {
            if (n++ >= maxSteps) throw new AssertionError("not done after " + maxSteps + " steps");
            step();
        }
        return n;
    }

    int[] expected(int[] prompt, int n) { return FakeForwardPass.referenceGreedy(prompt, n, VOCAB, chunk); }

    static int[] prompt(int seed, int length) {
        int[] p = new int[length];
        long x = seed * 0x9E3779B97F4A7C15L + 7;
        for (int i = 0; i < length; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            p[i] = 3 + (int) Long.remainderUnsigned(x >>> 17, VOCAB - 3);
        }
        return p;
    }
}

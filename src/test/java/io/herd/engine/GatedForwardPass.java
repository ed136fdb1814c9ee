package io.herd.engine;

import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;
import io.herd.runner.FakeForwardPass;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake model that lets a test hold the engine thread inside a forward call (drain {@link #permits}) and records the
 * token count of every sequence chunk of every call.
 */
final class GatedForwardPass implements ForwardPass {
    final FakeForwardPass inner;
    final Semaphore permits = new Semaphore(1_000_000);
    final AtomicInteger entered = new AtomicInteger();
    final List<int[]> steps = new CopyOnWriteArrayList<>();

    GatedForwardPass(FakeForwardPass inner) { this.inner = inner; }

    @Override public Llama4Config config() { return inner.config(); }
    @Override public KvCacheSpec kvSpec() { return inner.kvSpec(); }
    @Override public void close() {}

    @Override
    public List<float[]> forward(List<SequenceChunk> chunks) {
        entered.incrementAndGet();
        permits.acquireUninterruptibly();
        steps.add(chunks.stream().mapToInt(c -> c.tokens().length).toArray());
        return inner.forward(chunks);
    }
}

package io.herd.compute.cpu;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CpuThreadPoolTest {
    @Test
    void runsEveryTaskExactlyOnceOnPlatformThreads() {
        try (CpuThreadPool pool = new CpuThreadPool(3)) {
            for (int round = 0; round < 200; round++) {
                int n = 1 + round % 37;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Set<Thread> threads = ConcurrentHashMap.newKeySet();
                pool.parallelFor(n, i -> {
                    hits.incrementAndGet(i);
                    threads.add(Thread.currentThread());
                });
                for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("task %d of %d", i, n).isEqualTo(1);
                assertThat(threads).noneMatch(Thread::isVirtual);
            }
        }
    }

    @Test
    void manyTinyLoopsInARowStayExactWhenWorkersWakeLate() {
        // Tiny loops end before a parked worker wakes, so workers often arrive at a finished loop or at the next one.
        try (CpuThreadPool pool = new CpuThreadPool(3)) {
            for (int round = 0; round < 20_000; round++) {
                int n = 2 + round % 3;
                long[] cells = new long[n];
                pool.parallelFor(n, i -> cells[i] = i + 1L);
                long sum = 0;
                for (long c : cells) sum += c;
                assertThat(sum).as("round %d", round).isEqualTo((long) n * (n + 1) / 2);
            }
        }
    }

    @Test
    void theSharedPoolSizeComesFromTheSettingElseTheProcessors() {
        assertThat(CpuThreadPool.sharedSize(null, 8)).isEqualTo(8);
        assertThat(CpuThreadPool.sharedSize(" ", 8)).isEqualTo(8);
        assertThat(CpuThreadPool.sharedSize("3", 8)).isEqualTo(3);
        assertThatThrownBy(() -> CpuThreadPool.sharedSize("0", 8)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CpuThreadPool.sharedSize("two", 8)).hasMessageContaining("HERD_CPU_THREADS");
    }

    @Test
    void nestedLoopsRunInlineInsteadOfDeadlocking() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(8 * 8);
            pool.parallelFor(8, i -> pool.parallelFor(8, j -> hits.incrementAndGet(i * 8 + j)));
            for (int k = 0; k < 64; k++) assertThat(hits.get(k)).isEqualTo(1);
        }
    }

    @Test
    void rethrowsTheFirstFailureAfterTheLoopAndStaysUsable() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            assertThatThrownBy(() -> pool.parallelFor(16, i -> {
                if (i == 5) throw new IllegalStateException("task 5 failed");
            })).isInstanceOf(IllegalStateException.class).hasMessage("task 5 failed");
            AtomicIntegerArray hits = new AtomicIntegerArray(4);
            pool.parallelFor(4, hits::incrementAndGet);
            for (int k = 0; k < 4; k++) assertThat(hits.get(k)).isEqualTo(1);
        }
    }

    @Test
    void rejectsZeroThreads() {
        assertThatThrownBy(() -> new CpuThreadPool(0)).isInstanceOf(IllegalArgumentException.class);
    }
}

package io.herd.tokenizer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Encode throughput on one thread (a plain main, not a test): {@code TokenizerThroughput TOKENIZER_FILE TEXT_FILE}.
 * Prints MB/s for a cold pre-token cache (first pass over a text the tokenizer has not seen) and a warm one, per
 * second of wall time and per second of this thread's CPU time (the latter is what one core does when the machine is
 * shared).
 */
public final class TokenizerThroughput {
    public static void main(String[] args) throws Exception {
        Path tokenizerFile = Path.of(args[0]);
        String text = Files.readString(Path.of(args[1]));
        long t0 = System.nanoTime();
        Tokenizer tokenizer = tokenizerFile.toString().endsWith(".json")
                ? Tokenizer.fromHuggingFace(tokenizerFile) : Tokenizer.fromTiktoken(tokenizerFile);
        System.out.printf("load %s: %.0f ms%n", tokenizerFile.getFileName(), (System.nanoTime() - t0) / 1e6);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double mb = text.getBytes(StandardCharsets.UTF_8).length / 1e6;
        long start = System.nanoTime();
        long cpuStart = threads.getCurrentThreadCpuTime();
        int nTokens = tokenizer.encode(text).length;
        double cold = (System.nanoTime() - start) / 1e9;
        double coldCpu = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        System.out.printf("cold: %.2f MB, %d tokens, %.2f MB/s wall, %.2f MB/s cpu%n", mb, nTokens, mb / cold,
                mb / coldCpu);
        for (int round = 0; round < 5; round++) {
            start = System.nanoTime();
            cpuStart = threads.getCurrentThreadCpuTime();
            int n = 0;
            for (int rep = 0; rep < 3; rep++) n += tokenizer.encode(text).length;
            double s = (System.nanoTime() - start) / 1e9;
            double cpu = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
            System.out.printf("warm round %d: %.2f MB/s wall, %.2f MB/s cpu (%d tokens)%n", round, 3 * mb / s,
                    3 * mb / cpu, n);
        }
    }
}

package io.herd.cli;

import io.herd.compute.cpu.CpuThreadPool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Facts about the machine a benchmark ran on, from /proc where Linux offers them (absent elsewhere: -1 or "?"). */
final class SystemInfo {
    private SystemInfo() {}

    static Map<String, Object> describe(CpuThreadPool pool) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("jdk", Runtime.version().toString());
        m.put("cpu", cpuModel());
        m.put("processors", Runtime.getRuntime().availableProcessors());
        m.put("computeThreads", pool.parallelism());
        m.put("vectorBits", io.herd.compute.cpu.VectorInfo.floatVectorBits());
        m.put("cpuDecodeKernels", io.herd.ffi.CpuKernels.availability().description());
        m.put("loadAverageBefore", loadAverage());
        return m;
    }

    static long rssBytes() { return statusKb("VmRSS:") * 1024; }

    static long peakRssBytes() { return statusKb("VmHWM:") * 1024; }

    static long memAvailableBytes() {
        for (String line : lines(Path.of("/proc/meminfo")))
            if (line.startsWith("MemAvailable:")) return kb(line) * 1024;
        return -1;
    }

    /** The 1-minute load average: other processes competing for the cores skew every number of the run. */
    static double loadAverage() {
        List<String> l = lines(Path.of("/proc/loadavg"));
        return l.isEmpty() ? -1 : Double.parseDouble(l.getFirst().split(" ")[0]);
    }

    /** The 1/5/15-minute load averages as /proc/loadavg gives them; "unknown" where there is none. */
    static String loadAverages() {
        List<String> l = lines(Path.of("/proc/loadavg"));
        return l.isEmpty() ? "unknown" : l.getFirst().trim();
    }

    /** The short commit of the working directory's checkout ("-dirty" when it has local changes), or "unknown". */
    static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "describe", "--always", "--dirty").redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? s : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    static String cpuModel() {
        for (String line : lines(Path.of("/proc/cpuinfo")))
            if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
        return "?";
    }

    private static long statusKb(String key) {
        for (String line : lines(Path.of("/proc/self/status"))) if (line.startsWith(key)) return kb(line);
        return -1;
    }

    private static long kb(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            return List.of();
        }
    }
}

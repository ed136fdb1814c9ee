package io.herd.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The fault suite's table (fault, requests, lost, same-attempt twice, dead-lettered wrongly, restarts), printed and
 * written to {@code target/fault-suite.md}; the file starts afresh with each test JVM.
 */
final class FaultSummary {

    private static final Path FILE = HerdService.PROJECT.resolve("target/fault-suite.md");
    private static boolean started;

    private FaultSummary() {}

    static synchronized void record(FaultInvariants.Report r, String note) {
        String row = String.format("| %s | %d | %d | %d | %d | %d | %d | %s | %s |%n", r.fault(), r.requests(), r.lost(),
                r.sameAttemptTwice(), r.deadLetteredWrongly(), r.restarts(), r.maxAttempt(),
                r.violations().isEmpty() ? "pass" : "FAIL (" + r.violations().size() + ")",
                (note + (r.rerunAfterFinish().isEmpty() ? "" : "; finished requests re-run: " + r.rerunAfterFinish().size()))
                        .replace("|", "/"));
        try {
            if (!started) {
                Files.createDirectories(FILE.getParent());
                Files.writeString(FILE, "# Fault suite\n\n| fault | requests | lost | same-attempt twice | dead-lettered wrongly"
                        + " | restarts | highest attempt | result | notes |\n|---|---|---|---|---|---|---|---|---|\n");
                started = true;
            }
            Files.writeString(FILE, row, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.print("[fault-suite] " + row);
        r.rerunAfterFinish().forEach(x -> System.out.println("[fault-suite]   (re-run) " + x));
        int shown = 0;
        for (String v : r.violations()) {
            if (shown++ == 20) {
                System.out.println("[fault-suite]   … " + (r.violations().size() - 20) + " more");
                break;
            }
            System.out.println("[fault-suite]   " + v);
        }
    }
}

package io.herd.it;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** POSIX signals to a child process by pid (the JDK sends only SIGTERM and SIGKILL itself). */
final class Signals {

    private Signals() {}

    /** Freezes the process: it neither runs nor answers, but its sockets stay open. */
    static void stop(long pid) { send("-STOP", pid); }

    static void resume(long pid) { send("-CONT", pid); }

    private static void send(String signal, long pid) {
        try {
            Process kill = new ProcessBuilder("kill", signal, Long.toString(pid)).redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill " + signal + " " + pid + " failed: "
                        + new String(kill.getInputStream().readAllBytes()));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run kill " + signal + " " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

package io.herd.it;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * The fault suite's broker: {@link FaultBrokerMain} in a child JVM on a fixed loopback port and data folder, so it
 * can be killed (SIGKILL), frozen (SIGSTOP) and started again where it was, with its topics and offsets.
 */
final class BrokerProcess implements AutoCloseable {

    private final String name;
    private final int port;
    private final Path dataDir;
    private final Path log;
    private Process process;

    private BrokerProcess(String name, int port, Path dataDir, Path log) {
        this.name = name;
        this.port = port;
        this.dataDir = dataDir;
        this.log = log;
    }

    static BrokerProcess start(String name) {
        Path base = HerdService.PROJECT.resolve("target/it-logs");
        Path dataDir = HerdService.PROJECT.resolve("target/it-data/" + name + "-kafka-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            Files.createDirectories(base);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        BrokerProcess broker = new BrokerProcess(name, freePort(), dataDir, base.resolve(name + "-kafka.log"));
        broker.launch();
        return broker;
    }

    String bootstrap() { return "localhost:" + port; }

    long pid() { return process.pid(); }

    boolean isAlive() { return process.isAlive(); }

    /** Starts the broker process (again) on the same port and data, and waits until it takes connections. */
    synchronized void launch() {
        if (process != null && process.isAlive()) throw new IllegalStateException("broker " + name + " is running");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xmx512m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                FaultBrokerMain.class.getName(), dataDir.toString(), String.valueOf(port)));
        try {
            long logStart = Files.exists(log) ? Files.size(log) : 0;
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            // The port can stay taken for a moment after a kill; the child then exits and is started again.
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!process.isAlive()) {
                    process = new ProcessBuilder(command).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
                    return false;
                }
                return readySince(logStart);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot launch " + command, e);
        }
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("broker " + name + " started but does not answer; see " + log, e);
        }
    }

    private boolean readySince(long offset) throws IOException {
        if (!Files.exists(log)) return false;
        byte[] all = Files.readAllBytes(log);
        return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset))
                .contains(FaultBrokerMain.READY);
    }

    /** SIGKILL: no clean shutdown, the log is recovered at the next start. */
    synchronized void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException("broker did not die");
    }

    void freeze() { Signals.stop(process.pid()); }

    void resume() { Signals.resume(process.pid()); }

    Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30000));
    }

    @Override
    public synchronized void close() throws InterruptedException {
        if (process == null || !process.isAlive()) return;
        Signals.resume(process.pid());
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package io.herd.it;

import io.herd.model.DemoModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * The packaged service ({@code target/quarkus-app/quarkus-run.jar}) as a child process with the launcher's JVM
 * flags, on the demo model, against the test broker.
 */
final class HerdService implements AutoCloseable {

    static final Path PROJECT = Path.of(System.getProperty("herd.project.dir", ".")).toAbsolutePath();
    static final List<String> JVM_FLAGS = List.of("--add-modules=jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xss4m", "--sun-misc-unsafe-memory-access=allow",
            "-Dfile.encoding=UTF-8", "-Xmx2g");

    private final Process process;
    private final int httpPort;
    private final int managementPort;
    private final Path log;

    private HerdService(Process process, int httpPort, int managementPort, Path log) {
        this.process = process;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
        this.log = log;
    }

    /** The demo model, written once per build into target/. */
    static synchronized Path demoModel() {
        return DemoModel.ensure(PROJECT.resolve("target/it-demo-model"));
    }

    static HerdService start(String name, TestKafka.Topics topics, Map<String, String> extraEnv) {
        Path jar = PROJECT.resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) throw new IllegalStateException(jar + " is missing: run ./mvnw package first");
        Path model = demoModel();
        int port = freePort();
        int managementPort = freePort();
        Path logDir = PROJECT.resolve("target/it-logs");
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path log = logDir.resolve(name + ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JVM_FLAGS);
        command.add("-jar");
        command.add(jar.toString());
        ProcessBuilder pb = new ProcessBuilder(command).directory(PROJECT.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> env = pb.environment();
        // The fault suite passes its own broker process; the others share the in-JVM one.
        env.put("KAFKA_BOOTSTRAP_SERVERS", extraEnv.containsKey("KAFKA_BOOTSTRAP_SERVERS")
                ? extraEnv.get("KAFKA_BOOTSTRAP_SERVERS") : TestKafka.bootstrap());
        env.put("HERD_MODEL_DIR", model.toString());
        env.put("HERD_HTTP_PORT", String.valueOf(port));
        env.put("HERD_MANAGEMENT_PORT", String.valueOf(managementPort));
        env.put("HERD_DATA_DIR", PROJECT.resolve("target/it-data").toString());
        env.put("HERD_KV_CACHE_BYTES", String.valueOf(64L << 20));
        env.put("HERD_CONSUMER_GROUP", topics.requests() + ".group");
        env.putAll(topics.env());
        env.putAll(extraEnv);
        try {
            HerdService service = new HerdService(pb.start(), port, managementPort, log);
            service.awaitReady();
            return service;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot launch " + command, e);
        }
    }

    private void awaitReady() {
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(() -> {
            if (!process.isAlive()) throw new IllegalStateException("service exited with " + process.exitValue() + "; see " + log);
            return managementStatus("/q/health/ready") == 200;
        });
    }

    int httpStatus(String path) {
        try {
            return http(path).statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Status of a GET on the management port (health, metrics); -1 when it does not answer. */
    int managementStatus(String path) {
        try {
            return management(path).statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    /** GET on the API port. */
    HttpResponse<String> http(String path) throws IOException { return get(httpPort, path); }

    /** GET on the management port ({@code /q/health/*}, {@code /q/metrics}). */
    HttpResponse<String> management(String path) throws IOException { return get(managementPort, path); }

    int httpPort() { return httpPort; }

    private static HttpResponse<String> get(int port, String path) throws IOException {
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    HttpResponse<String> post(String path, String json) throws IOException {
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + path))
                    .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** SIGKILL: no shutdown hook, nothing committed that was not already. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM and wait; returns the exit code. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new IllegalStateException("service did not stop within 60 s of SIGTERM; see " + log);
        }
        return process.exitValue();
    }

    boolean isAlive() { return process.isAlive(); }

    long pid() { return process.pid(); }

    /** CPU time the process has used so far, all threads. */
    double cpuSeconds() {
        return process.toHandle().info().totalCpuDuration().map(d -> d.toNanos() / 1e9)
                .orElseThrow(() -> new IllegalStateException("no CPU time for process " + process.pid()));
    }

    /** The liveness probe's HTTP status (-1 when it does not answer). */
    int liveness() { return managementStatus("/q/health/live"); }

    /** The exit code once the process ended. */
    int exitValue() { return process.exitValue(); }

    Path log() { return log; }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) stop();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, String> env(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }
}

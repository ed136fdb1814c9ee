package io.herd.app;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A single-node Apache Kafka broker in KRaft combined mode (broker + controller) running in this JVM, for
 * {@code ./herd serve} without a cluster and for tests. Its log lives in {@code logDir}, so topics and committed
 * offsets survive a restart. The storage is formatted with Kafka's {@link Formatter} on first start.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private final Path logDir;
    private final int port;
    private final KafkaRaftServer server;

    private EmbeddedKafka(Path logDir, int port, KafkaRaftServer server) {
        this.logDir = logDir;
        this.port = port;
        this.server = server;
    }

    /**
     * Formats {@code logDir} if needed and starts the broker on {@code localhost:port} (0 picks a free port).
     *
     * @throws IllegalStateException when the port is taken or the broker does not start
     */
    public static EmbeddedKafka start(Path logDir, int port) {
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the embedded Kafka folder " + logDir, e);
        }
        int clientPort = port == 0 ? freePort() : requireFree(port);
        int controllerPort = freePort();
        Map<String, Object> props = new HashMap<>();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@localhost:" + controllerPort);
        props.put("listeners", "PLAINTEXT://localhost:" + clientPort + ",CONTROLLER://localhost:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://localhost:" + clientPort);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("log.dirs", logDir.toAbsolutePath().toString());
        props.put("auto.create.topics.enable", "false");
        props.put("num.partitions", "1");
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "4");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        // Small cleaner buffer: the default 128 MiB is sized for a dedicated broker host, not a process beside the model.
        props.put("log.cleaner.dedupe.buffer.size", "8388608");
        props.put("log.cleaner.threads", "1");
        KafkaConfig config = new KafkaConfig(props, false);
        format(config, logDir);
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            server.startup();
        } catch (RuntimeException e) {
            server.shutdown();
            throw new IllegalStateException("embedded Kafka did not start on port " + clientPort + " (data in " + logDir + ")", e);
        }
        return new EmbeddedKafka(logDir, clientPort, server);
    }

    private static void format(KafkaConfig config, Path logDir) {
        // Formatted before: keep its cluster id, topics and committed offsets (a new random id would not match).
        if (Files.exists(logDir.resolve("meta.properties"))) return;
        Formatter formatter = new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(config.nodeId())
                .setClusterId(Uuid.randomUuid().toString())
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .setControllerListenerName("CONTROLLER")
                .setMetadataLogDirectory(logDir.toAbsolutePath().toString())
                .setDirectories(List.of(logDir.toAbsolutePath().toString()))
                .setIgnoreFormatted(false);
        try {
            formatter.run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format embedded Kafka storage in " + logDir, e);
        }
    }

    public String bootstrapServers() { return "localhost:" + port; }

    public int port() { return port; }

    public Path logDir() { return logDir; }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free local port", e);
        }
    }

    private static int requireFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("localhost", port));
            return port;
        } catch (IOException e) {
            throw new IllegalStateException("port " + port + " is in use: stop whatever listens there, set"
                    + " HERD_EMBEDDED_KAFKA_PORT to another port, or point KAFKA_BOOTSTRAP_SERVERS at a running cluster", e);
        }
    }
}

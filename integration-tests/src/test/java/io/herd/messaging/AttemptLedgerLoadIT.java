package io.herd.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.app.EmbeddedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The attempt ledger over a million markers on a real broker: what loading them costs in time and heap, and that a
 * partition coming back is read on from where this instance stopped instead of from the start. Time is reported,
 * not asserted (this is a measurement, the VM's speed drifts); the heap bound is asserted, it does not drift.
 */
class AttemptLedgerLoadIT {
    // Run alone: ./mvnw verify -Dit.test=AttemptLedgerLoadIT -Dherd.ledger.markers=1000000 -Dtest=NoSuchTest
    //            -Dsurefire.failIfNoSpecifiedTests=false

    /** A million for the recorded figure (-Dherd.ledger.markers=1000000); fewer in the regular suite, to keep it short. */
    static final int MARKERS = Integer.getInteger("herd.ledger.markers", 200_000);

    @Test
    void aMillionMarkersLoadIntoBoundedMemory() throws Exception {
        Path dir = Files.createTempDirectory("herd-ledger-load");
        try (EmbeddedKafka broker = EmbeddedKafka.start(dir, 0)) {
            String topic = "ledger-load.herd.attempts";
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(60, TimeUnit.SECONDS);
            }
            long now = System.currentTimeMillis();
            long produceStart = System.nanoTime();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                    ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024,
                    ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < MARKERS; i++) {
                    String id = "req-" + i + "-" + Long.toHexString(i * 0x9E3779B97F4A7C15L);
                    boolean finished = i % 4 != 0;
                    producer.send(new ProducerRecord<>(topic, 0, id, "{\"id\":\"" + id + "\",\"attempt\":1,\"state\":\""
                            + (finished ? "finished" : "running") + "\",\"at\":" + now + "}"));
                }
                producer.flush();
            }
            double produceS = (System.nanoTime() - produceStart) / 1e9;

            AttemptLedger ledger = new AttemptLedger();
            ledger.kafkaConfig = Map.of("bootstrap.servers", broker.bootstrapServers());
            ledger.mapper = new ObjectMapper();
            ledger.topic = topic;
            ledger.retention = Duration.ofHours(1);
            ledger.runningRetention = Duration.ofDays(1);
            ledger.maxAttempts = 3;
            ledger.writes = new BrokerWrites();
            long heapBefore = usedHeapAfterGc();
            long loadStart = System.nanoTime();
            ledger.load(List.of(0));
            double loadS = (System.nanoTime() - loadStart) / 1e9;
            long heapAfter = usedHeapAfterGc();

            // Coming back after a revoke: only what was written since is read.
            long reloadStart = System.nanoTime();
            ledger.load(List.of(0));
            double reloadS = (System.nanoTime() - reloadStart) / 1e9;

            String report = String.format("attempt ledger (" + MARKERS + "): %,d markers produced in %.1f s; loaded in %.2f s; table %.1f MiB;"
                            + " heap after GC %+.1f MiB; reload after a revoke %.3f s%n", MARKERS, produceS, loadS,
                    ledger.bytes() / 1048576.0, (heapAfter - heapBefore) / 1048576.0, reloadS);
            System.out.print(report);
            Path out = Path.of(System.getProperty("herd.project.dir", ".")).resolve("target/attempt-ledger-load.txt");
            Files.createDirectories(out.getParent());
            Files.writeString(out, report);

            assertThat(ledger.size()).isEqualTo(MARKERS);
            assertThat(ledger.decide(0, "req-1-" + Long.toHexString(0x9E3779B97F4A7C15L))).as("finished: skipped")
                    .isInstanceOf(AttemptLedger.Decision.Skip.class);
            assertThat(ledger.decide(0, "req-0-0")).as("running marker: the next attempt")
                    .isEqualTo(new AttemptLedger.Decision.Run(2));
            assertThat(ledger.bytes()).as("24 bytes a slot at load factor >= 1/4").isLessThanOrEqualTo(96L * MARKERS);
            assertThat(reloadS).as("a reload reads no old markers").isLessThan(loadS);
            ledger.close();
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}

package io.herd.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The anchor for what Kafka costs Herd: one plain produce → consume hop on the same brokers, with the same client
 * settings as the load (acks=all, no linger), one record at a time, on a scratch topic created and deleted here. A
 * request through Herd makes two such hops (request in, first delta out), so its overhead is read against twice this.
 */
final class BrokerHopProbe {

    private BrokerHopProbe() {}

    /** Milliseconds from send to arrival for {@code rounds} records, or null when the scratch topic cannot be made. */
    static double[] measure(String bootstrap, int rounds) throws Exception {
        Map<String, Object> common = SendCommand.clientConfig(bootstrap);
        String topic = "herd-bench-hop-" + UUID.randomUUID();
        try (Admin admin = Admin.create(common)) {
            try {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                System.err.println("broker hop: no scratch topic (" + e.getMessage() + "); anchor skipped");
                return null;
            }
            try {
                return hops(common, topic, rounds);
            } finally {
                admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static double[] hops(Map<String, Object> common, String topic, int rounds) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> producer = SendCommand.producer(common);
             KafkaConsumer<String, String> consumer = SendCommand.consumer(common)) {
            consumer.assign(List.of(tp));
            consumer.seekToEnd(List.of(tp));
            consumer.position(tp);
            double[] ms = new double[rounds];
            int warm = Math.min(5, rounds);
            for (int i = -warm; i < rounds; i++) {
                String key = Integer.toString(i);
                long sent = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, key, "hop"));
                long deadline = sent + TimeUnit.SECONDS.toNanos(10);
                boolean arrived = false;
                while (!arrived) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("broker hop: record " + i + " did not arrive in 10 s");
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                        if (r.key().equals(key)) arrived = true;
                    }
                }
                if (i >= 0) ms[i] = (System.nanoTime() - sent) / 1e6;
            }
            return ms;
        }
    }
}

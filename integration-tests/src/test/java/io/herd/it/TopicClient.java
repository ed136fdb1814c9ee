package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A test's view of the topics: sends records, and reads the response and dead-letter topics from the beginning on
 * a background thread, collecting records by key.
 */
final class TopicClient implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    /** One consumed record. */
    record Received(String topic, String key, String value, Map<String, String> headers) {
        JsonNode json() {
            try {
                return JSON.readTree(value);
            } catch (Exception e) {
                throw new IllegalStateException("not JSON: " + value, e);
            }
        }
    }

    private final KafkaProducer<String, String> producer;
    private final Map<String, List<Received>> byKey = new ConcurrentHashMap<>();
    private final List<Received> all = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private volatile boolean closed;

    TopicClient(List<String> readTopics) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p);
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrap());
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c);
        List<TopicPartition> partitions = new ArrayList<>();
        for (String t : readTopics) {
            consumer.partitionsFor(t, Duration.ofSeconds(30)).forEach(i -> partitions.add(new TopicPartition(t, i.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        reader = Thread.ofPlatform().name("it-reader").daemon().start(() -> {
            try (consumer) {
                while (!closed) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                        Map<String, String> headers = new HashMap<>();
                        for (Header h : r.headers()) headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
                        Received rec = new Received(r.topic(), r.key(), r.value(), headers);
                        all.add(rec);
                        if (r.key() != null) byKey.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>()).add(rec);
                    }
                }
            }
        });
    }

    void send(String topic, String key, String value, Map<String, String> headers) throws Exception {
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, value);
        headers.forEach((k, v) -> record.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        producer.send(record).get(30, TimeUnit.SECONDS);
    }

    void send(String topic, String key, String value) throws Exception {
        send(topic, key, value, Map.of());
    }

    /** Records with this key on {@code topic}, in arrival order. */
    List<Received> records(String topic, String key) {
        return byKey.getOrDefault(key, List.of()).stream().filter(r -> r.topic().equals(topic)).toList();
    }

    List<JsonNode> events(String topic, String key) {
        return records(topic, key).stream().map(Received::json).toList();
    }

    List<Received> all(String topic) {
        return all.stream().filter(r -> r.topic().equals(topic)).toList();
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        reader.join(5000);
        producer.close(Duration.ofSeconds(5));
    }
}

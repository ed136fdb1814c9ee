package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Reads every record of the given topics from the beginning on a background thread (a plain assigned consumer, no
 * group, so it survives broker restarts and never joins Herd's group), keeping them with their headers and the
 * moment they arrived here.
 */
final class EventObserver implements AutoCloseable {

    /** One observed record. */
    record Seen(String topic, int partition, long offset, String key, String value, Map<String, String> headers,
                long arrivedNanos) {
        JsonNode json() {
            try {
                return TopicClient.JSON.readTree(value);
            } catch (Exception e) {
                return null;
            }
        }
    }

    /** Per topic, in arrival order; appended under the list's lock (a flood of 100,000 records must stay O(1) each). */
    private final Map<String, List<Seen>> byTopic = new ConcurrentHashMap<>();
    private final Map<String, List<Seen>> byKey = new ConcurrentHashMap<>();
    private final Thread reader;
    private volatile boolean closed;
    private volatile RuntimeException failure;

    EventObserver(String bootstrap, List<String> topics) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 16 << 20);
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c);
        List<TopicPartition> partitions = new ArrayList<>();
        for (String t : topics) {
            // A topic created a moment ago may not be in the broker's metadata yet: ask again, for a bounded time.
            List<PartitionInfo> info = consumer.partitionsFor(t, Duration.ofSeconds(30));
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while ((info == null || info.isEmpty()) && System.nanoTime() < until) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                info = consumer.partitionsFor(t, Duration.ofSeconds(30));
            }
            if (info == null || info.isEmpty()) throw new IllegalStateException("topic " + t + " does not exist");
            info.forEach(i -> partitions.add(new TopicPartition(t, i.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        reader = Thread.ofPlatform().name("fault-observer").daemon().start(() -> {
            try (consumer) {
                while (!closed) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(50))) {
                        Map<String, String> headers = new HashMap<>();
                        for (Header h : r.headers()) {
                            headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
                        }
                        Seen seen = new Seen(r.topic(), r.partition(), r.offset(), r.key(), r.value(), headers, System.nanoTime());
                        byTopic.computeIfAbsent(r.topic(), t -> new ArrayList<>());
                        List<Seen> list = byTopic.get(r.topic());
                        synchronized (list) {
                            list.add(seen);
                        }
                        if (r.key() != null) byKey.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>()).add(seen);
                    }
                }
            } catch (RuntimeException e) {
                if (!closed) failure = e;
            }
        });
    }

    /** Records with this key on {@code topic}, in the order they were read. */
    List<Seen> records(String topic, String key) {
        check();
        return byKey.getOrDefault(key, List.of()).stream().filter(r -> r.topic().equals(topic)).toList();
    }

    /** The JSON values of {@link #records}. */
    List<JsonNode> events(String topic, String key) {
        return records(topic, key).stream().map(Seen::json).filter(j -> j != null).toList();
    }

    List<Seen> all(String topic) {
        check();
        List<Seen> list = byTopic.getOrDefault(topic, List.of());
        synchronized (list) {
            return List.copyOf(list);
        }
    }

    private void check() {
        if (failure != null) throw new IllegalStateException("the observer's consumer failed", failure);
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        reader.join(5000);
    }
}

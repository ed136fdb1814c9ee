package io.herd.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Sends requests for the fault suite: single records, and a steady load on a background thread. A request counts as
 * sent only once the broker acknowledged it (a send lost in an outage is the client's loss, not Herd's).
 */
final class FaultLoad implements AutoCloseable {

    private final KafkaProducer<String, String> producer;
    private final KafkaProducer<String, String> bulk;
    private final String requestsTopic;
    /** id → when the broker acknowledged it (nanoTime). */
    private final Map<String, Long> acked = new ConcurrentHashMap<>();
    private final List<String> order = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private volatile Thread steady;
    private volatile boolean steadyOn;

    FaultLoad(String bootstrap, String requestsTopic) {
        this.requestsTopic = requestsTopic;
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 5 << 20);
        // Requests sent while the broker is down wait for it (the longest outage in the suite is 3 minutes).
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        producer = new KafkaProducer<>(p);
        Map<String, Object> b = new HashMap<>(p);
        // Many small records as fast as the client can: batched, one acknowledgement per batch.
        b.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        b.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 << 10);
        b.put(ProducerConfig.ACKS_CONFIG, "1");
        b.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        bulk = new KafkaProducer<>(b);
    }

    /** A keyless record through the bulk producer (floods). */
    CompletableFuture<Void> sendBulk(String topic, String value) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        bulk.send(new ProducerRecord<>(topic, null, value), (meta, e) -> {
            if (e != null) done.completeExceptionally(e);
            else done.complete(null);
        });
        return done;
    }

    void flushBulk() { bulk.flush(); }

    static String newId(String scenario) { return scenario + "-" + UUID.randomUUID(); }

    static String request(String id, String prompt, int maxTokens) {
        ObjectNode r = TopicClient.JSON.createObjectNode();
        r.put("id", id).put("prompt", prompt).put("max_tokens", maxTokens).put("temperature", 0).put("seed", 7);
        return r.toString();
    }

    /** Sends one record; the future completes when the broker has it. */
    CompletableFuture<Void> send(String topic, String key, String value, Map<String, String> headers) {
        ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, value);
        headers.forEach((k, v) -> record.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        CompletableFuture<Void> done = new CompletableFuture<>();
        producer.send(record, (meta, e) -> {
            if (e != null) {
                failures.add(e);
                done.completeExceptionally(e);
            } else {
                if (key != null && topic.equals(requestsTopic)) {
                    acked.putIfAbsent(key, System.nanoTime());
                    order.add(key);
                }
                done.complete(null);
            }
        });
        return done;
    }

    /** Sends a request and waits for the broker's acknowledgement. */
    void sendNow(String id, String value) throws Exception {
        send(requestsTopic, id, value, Map.of()).get(60, TimeUnit.SECONDS);
    }

    /** One plain request with a fresh id, waited for; returns the id. */
    String sendRequest(String scenario, int maxTokens) throws Exception {
        String id = newId(scenario);
        sendNow(id, request(id, "The llamas of " + scenario + " walked on", maxTokens));
        return id;
    }

    /** Starts sending {@code perSecond} requests a second until {@link #stopSteady()}; their ids are tagged. */
    void startSteady(String scenario, double perSecond, int maxTokens) {
        if (steady != null) throw new IllegalStateException("a steady load is already running");
        steadyOn = true;
        long periodNanos = (long) (1e9 / perSecond);
        steady = Thread.ofPlatform().name("fault-load").daemon().start(() -> {
            long next = System.nanoTime();
            int n = 0;
            while (steadyOn) {
                String id = newId(scenario);
                send(requestsTopic, id, request(id, "Steady llama " + (n++) + " of " + scenario, maxTokens), Map.of());
                next += periodNanos;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    try {
                        TimeUnit.NANOSECONDS.sleep(sleep);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        });
    }

    /** Stops the steady load and waits (bounded) until every record it sent was acknowledged or failed. */
    void stopSteady() throws InterruptedException {
        steadyOn = false;
        if (steady != null) steady.join(10_000);
        steady = null;
        producer.flush();
    }

    /** Acknowledged request ids whose id starts with {@code scenario}-, in send order. */
    List<String> sent(String scenario) {
        List<String> out = new ArrayList<>();
        for (String id : order) if (id.startsWith(scenario + "-")) out.add(id);
        return out;
    }

    /** When the broker acknowledged this request (nanoTime), or null. */
    Long ackedAt(String id) { return acked.get(id); }

    List<Throwable> failures() { return failures; }

    void flush() { producer.flush(); }

    @Override
    public void close() {
        steadyOn = false;
        producer.close(Duration.ofSeconds(5));
        bulk.close(Duration.ofSeconds(5));
    }
}

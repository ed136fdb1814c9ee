package io.herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./herd send "prompt"} or {@code ./herd send --messages FILE}: produces one request to herd.requests and
 * prints its response stream as it arrives. A plain Kafka client: no service classes are involved, so it doubles
 * as the reference for the wire contract (kafka-topics/README.md).
 *
 * <p>Attempts: if the service restarts mid-stream, the request is re-run as a higher attempt; the partial output of
 * the earlier attempt is then superseded (a note goes to stderr and the text starts over).
 */
public final class SendCommand {

    private static final String USAGE = """
            usage: ./herd send [options] "prompt"
                   ./herd send [options] --messages FILE.json     (a JSON array of {"role","content"})
              --max-tokens N        tokens to generate (default 128)
              --temperature T       0 = greedy (default 0)
              --top-p P  --top-k K  --min-p P  --seed S
              --stop TEXT           stop string (repeatable)
              --model NAME          model name (default: the served model)
              --priority N          lower is served first (default 0)
              --id ID               request id (default: a random UUID)
              --bootstrap HOST:PORT Kafka (default $KAFKA_BOOTSTRAP_SERVERS or localhost:9092)
              --requests-topic T    (default herd.requests)   --responses-topic T (default herd.responses)
              --timeout SECONDS     give up after this long (default 600)
              --json                print every event as a JSON line instead of the text
            """;

    /** Held so the level setting is not garbage-collected with its logger. */
    private static java.util.logging.Logger kafkaLogs;

    private SendCommand() {}

    public static int run(String[] args) throws IOException {
        quietKafkaLogs();
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode request = mapper.createObjectNode();
        String prompt = null;
        Path messagesFile = null;
        String id = UUID.randomUUID().toString();
        String bootstrap = CliArgs.envOr("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092");
        String requestsTopic = "herd.requests";
        String responsesTopic = "herd.responses";
        long timeoutSeconds = 600;
        boolean json = false;
        int maxTokens = 128;
        float temperature = 0f;
        ArrayNode stop = mapper.createArrayNode();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help" -> {
                    System.out.print(USAGE);
                    return 0;
                }
                case "--messages" -> messagesFile = Path.of(CliArgs.value(args, ++i, a));
                case "--max-tokens" -> maxTokens = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--temperature" -> temperature = Float.parseFloat(CliArgs.value(args, ++i, a));
                case "--top-p" -> request.put("top_p", Float.parseFloat(CliArgs.value(args, ++i, a)));
                case "--top-k" -> request.put("top_k", Integer.parseInt(CliArgs.value(args, ++i, a)));
                case "--min-p" -> request.put("min_p", Float.parseFloat(CliArgs.value(args, ++i, a)));
                case "--seed" -> request.put("seed", Long.parseLong(CliArgs.value(args, ++i, a)));
                case "--stop" -> stop.add(CliArgs.value(args, ++i, a));
                case "--model" -> request.put("model", CliArgs.value(args, ++i, a));
                case "--priority" -> request.put("priority", Integer.parseInt(CliArgs.value(args, ++i, a)));
                case "--id" -> id = CliArgs.value(args, ++i, a);
                case "--bootstrap" -> bootstrap = CliArgs.value(args, ++i, a);
                case "--requests-topic" -> requestsTopic = CliArgs.value(args, ++i, a);
                case "--responses-topic" -> responsesTopic = CliArgs.value(args, ++i, a);
                case "--timeout" -> timeoutSeconds = Long.parseLong(CliArgs.value(args, ++i, a));
                case "--json" -> json = true;
                default -> {
                    if (a.startsWith("--") || prompt != null) {
                        System.err.println("herd send: unexpected argument '" + a + "'\n" + USAGE);
                        return 2;
                    }
                    prompt = a;
                }
            }
        }
        if ((prompt == null) == (messagesFile == null)) {
            System.err.println("herd send: give a prompt or --messages FILE (one of them)\n" + USAGE);
            return 2;
        }
        request.put("id", id);
        if (prompt != null) {
            request.put("prompt", prompt);
        } else {
            JsonNode messages = mapper.readTree(Files.readString(messagesFile));
            if (messages.has("messages")) messages = messages.get("messages");
            if (!messages.isArray()) {
                System.err.println("herd send: " + messagesFile + " must hold a JSON array of {\"role\",\"content\"}");
                return 2;
            }
            request.set("messages", messages);
        }
        request.put("max_tokens", maxTokens);
        request.put("temperature", temperature);
        if (!stop.isEmpty()) request.set("stop", stop);

        Map<String, Object> common = clientConfig(bootstrap);
        try (KafkaConsumer<String, String> consumer = consumer(common);
             KafkaProducer<String, String> producer = producer(common)) {
            // Position at the end of every response partition before sending, so no event can be missed.
            List<TopicPartition> partitions = new ArrayList<>();
            List<PartitionInfo> info = consumer.partitionsFor(responsesTopic, Duration.ofSeconds(30));
            if (info == null || info.isEmpty()) {
                System.err.println("herd send: topic " + responsesTopic + " not found on " + bootstrap + " (is the service running?)");
                return 1;
            }
            for (PartitionInfo p : info) partitions.add(new TopicPartition(responsesTopic, p.partition()));
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            for (TopicPartition tp : partitions) consumer.position(tp);
            producer.send(new ProducerRecord<>(requestsTopic, id, request.toString())).get(30, TimeUnit.SECONDS);
            return follow(consumer, mapper, id, json, timeoutSeconds, System.out, System.err);
        } catch (Exception e) {
            System.err.println("herd send: " + e.getMessage());
            return 1;
        }
    }

    static void quietKafkaLogs() {
        // The packaged app's logging backend expects to be the JDK log manager; set it before anything logs.
        if (System.getProperty("java.util.logging.manager") == null) {
            System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
        }
        kafkaLogs = java.util.logging.Logger.getLogger("org.apache.kafka");
        kafkaLogs.setLevel(java.util.logging.Level.WARNING);
    }

    /** Prints the stream of {@code id} until its done or error event; 0 on done, 1 on error or timeout. */
    static int follow(KafkaConsumer<String, String> consumer, ObjectMapper mapper, String id, boolean json,
                      long timeoutSeconds, PrintStream out, PrintStream err) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        int attempt = 0;
        int expectedSeq = 0;
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                if (!id.equals(r.key())) continue;
                JsonNode e = mapper.readTree(r.value());
                int a = e.path("attempt").asInt(1);
                if (a < attempt) continue; // a superseded attempt
                if (a > attempt) {
                    if (attempt > 0) err.printf("%n[herd send: the service re-ran the request (attempt %d); output restarts]%n", a);
                    attempt = a;
                    expectedSeq = 0;
                }
                int seq = e.path("seq").asInt();
                if (seq != expectedSeq) err.printf("%n[herd send: event seq %d, expected %d]%n", seq, expectedSeq);
                expectedSeq = seq + 1;
                if (json) {
                    out.println(e);
                    out.flush();
                }
                switch (e.path("type").asText()) {
                    case "delta" -> {
                        if (!json) {
                            out.print(e.path("text").asText());
                            out.flush();
                        }
                    }
                    case "done" -> {
                        if (!json) out.println();
                        JsonNode u = e.path("usage");
                        JsonNode t = e.path("timings");
                        err.printf("[%s: %d prompt tokens (%d cached), %d generated; ttft %.1f ms, total %.1f ms]%n",
                                e.path("finish_reason").asText(), u.path("prompt_tokens").asInt(), u.path("cached_tokens").asInt(),
                                u.path("completion_tokens").asInt(), t.path("ttft_ms").asDouble(), t.path("e2e_ms").asDouble());
                        return 0;
                    }
                    case "error" -> {
                        if (!json) out.println();
                        err.printf("herd send: error %s: %s%n", e.path("code").asText(), e.path("message").asText());
                        return 1;
                    }
                    default -> { }
                }
            }
        }
        err.println("herd send: no done event for " + id + " within " + timeoutSeconds + " s");
        return 1;
    }

    /** Bootstrap plus the TLS/SASL settings the service also takes from the environment. */
    static Map<String, Object> clientConfig(String bootstrap) {
        Map<String, Object> c = new HashMap<>();
        c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        for (String key : List.of("security.protocol", "sasl.mechanism", "sasl.jaas.config", "ssl.truststore.location",
                "ssl.truststore.password", "ssl.truststore.type", "ssl.keystore.location", "ssl.keystore.password",
                "ssl.keystore.type")) {
            String v = System.getenv("KAFKA_" + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_'));
            if (v != null && !v.isEmpty()) c.put(key, v);
        }
        return c;
    }

    /** A consumer of string records that commits nothing (the CLI and the benches only read). */
    static KafkaConsumer<String, String> consumer(Map<String, Object> common) {
        Map<String, Object> c = new HashMap<>(common);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(c);
    }

    /** A producer of string records, acks=all, sent at once (no linger: the benches time single records). */
    static KafkaProducer<String, String> producer(Map<String, Object> common) {
        Map<String, Object> c = new HashMap<>(common);
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(c);
    }


}

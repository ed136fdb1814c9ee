package io.herd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.app.EngineAssembly;
import io.herd.engine.EngineRequest;
import io.herd.engine.RequestSink;
import io.herd.model.Precision;
import io.herd.model.WeightQuantization;
import io.herd.model.sampling.SamplingParams;
import io.herd.model.sampling.TokenLogprobs;
import io.herd.serving.TokenizerPromptCodec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code ./herd bench --kafka}: a load client for a running service. At each concurrency it keeps N requests in
 * flight (same prompt, temperature 0, fresh ids) and measures, client-side from the response stream, time to first
 * token (produce → first delta), inter-token latency and end-to-end time, plus aggregate tokens/s.
 *
 * <p>{@code --in-process --model DIR} runs the same load directly on {@link io.herd.engine.EngineCore}, built by the
 * service's own {@link EngineAssembly} with the service's defaults, timing the {@link RequestSink} callbacks: the
 * difference between the two runs is what Kafka and the messaging/serving layers add. {@code --compare K.json I.json}
 * prints the two side by side. Results go to {@code bench/results/} as JSON. Measures; never asserts correctness.
 */
public final class KafkaBenchCommand {

    private static final String USAGE = """
            usage: ./herd bench --kafka [options]                       load a running service through Kafka
                   ./herd bench --kafka --in-process --model DIR [...]  the same load directly on the engine
                   ./herd bench --kafka --compare KAFKA.json IN_PROCESS.json
              --concurrency 1,16    requests kept in flight, one run per value (default 1,16)
              --rounds R            requests per level = concurrency × R (default 8)
              --warmup N            unrecorded requests before the first level (default 8)
              --max-tokens N        tokens per request (default 64)
              --prompt TEXT         the prompt of every request (default: a fixed sentence)
              --bootstrap HOST:PORT Kafka (default $KAFKA_BOOTSTRAP_SERVERS or localhost:9092)
              --requests-topic T    (default herd.requests)   --responses-topic T (default herd.responses)
              --model DIR           checkpoint (in process: required; through Kafka: recorded in the result only)
              --backend B           in process: auto, cpu or cuda (default $HERD_COMPUTE_BACKEND or auto)
              --timeout SECONDS     per level (default 600)
              --note TEXT           recorded in the result (e.g. the service's settings)
              --out FILE.json       (default bench/results/kafka-<mode>-<time>.json)
            """;

    static final String DEFAULT_PROMPT = "The herd crossed the high plateau at dawn, and the youngest llama";

    record Options(boolean inProcess, List<Path> compare, String bootstrap, String requestsTopic, String responsesTopic,
                   Path model, String backend, List<Integer> concurrencies, int rounds, int warmup, int maxTokens,
                   String prompt, long timeoutSeconds, Path out, String note) {}

    /** Where the load goes: two implementations, the Kafka topics and the engine in this process. */
    interface LoadTarget extends AutoCloseable {
        /** Sends one request now; its events go to the returned timeline, which is put on {@code ended} when it ends. */
        StreamTimeline send(String id, BlockingQueue<StreamTimeline> ended) throws Exception;

        /** A line for the result: what was loaded. */
        String describe();

        /** Extra facts for the result (engine settings, anomalies seen). */
        void describeInto(ObjectNode node);

        @Override
        void close();
    }

    private KafkaBenchCommand() {}

    public static int run(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("herd bench --kafka: " + e.getMessage() + "\n" + USAGE);
            return 2;
        }
        if (o == null) {
            System.out.print(USAGE);
            return 0;
        }
        if (!o.compare().isEmpty()) return compare(o.compare().get(0), o.compare().get(1), System.out);
        SendCommand.quietKafkaLogs();
        try (LoadTarget target = o.inProcess() ? EngineTarget.open(o) : KafkaTarget.open(o)) {
            return runLoad(o, target);
        }
    }

    static Options parse(String[] args) {
        boolean inProcess = false;
        List<Path> compare = List.of();
        String bootstrap = CliArgs.envOr("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092");
        String requests = "herd.requests";
        String responses = "herd.responses";
        Path model = null;
        String backend = CliArgs.envOr("HERD_COMPUTE_BACKEND", "auto");
        List<Integer> conc = List.of(1, 16);
        int rounds = 8;
        int warmup = 8;
        int maxTokens = 64;
        String prompt = DEFAULT_PROMPT;
        long timeout = 600;
        Path out = null;
        String note = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--kafka" -> { }
                case "-h", "--help" -> { return null; }
                case "--in-process" -> inProcess = true;
                case "--compare" -> {
                    compare = List.of(Path.of(CliArgs.value(args, ++i, a)), Path.of(CliArgs.value(args, ++i, a)));
                }
                case "--bootstrap" -> bootstrap = CliArgs.value(args, ++i, a);
                case "--requests-topic" -> requests = CliArgs.value(args, ++i, a);
                case "--responses-topic" -> responses = CliArgs.value(args, ++i, a);
                case "--model" -> model = Path.of(CliArgs.value(args, ++i, a));
                case "--backend" -> backend = CliArgs.value(args, ++i, a);
                case "--concurrency" -> conc = Arrays.stream(CliArgs.value(args, ++i, a).split(",")).map(String::trim).map(Integer::parseInt).toList();
                case "--rounds" -> rounds = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--warmup" -> warmup = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--max-tokens" -> maxTokens = Integer.parseInt(CliArgs.value(args, ++i, a));
                case "--prompt" -> prompt = CliArgs.value(args, ++i, a);
                case "--timeout" -> timeout = Long.parseLong(CliArgs.value(args, ++i, a));
                case "--out" -> out = Path.of(CliArgs.value(args, ++i, a));
                case "--note" -> note = CliArgs.value(args, ++i, a);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (conc.isEmpty() || conc.stream().anyMatch(c -> c < 1)) throw new IllegalArgumentException("--concurrency values must be >= 1");
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
        if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        if (maxTokens < 1) throw new IllegalArgumentException("--max-tokens must be >= 1, got " + maxTokens);
        if (inProcess && model == null && compare.isEmpty()) throw new IllegalArgumentException("--in-process needs --model DIR");
        return new Options(inProcess, compare, bootstrap, requests, responses, model, backend, conc, rounds, warmup,
                maxTokens, prompt, timeout, out, note);
    }

    private static int runLoad(Options o, LoadTarget target) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        String mode = o.inProcess() ? "in-process" : "kafka";
        root.put("benchmark", "kafka-overhead");
        root.put("mode", mode);
        root.put("time", Instant.now().toString());
        root.put("commit", SystemInfo.gitCommit());
        root.put("jdk", System.getProperty("java.vm.name") + " " + Runtime.version());
        root.put("device", SystemInfo.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " processors visible");
        root.put("load_average_at_start", SystemInfo.loadAverages());
        root.put("target", target.describe());
        // The folder name only: where a run kept its model is not part of the result.
        root.put("model", o.model() == null ? "as served" : String.valueOf(o.model().getFileName()));
        root.put("prompt", o.prompt());
        root.put("max_tokens", o.maxTokens());
        root.put("temperature", 0);
        root.put("rounds", o.rounds());
        root.put("warmup_requests", o.warmup());
        if (o.note() != null) root.put("note", o.note());
        long timeoutNanos = TimeUnit.SECONDS.toNanos(o.timeoutSeconds());

        if (o.warmup() > 0) {
            int c = Math.min(o.warmup(), o.concurrencies().stream().mapToInt(Integer::intValue).max().orElseThrow());
            runLevel(target, c, o.warmup(), timeoutNanos);
        }
        ArrayNode levels = root.putArray("levels");
        for (int c : o.concurrencies()) {
            List<StreamTimeline> timelines = runLevel(target, c, c * o.rounds(), timeoutNanos);
            LoadLevelSummary s = LoadLevelSummary.of(c, timelines);
            ObjectNode level = s.writeTo(levels.addObject());
            ArrayNode rows = level.putArray("requests_in_send_order");
            long t0 = timelines.getFirst().sentNanos();
            for (StreamTimeline t : timelines) {
                ObjectNode r = rows.addObject();
                putMs(r, "sent_at_ms", (t.sentNanos() - t0) / 1e6);
                putMs(r, "ttft_ms", t.ttftMs());
                if (!Double.isNaN(t.serverTtftMs())) putMs(r, "server_ttft_ms", t.serverTtftMs());
                if (!Double.isNaN(t.sendToStartedMs())) putMs(r, "send_to_started_record_ms", t.sendToStartedMs());
                if (!Double.isNaN(t.startedToFirstDeltaMs())) {
                    putMs(r, "started_to_first_delta_record_ms", t.startedToFirstDeltaMs());
                }
                if (!Double.isNaN(t.firstDeltaHopMs())) putMs(r, "first_delta_hop_ms", t.firstDeltaHopMs());
                putMs(r, "e2e_ms", t.endToEndMs());
                r.put("tokens", t.tokens());
                r.put("deltas", t.deltas());
                if (t.failed()) r.put("error", t.error());
            }
            System.out.printf(Locale.ROOT, "%-10s concurrency %3d: %d/%d ok, %.1f tok/s, TTFT p50 %.1f ms p99 %.1f ms, "
                            + "ITL mean %.2f ms p99 %.2f ms, e2e p50 %.1f ms, %.2f tokens/delta%n",
                    mode, c, s.completed(), s.requests(), s.tokensPerSecond(), s.ttftMs().p50(), s.ttftMs().p99(),
                    s.interTokenMs().mean(), s.interTokenMs().p99(), s.endToEndMs().p50(), s.tokensPerDelta());
        }
        if (!o.inProcess()) {
            double[] hop = BrokerHopProbe.measure(o.bootstrap(), Math.max(20, o.rounds()));
            if (hop != null) {
                LatencySummary h = LatencySummary.of(hop);
                h.writeTo(root.putObject("broker_hop_ms"));
                System.out.printf(Locale.ROOT, "broker hop (plain produce → consume, same brokers): p50 %.2f ms, p90 %.2f ms%n",
                        h.p50(), h.p90());
            }
        }
        root.put("load_average_at_end", SystemInfo.loadAverages());
        target.describeInto(root);

        Path out = o.out() != null ? o.out()
                : Path.of("bench/results/kafka-" + mode + "-" + Instant.now().toString().replace(':', '-') + ".json");
        if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
        String text = json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        Files.writeString(out, text + "\n");
        System.out.println(text);
        System.out.println("wrote " + out);
        return 0;
    }

    /** Keeps {@code concurrency} requests in flight until {@code total} have ended; returns their timelines. */
    static List<StreamTimeline> runLevel(LoadTarget target, int concurrency, int total, long timeoutNanos) throws Exception {
        BlockingQueue<StreamTimeline> ended = new LinkedBlockingQueue<>();
        List<StreamTimeline> all = new ArrayList<>(total);
        long deadline = System.nanoTime() + timeoutNanos;
        while (all.size() < Math.min(concurrency, total)) all.add(target.send(freshId(), ended));
        for (int done = 0; done < total; done++) {
            StreamTimeline t = ended.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (t == null) {
                throw new IllegalStateException((total - done) + " of " + total + " requests at concurrency " + concurrency
                        + " did not end within " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s (" + target.describe() + ")");
            }
            if (all.size() < total) all.add(target.send(freshId(), ended));
        }
        return all;
    }

    /** Milliseconds rounded to microseconds; NaN (not measured) as null, since JSON has no NaN. */
    private static void putMs(ObjectNode node, String field, double ms) {
        if (Double.isNaN(ms)) node.putNull(field);
        else node.put(field, Math.round(ms * 1000) / 1000.0);
    }

    private static String freshId() { return "kbench-" + UUID.randomUUID(); }

    // ---- through Kafka ------------------------------------------------------------------------------------------

    /** Produces requests and follows their events on the responses topic, one poll thread for all streams. */
    static final class KafkaTarget implements LoadTarget {
        /** A request on its way; {@code startedCreatedMs} is written and read by the poll thread only. */
        private static final class Pending {
            private final StreamTimeline timeline;
            private final BlockingQueue<StreamTimeline> ended;
            private final long sentEpochMs;
            long startedCreatedMs;

            Pending(StreamTimeline timeline, BlockingQueue<StreamTimeline> ended, long sentEpochMs) {
                this.timeline = timeline;
                this.ended = ended;
                this.sentEpochMs = sentEpochMs;
            }

            StreamTimeline timeline() { return timeline; }

            BlockingQueue<StreamTimeline> ended() { return ended; }

            long sentEpochMs() { return sentEpochMs; }
        }

        private final Options options;
        private final ObjectMapper mapper = new ObjectMapper();
        private final KafkaProducer<String, String> producer;
        private final KafkaConsumer<String, String> consumer;
        private final Map<String, Pending> pending = new ConcurrentHashMap<>();
        private final AtomicInteger laterAttempts = new AtomicInteger();
        private final AtomicInteger unreadable = new AtomicInteger();
        private final Thread poller;
        private volatile boolean running = true;

        private KafkaTarget(Options options, KafkaProducer<String, String> producer, KafkaConsumer<String, String> consumer) {
            this.options = options;
            this.producer = producer;
            this.consumer = consumer;
            this.poller = Thread.ofPlatform().name("kbench-poll").daemon().start(this::pollLoop);
        }

        static KafkaTarget open(Options o) {
            Map<String, Object> common = SendCommand.clientConfig(o.bootstrap());
            KafkaConsumer<String, String> consumer = SendCommand.consumer(common);
            KafkaProducer<String, String> producer = null;
            try {
                List<PartitionInfo> info = consumer.partitionsFor(o.responsesTopic(), Duration.ofSeconds(30));
                if (info == null || info.isEmpty()) {
                    throw new IllegalStateException("topic " + o.responsesTopic() + " not found on " + o.bootstrap() + " (is the service running?)");
                }
                List<TopicPartition> partitions = info.stream().map(p -> new TopicPartition(o.responsesTopic(), p.partition())).toList();
                // Position at the end of every partition before the first send, so no event can be missed.
                consumer.assign(partitions);
                consumer.seekToEnd(partitions);
                for (TopicPartition tp : partitions) consumer.position(tp);
                producer = SendCommand.producer(common);
                return new KafkaTarget(o, producer, consumer);
            } catch (RuntimeException e) {
                if (producer != null) producer.close();
                consumer.close();
                throw e;
            }
        }

        @Override
        public StreamTimeline send(String id, BlockingQueue<StreamTimeline> ended) {
            ObjectNode request = mapper.createObjectNode();
            request.put("id", id);
            request.put("prompt", options.prompt());
            request.put("max_tokens", options.maxTokens());
            request.put("temperature", 0);
            String value = request.toString();
            StreamTimeline t = new StreamTimeline(id, System.nanoTime());
            pending.put(id, new Pending(t, ended, System.currentTimeMillis()));
            producer.send(new ProducerRecord<>(options.requestsTopic(), id, value), (metadata, e) -> {
                if (e != null && pending.remove(id) != null) {
                    t.failed(System.nanoTime(), "produce_failed");
                    ended.add(t);
                }
            });
            return t;
        }

        private void pollLoop() {
            try {
                while (running) {
                    var records = consumer.poll(Duration.ofMillis(100));
                    long now = System.nanoTime(); // arrival at the client: one instant for the whole fetch
                    long nowMs = System.currentTimeMillis();
                    for (ConsumerRecord<String, String> r : records) {
                        Pending p = r.key() == null ? null : pending.get(r.key());
                        if (p != null) onEvent(p, r.value(), now, nowMs - r.timestamp(), r.timestamp());
                    }
                }
            } catch (WakeupException e) {
                // close() asked the loop to stop
            } catch (RuntimeException e) {
                for (String id : List.copyOf(pending.keySet())) {
                    Pending p = pending.remove(id);
                    if (p != null) {
                        p.timeline().failed(System.nanoTime(), "client: " + e);
                        p.ended().add(p.timeline());
                    }
                }
            }
        }

        private void onEvent(Pending p, String value, long now, long hopMs, long createdMs) {
            JsonNode e;
            try {
                e = mapper.readTree(value);
            } catch (Exception ex) {
                unreadable.incrementAndGet();
                return;
            }
            // A later attempt means the service re-ran the request: the run is then not a clean measurement.
            if (e.path("attempt").asInt(1) != 1) {
                laterAttempts.incrementAndGet();
                return;
            }
            StreamTimeline t = p.timeline();
            switch (e.path("type").asText()) {
                case "started" -> {
                    t.started(e.path("prompt_tokens").asInt(-1), e.path("cached_tokens").asInt(-1));
                    p.startedCreatedMs = createdMs;
                    t.serviceRecordTimes(createdMs - p.sentEpochMs(), Double.NaN);
                }
                case "delta" -> {
                    if (e.path("token_ids").size() > 0) {
                        t.firstDeltaHopMs(hopMs);
                        if (p.startedCreatedMs > 0) t.serviceRecordTimes(Double.NaN, createdMs - p.startedCreatedMs);
                    }
                    t.tokensArrived(now, e.path("token_ids").size());
                }
                case "done" -> {
                    JsonNode ttft = e.path("timings").path("ttft_ms");
                    if (ttft.isNumber()) t.serverTtftMs(ttft.asDouble());
                    JsonNode itl = e.path("timings").path("itl_ms");
                    if (itl.isArray()) {
                        double[] gaps = new double[itl.size()];
                        for (int i = 0; i < gaps.length; i++) gaps[i] = itl.get(i).asDouble();
                        t.serverInterTokenMs(gaps);
                    }
                    t.finished(now, e.path("finish_reason").asText());
                    end(t.id(), p);
                }
                case "error" -> {
                    t.failed(now, e.path("code").asText() + ": " + e.path("message").asText());
                    end(t.id(), p);
                }
                default -> { }
            }
        }

        private void end(String id, Pending p) {
            if (pending.remove(id) != null) p.ended().add(p.timeline());
        }

        @Override
        public String describe() {
            return "kafka " + options.bootstrap() + " (" + options.requestsTopic() + " → " + options.responsesTopic() + ")";
        }

        @Override
        public void describeInto(ObjectNode node) {
            node.put("events_of_later_attempts", laterAttempts.get());
            node.put("unreadable_events", unreadable.get());
        }

        @Override
        public void close() {
            running = false;
            consumer.wakeup();
            try {
                poller.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            producer.close(Duration.ofSeconds(5));
            if (!poller.isAlive()) consumer.close(Duration.ofSeconds(5));
        }
    }

    // ---- in process ---------------------------------------------------------------------------------------------

    /**
     * The engine the service would build for the same checkpoint: {@link EngineAssembly} with the service's settings
     * (the defaults of application.properties, or the same HERD_* variables), the prompt tokenized by the service's
     * codec once up front.
     */
    static final class EngineTarget implements LoadTarget {
        private final EngineAssembly assembly;
        private final int[] promptTokens;
        private final SamplingParams sampling;
        private final EngineAssembly.Settings settings;

        private EngineTarget(EngineAssembly assembly, int[] promptTokens, SamplingParams sampling, EngineAssembly.Settings settings) {
            this.assembly = assembly;
            this.promptTokens = promptTokens;
            this.sampling = sampling;
            this.settings = settings;
        }

        static EngineTarget open(Options o) {
            if (!Files.isDirectory(o.model())) throw new IllegalArgumentException("model folder " + o.model() + " does not exist");
            // Mirrors herd.engine.* / herd.compute.* in application.properties (same variables, same defaults).
            EngineAssembly.Settings s = new EngineAssembly.Settings(
                    Long.parseLong(CliArgs.envOr("HERD_KV_CACHE_BYTES", "268435456")),
                    Integer.parseInt(CliArgs.envOr("HERD_MAX_MODEL_LEN", "8192")),
                    Integer.parseInt(CliArgs.envOr("HERD_MAX_NUM_SEQS", "64")),
                    Integer.parseInt(CliArgs.envOr("HERD_MAX_NUM_BATCHED_TOKENS", "2048")),
                    Integer.parseInt(CliArgs.envOr("HERD_ENGINE_QUEUE_CAPACITY", "1024")),
                    Precision.valueOf(CliArgs.envOr("HERD_PRECISION", "F32").toUpperCase(Locale.ROOT)),
                    WeightQuantization.valueOf(CliArgs.envOr("HERD_QUANTIZATION", "NONE").toUpperCase(Locale.ROOT)),
                    EngineAssembly.Backend.parse(o.backend()),
                    CliArgs.envOr("HERD_GPU_WEIGHT_FORMAT", "stored"));
            String name = o.model().toAbsolutePath().normalize().getFileName().toString();
            EngineAssembly assembly = EngineAssembly.open(o.model(), name, s);
            try {
                TokenizerPromptCodec codec = new TokenizerPromptCodec(assembly.tokenizer(), assembly.config().eosTokenIds());
                SamplingParams sampling = new SamplingParams(0f, 1f, 0, 0f, 0L, 1f, 0f, 0f, codec.stopTokenIds(),
                        o.maxTokens(), false, 0);
                return new EngineTarget(assembly, codec.encodePrompt(o.prompt()), sampling, s);
            } catch (RuntimeException e) {
                assembly.close();
                throw e;
            }
        }

        @Override
        public StreamTimeline send(String id, BlockingQueue<StreamTimeline> ended) {
            StreamTimeline t = new StreamTimeline(id, System.nanoTime());
            RequestSink sink = new RequestSink() {
                @Override public void onStarted(int promptTokens, int cachedTokens) { t.started(promptTokens, cachedTokens); }

                @Override public void onToken(int tokenId, TokenLogprobs logprobs) { t.tokensArrived(System.nanoTime(), 1); }

                @Override
                public void onFinished(FinishReason reason) {
                    t.finished(System.nanoTime(), reason.name().toLowerCase(Locale.ROOT));
                    ended.add(t);
                }

                @Override
                public void onError(String code, String message) {
                    t.failed(System.nanoTime(), code + ": " + message);
                    ended.add(t);
                }
            };
            if (!assembly.engine().submit(new EngineRequest(id, promptTokens, sampling, 0, Long.MAX_VALUE, null), sink)) {
                throw new IllegalStateException("the engine's admission queue is full (capacity " + settings.queueCapacity() + ")");
            }
            return t;
        }

        @Override
        public String describe() { return "EngineCore in this process, " + assembly.backendDescription(); }

        @Override
        public void describeInto(ObjectNode node) {
            ObjectNode e = node.putObject("engine_settings");
            e.put("kv_cache_bytes", settings.kvCacheBytes());
            e.put("max_model_len", settings.maxModelLength());
            e.put("max_num_seqs", settings.maxNumSeqs());
            e.put("max_num_batched_tokens", settings.maxNumBatchedTokens());
            e.put("precision", settings.precision().name());
            e.put("quantization", settings.quantization().name());
            e.put("prompt_tokens", promptTokens.length);
        }

        @Override
        public void close() { assembly.close(); }
    }

    // ---- side by side -------------------------------------------------------------------------------------------

    /** Prints the two result files side by side, level by level (matched on concurrency). */
    static int compare(Path kafkaFile, Path inProcessFile, PrintStream out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode k = json.readTree(Files.readString(kafkaFile));
        JsonNode p = json.readTree(Files.readString(inProcessFile));
        out.printf("Kafka:      %s%n            commit %s, load average %s → %s%n", k.path("target").asText(),
                k.path("commit").asText(), k.path("load_average_at_start").asText(), k.path("load_average_at_end").asText());
        out.printf("in process: %s%n            commit %s, load average %s → %s%n", p.path("target").asText(),
                p.path("commit").asText(), p.path("load_average_at_start").asText(), p.path("load_average_at_end").asText());
        for (JsonNode r : List.of(k, p)) {
            if (r.hasNonNull("note")) out.printf("note (%s): %s%n", r.path("mode").asText(), r.path("note").asText());
        }
        out.printf("prompt \"%s\", max_tokens %d, temperature 0; times in ms, difference = Kafka − in process%n",
                k.path("prompt").asText(), k.path("max_tokens").asInt());
        Map<Integer, LoadLevelSummary> inProcess = new HashMap<>();
        for (JsonNode n : p.path("levels")) inProcess.put(n.path("concurrency").asInt(), LoadLevelSummary.readFrom(n));
        for (JsonNode n : k.path("levels")) {
            LoadLevelSummary a = LoadLevelSummary.readFrom(n);
            LoadLevelSummary b = inProcess.get(a.concurrency());
            if (b == null) {
                out.printf("%nconcurrency %d: no in-process run%n", a.concurrency());
                continue;
            }
            out.print(table(a, b));
        }
        if (k.has("broker_hop_ms")) {
            LatencySummary hop = LatencySummary.readFrom(k.path("broker_hop_ms"));
            out.printf(Locale.ROOT, "%nanchor: a plain produce → consume hop on the same brokers p50 %.2f ms, p90 %.2f ms"
                    + " (a request through Kafka makes two: the request in, the first delta out)%n", hop.p50(), hop.p90());
        }
        return 0;
    }

    static String table(LoadLevelSummary kafka, LoadLevelSummary inProcess) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nconcurrency %d  (requests ok: Kafka %d/%d, in process %d/%d; tokens %d vs %d)%n",
                kafka.concurrency(), kafka.completed(), kafka.requests(), inProcess.completed(), inProcess.requests(),
                kafka.tokens(), inProcess.tokens()));
        sb.append(String.format(Locale.ROOT, "%-22s %12s %12s %12s%n", "", "Kafka", "in process", "difference"));
        row(sb, "TTFT mean", kafka.ttftMs().mean(), inProcess.ttftMs().mean());
        row(sb, "TTFT p50", kafka.ttftMs().p50(), inProcess.ttftMs().p50());
        row(sb, "TTFT p90", kafka.ttftMs().p90(), inProcess.ttftMs().p90());
        row(sb, "TTFT p99", kafka.ttftMs().p99(), inProcess.ttftMs().p99());
        row(sb, "ITL mean", kafka.interTokenMs().mean(), inProcess.interTokenMs().mean());
        row(sb, "ITL p50", kafka.interTokenMs().p50(), inProcess.interTokenMs().p50());
        row(sb, "ITL p90", kafka.interTokenMs().p90(), inProcess.interTokenMs().p90());
        row(sb, "ITL p99", kafka.interTokenMs().p99(), inProcess.interTokenMs().p99());
        row(sb, "E2E mean", kafka.endToEndMs().mean(), inProcess.endToEndMs().mean());
        row(sb, "E2E p50", kafka.endToEndMs().p50(), inProcess.endToEndMs().p50());
        row(sb, "E2E p99", kafka.endToEndMs().p99(), inProcess.endToEndMs().p99());
        row(sb, "tokens/s (aggregate)", kafka.tokensPerSecond(), inProcess.tokensPerSecond());
        row(sb, "deltas per request", kafka.deltasPerRequest(), inProcess.deltasPerRequest());
        row(sb, "tokens per delta", kafka.tokensPerDelta(), inProcess.tokensPerDelta());
        if (kafka.serverTtftMs().count() > 0) {
            LatencySummary server = kafka.serverTtftMs();
            LatencySummary outside = kafka.outsideServerTtftMs();
            sb.append(String.format(Locale.ROOT, "Kafka TTFT split: the service's own (received → first token) mean %.2f,"
                    + " p50 %.2f, p99 %.2f;%n  outside it (to the handler and the first delta back) mean %.2f, p50 %.2f, p99 %.2f%n",
                    server.mean(), server.p50(), server.p99(), outside.mean(), outside.p50(), outside.p99()));
        }
        if (kafka.serverInterTokenMs().count() > 0) {
            LatencySummary itl = kafka.serverInterTokenMs();
            sb.append(String.format(Locale.ROOT, "Kafka ITL as the service measured it (when the engine produced each token):"
                    + " mean %.2f, p50 %.2f, p99 %.2f%n", itl.mean(), itl.p50(), itl.p99()));
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, String name, double a, double b) {
        sb.append(String.format(Locale.ROOT, "%-22s %12.2f %12.2f %+12.2f%n", name, a, b, a - b));
    }


}

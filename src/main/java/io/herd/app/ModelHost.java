package io.herd.app;

import io.herd.engine.EngineStats;
import io.herd.engine.EngineWarmUp;
import io.herd.engine.InferenceEngine;
import io.herd.model.DemoModel;
import io.herd.serving.PromptCodec;
import io.herd.image.ImageLimits;
import io.herd.image.Llama4ImageProcessor;
import io.herd.image.Llama4ImageProcessorConfig;
import io.herd.serving.HttpImageFetcher;
import io.herd.serving.ImageEncodeListener;
import io.herd.serving.ImagePrompts;
import io.herd.serving.ImageUrlAllowList;
import io.herd.serving.ImageUrlReader;
import io.herd.serving.VisionPromptBuilder;
import io.herd.serving.TokenizerPromptCodec;
import io.herd.tokenizer.template.ChatTemplateRenderer;
import io.herd.tokenizer.template.ChatTemplateSource;
import io.herd.tokenizer.Tokenizer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Owns the loaded model: tokenizer, engine and its metrics. Loaded once, on first use (the Kafka channels need it
 * at startup, after the broker is up). With no herd.model.dir the demo model is generated into
 * {dataDir}/demo-model on first start.
 */
@ApplicationScoped
public class ModelHost {

    private static final Logger LOG = Logger.getLogger(ModelHost.class);

    @Inject HerdConfig config;
    @Inject MeterRegistry registry;

    private volatile EngineAssembly assembly;
    private volatile PromptCodec codec;
    private volatile ImagePrompts imagePrompts;
    private volatile String modelName;

    private synchronized void load() {
        if (assembly != null) return;
        Path dir = config.model().dir().orElseGet(() -> ensureDemoModel(config.dataDir().resolve("demo-model")));
        if (!Files.isDirectory(dir) && !Files.isRegularFile(dir))
            throw new IllegalStateException("model folder or GGUF file " + dir.toAbsolutePath() + " does not exist");
        String name = config.model().name().orElse(dir.toAbsolutePath().normalize().getFileName().toString());
        long t0 = System.nanoTime();
        HerdConfig.Engine e = config.engine();
        EngineAssembly a = EngineAssembly.open(dir, name, new EngineAssembly.Settings(e.kvCacheBytes(), e.maxModelLen(),
                e.maxNumSeqs(), e.maxNumBatchedTokens(), e.queueCapacity(), e.precision(), e.quantization(),
                EngineAssembly.Backend.parse(config.compute().backend()), config.compute().gpuWeightFormat()));
        warmUp(a, e.warmUpTimeoutMillis());
        Tokenizer tokenizer = a.tokenizer();
        ChatTemplateRenderer template = ChatTemplateSource.resolve(config.model().chatTemplate().orElse(null), dir,
                Math.max(1L << 20, 32L * e.maxModelLen()));
        if (template != null) LOG.infof("chat template: %s", template.name());
        codec = new TokenizerPromptCodec(tokenizer, a.config().eosTokenIds(), template);
        Path preprocessor = dir.resolve("preprocessor_config.json");
        ImageLimits limits = imageLimits();
        ImageUrlReader urls = imageUrls(limits);
        ImageEncodeListener encodeTime = imageEncodeMetrics();
        imagePrompts = !Files.isRegularFile(preprocessor) ? null : a.imageEmbedder(dir)
                .map(embedder -> (ImagePrompts) new VisionPromptBuilder(tokenizer, limits, urls, encodeTime,
                        new Llama4ImageProcessor(Llama4ImageProcessorConfig.parse(preprocessor)), embedder, a.config().dModel()))
                .orElse(null);
        if (imagePrompts != null) LOG.infof("model %s accepts images (vision tower loaded)", name);
        modelName = name;
        registerMetrics(a.engine());
        assembly = a;
        LOG.infof("model %s loaded from %s in %d ms on %s (max model length %d)", name, dir.toAbsolutePath(),
                (System.nanoTime() - t0) / 1_000_000, a.backendDescription(), a.engine().maxModelLength());
    }

    private ImageLimits imageLimits() {
        HerdConfig.Image i = config.image();
        return new ImageLimits(i.maxBytes(), i.maxPixels(), i.maxPerRequest(), i.maxTilesPerRequest());
    }

    private ImageUrlReader imageUrls(ImageLimits limits) {
        HerdConfig.Image i = config.image();
        String allowed = i.urlAllowed().map(String::strip).orElse("");
        if (allowed.isEmpty()) return new ImageUrlReader(limits.maxImageBytes());
        LOG.infof("http(s) image URLs are fetched from hosts %s", allowed);
        return new ImageUrlReader(limits.maxImageBytes(), new HttpImageFetcher(ImageUrlAllowList.parse(allowed),
                limits.maxImageBytes(), i.urlConnectTimeout()), i.urlTimeout());
    }

    /** Vision-tower time per request with images, and the tiles it encoded. */
    private ImageEncodeListener imageEncodeMetrics() {
        Timer time = Timer.builder("herd.image_encode_time")
                .description("Vision tower time for the images of one request")
                .serviceLevelObjectives(IMAGE_ENCODE_BUCKETS).register(registry);
        Counter tiles = Counter.builder("herd.image_encode_tiles").description("Image tiles through the vision tower")
                .register(registry);
        return (n, nanos) -> {
            time.record(nanos, TimeUnit.NANOSECONDS);
            tiles.increment(n);
        };
    }

    private static final Duration[] IMAGE_ENCODE_BUCKETS = java.util.stream.DoubleStream.of(0.01, 0.025, 0.05, 0.1,
                    0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120)
            .mapToObj(s -> Duration.ofNanos((long) (s * 1e9))).toArray(Duration[]::new);

    /** Before readiness: a failed or slow warm-up is logged, never fatal (the engine's own health says the rest). */
    private static void warmUp(EngineAssembly a, long timeoutMillis) {
        if (timeoutMillis <= 0) return;
        try {
            EngineWarmUp.Result r = EngineWarmUp.run(a.engine(), a.config().vocabSize(), timeoutMillis);
            if (r.error() != null || r.completed() < r.submitted())
                LOG.warnf("engine warm-up: %d of %d requests finished in %d ms (%s)", r.completed(), r.submitted(), r.millis(),
                        r.error() == null ? "timed out" : r.error());
            else LOG.infof("engine warm-up: %d requests in %d ms", r.submitted(), r.millis());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private static Path ensureDemoModel(Path dir) {
        LOG.infof("no herd.model.dir set: using the demo model in %s (written on first start)", dir.toAbsolutePath());
        return DemoModel.ensure(dir);
    }

    public InferenceEngine engine() {
        load();
        return assembly.engine();
    }

    public PromptCodec codec() {
        load();
        return codec;
    }

    /** Turns image content parts into prompts; null when the model has no vision tower (or runs on the GPU). */
    public ImagePrompts imagePrompts() {
        load();
        return imagePrompts;
    }

    public String modelName() {
        load();
        return modelName;
    }

    /** True when the model is loaded and the engine thread runs. */
    public boolean ready() {
        EngineAssembly a = assembly;
        return a != null && a.engine().isAlive();
    }

    /** Why the engine stopped, or null. */
    public Throwable engineFailure() {
        EngineAssembly a = assembly;
        return a == null ? null : a.engine().failure().orElse(null);
    }

    private void registerMetrics(InferenceEngine engine) {
        gauge("herd.num_requests_running", "Requests in the running batch", engine, s -> s.running());
        gauge("herd.num_requests_waiting", "Requests waiting to be scheduled", engine, s -> s.waiting());
        gauge("herd.kv_cache_usage_perc", "Fraction of KV cache blocks in use (0-1)", engine, EngineStats::kvCacheUsage);
        counter("herd.prefix_cache_queries", "Prompt tokens looked up in the prefix cache", engine, s -> s.prefixCacheQueries());
        counter("herd.prefix_cache_hits", "Prompt tokens found in the prefix cache", engine, s -> s.prefixCacheHits());
        counter("herd.num_preemptions", "Requests preempted to free KV blocks", engine, s -> s.preemptions());
    }

    private void gauge(String name, String help, InferenceEngine engine, ToDoubleFunction<EngineStats> f) {
        Gauge.builder(name, engine, e -> f.applyAsDouble(e.stats())).description(help).register(registry);
    }

    private void counter(String name, String help, InferenceEngine engine, ToDoubleFunction<EngineStats> f) {
        FunctionCounter.builder(name, engine, e -> f.applyAsDouble(e.stats())).description(help).register(registry);
    }

    @PreDestroy
    void close() {
        if (assembly != null) assembly.close();
    }
}

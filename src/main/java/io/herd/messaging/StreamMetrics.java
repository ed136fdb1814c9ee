package io.herd.messaging;

import io.herd.serving.StreamEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Request-level metrics with vLLM's meanings (vllm:time_to_first_token_seconds → herd_time_to_first_token_seconds,
 * and so on) plus the Kafka edge's record counters. Engine gauges are registered by the application from
 * {@code EngineStats}.
 */
@ApplicationScoped
public class StreamMetrics {

    private static final Duration[] LATENCY_BUCKETS = buckets(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25,
            0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0);
    private static final Duration[] ITL_BUCKETS = buckets(0.001, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
            0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0);

    private final MeterRegistry registry;
    private final Timer ttft;
    private final Timer itl;
    private final Timer e2e;
    private final Timer queue;
    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter recordsIn;
    private final Counter recordsOut;
    private final Counter dlq;
    private final Counter duplicates;

    @Inject
    public StreamMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.ttft = timer("herd.time_to_first_token", "Time from receiving a request to its first token", LATENCY_BUCKETS);
        this.itl = timer("herd.inter_token_latency", "Time between consecutive generated tokens", ITL_BUCKETS);
        this.e2e = timer("herd.e2e_request_latency", "Time from receiving a request to its last event", LATENCY_BUCKETS);
        this.queue = timer("herd.request_queue_time", "Time a request waited before it was first scheduled", LATENCY_BUCKETS);
        this.promptTokens = Counter.builder("herd.prompt_tokens").description("Prefill tokens processed").register(registry);
        this.generationTokens = Counter.builder("herd.generation_tokens").description("Tokens generated").register(registry);
        this.recordsIn = Counter.builder("herd.records_in").description("Request records consumed").register(registry);
        this.recordsOut = Counter.builder("herd.records_out").description("Response records acknowledged by the broker").register(registry);
        this.dlq = Counter.builder("herd.dlq_records").description("Request records sent to the dead-letter topic").register(registry);
        this.duplicates = Counter.builder("herd.duplicate_requests").description("Request records skipped as already running or finished").register(registry);
    }

    public void recordIn() { recordsIn.increment(); }

    public void recordOut() { recordsOut.increment(); }

    public void deadLettered(String code) {
        dlq.increment();
        registry.counter("herd.dlq_records_by_reason", "reason", code).increment();
    }

    public void duplicate() { duplicates.increment(); }

    /** A dead-letter write failed and will be retried. */
    public void deadLetterFailed() { registry.counter("herd.dlq_write_failures").increment(); }

    /** A stream's events could not be published; the request is re-run as its next attempt. */
    public void publishFailed() { registry.counter("herd.publish_failures").increment(); }

    /** A record was let go because its partition moved to another instance. */
    public void revoked(String stage) { registry.counter("herd.records_revoked", "stage", stage).increment(); }

    /** Called once per stream with its terminal event. */
    public void finished(StreamEvent terminal) {
        switch (terminal) {
            case StreamEvent.Done d -> {
                registry.counter("herd.request_success", "finished_reason", d.finishReason()).increment();
                StreamEvent.Timings t = d.timings();
                promptTokens.increment(d.usage().promptTokens() - d.usage().cachedTokens());
                generationTokens.increment(d.usage().completionTokens());
                if (t.ttftNanos() > 0) ttft.record(t.ttftNanos(), TimeUnit.NANOSECONDS);
                for (long gap : t.itlNanos()) itl.record(gap, TimeUnit.NANOSECONDS);
                e2e.record(t.e2eNanos(), TimeUnit.NANOSECONDS);
                queue.record(t.queueNanos(), TimeUnit.NANOSECONDS);
            }
            case StreamEvent.Error e -> registry.counter("herd.request_errors", "code", e.code()).increment();
            default -> throw new IllegalStateException("not a terminal event: " + terminal);
        }
    }

    private Timer timer(String name, String description, Duration[] buckets) {
        return Timer.builder(name).description(description).serviceLevelObjectives(buckets)
                .minimumExpectedValue(buckets[0]).maximumExpectedValue(buckets[buckets.length - 1]).register(registry);
    }

    private static Duration[] buckets(double... seconds) {
        Duration[] out = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) out[i] = Duration.ofNanos(Math.round(seconds[i] * 1e9));
        return out;
    }
}

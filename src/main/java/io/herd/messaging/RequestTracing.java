package io.herd.messaging;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.herd.serving.StreamEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Continues a request's W3C trace context (the {@code traceparent} record header) into a "herd.request" span with
 * children "herd.queue", "herd.prefill" and "herd.decode", and hands back the headers every response record carries.
 * The child spans are recorded when the request ends, from the timings the stream measured.
 */
@ApplicationScoped
public class RequestTracing {

    private static final TextMapGetter<Headers> KAFKA_HEADERS = new TextMapGetter<>() {
        @Override public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            for (Header h : headers) keys.add(h.key());
            return keys;
        }

        @Override public String get(Headers headers, String key) {
            if (headers == null) return null;
            Header h = headers.lastHeader(key);
            return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final Map<String, Span> spans = new ConcurrentHashMap<>();

    @Inject
    public RequestTracing(OpenTelemetry openTelemetry) {
        this.tracer = openTelemetry.getTracer("io.herd");
        this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
    }

    /** Starts the request span under the record's trace context; returns the headers for its response records. */
    public Map<String, String> begin(String requestId, int attempt, Headers headers, long receivedEpochNanos) {
        Context parent = propagator.extract(Context.root(), headers, KAFKA_HEADERS);
        Span span = tracer.spanBuilder("herd.request").setParent(parent).setSpanKind(SpanKind.CONSUMER)
                .setStartTimestamp(receivedEpochNanos, TimeUnit.NANOSECONDS)
                .setAttribute("herd.request.id", requestId).setAttribute("herd.request.attempt", attempt)
                .startSpan();
        Span previous = spans.put(key(requestId, attempt), span);
        if (previous != null) previous.end();
        Map<String, String> carrier = new LinkedHashMap<>();
        propagator.inject(parent.with(span), carrier, Map::put);
        return carrier;
    }

    /** Records the phase spans of a finished stream and ends its request span. */
    public void end(String requestId, int attempt, StreamEvent terminal) {
        Span span = spans.remove(key(requestId, attempt));
        if (span == null) return;
        Context ctx = Context.root().with(span);
        switch (terminal) {
            case StreamEvent.Done d -> {
                StreamEvent.Timings t = d.timings();
                long t0 = t.receivedEpochNanos();
                long firstToken = t.ttftNanos() > 0 ? t0 + t.ttftNanos() : t0 + t.e2eNanos();
                phase(ctx, "herd.queue", t0, t0 + t.queueNanos());
                phase(ctx, "herd.prefill", t0 + t.queueNanos(), firstToken);
                phase(ctx, "herd.decode", firstToken, t0 + t.e2eNanos());
                span.setAttribute("herd.finish_reason", d.finishReason());
                span.setAttribute("herd.usage.prompt_tokens", d.usage().promptTokens());
                span.setAttribute("herd.usage.completion_tokens", d.usage().completionTokens());
                span.end(t0 + t.e2eNanos(), TimeUnit.NANOSECONDS);
            }
            case StreamEvent.Error e -> {
                span.setStatus(StatusCode.ERROR, e.code() + ": " + e.message());
                span.end();
            }
            default -> span.end();
        }
    }

    /** Ends the span of a stream dropped without a terminal event. */
    public void abandon(String requestId, int attempt) {
        Span span = spans.remove(key(requestId, attempt));
        if (span != null) {
            span.setAttribute("herd.abandoned", true);
            span.end();
        }
    }

    private void phase(Context parent, String name, long startEpochNanos, long endEpochNanos) {
        tracer.spanBuilder(name).setParent(parent).setStartTimestamp(startEpochNanos, TimeUnit.NANOSECONDS)
                .startSpan().end(Math.max(startEpochNanos, endEpochNanos), TimeUnit.NANOSECONDS);
    }

    private static String key(String id, int attempt) { return attempt + "/" + id; }
}

package io.herd.deploy;

import java.util.List;

/**
 * The Prometheus names of Herd's own metrics, as Micrometer's Prometheus registry writes them at {@code /q/metrics}.
 * The Grafana dashboard (k8s/base/grafana/herd-dashboard.json) may use only these, and the service must register them
 * under the Micrometer names given here: dots become underscores, a timer in seconds gains {@code _seconds} and, with
 * percentile histograms on, {@code _bucket}/{@code _sum}/{@code _count}; a counter gains {@code _total}.
 */
final class HerdMetricNames {

    /** A metric as the dashboard queries it and as the code registers it. */
    record Metric(String prometheusName, String micrometerName, String type, String meaning) {
    }

    static final List<Metric> ALL = List.of(
            new Metric("herd_time_to_first_token_seconds", "herd.time.to.first.token", "timer (histogram)",
                    "request record received to first token chunk produced"),
            new Metric("herd_inter_token_latency_seconds", "herd.inter.token.latency", "timer (histogram)",
                    "time between two consecutive tokens of one stream"),
            new Metric("herd_e2e_request_latency_seconds", "herd.e2e.request.latency", "timer (histogram)",
                    "request record received to finish event produced"),
            new Metric("herd_prompt_tokens_total", "herd.prompt.tokens", "counter", "prompt tokens prefilled"),
            new Metric("herd_generation_tokens_total", "herd.generation.tokens", "counter", "tokens generated"),
            new Metric("herd_requests_running", "herd.requests.running", "gauge", "requests scheduled in the running batch"),
            new Metric("herd_requests_waiting", "herd.requests.waiting", "gauge", "requests admitted but waiting for KV blocks"),
            new Metric("herd_kv_cache_usage_ratio", "herd.kv.cache.usage.ratio", "gauge", "used KV blocks / all KV blocks, 0..1"),
            new Metric("herd_prefix_cache_queries_total", "herd.prefix.cache.queries", "counter", "prompt blocks looked up"),
            new Metric("herd_prefix_cache_hits_total", "herd.prefix.cache.hits", "counter", "prompt blocks found cached"),
            new Metric("herd_kafka_records_in_total", "herd.kafka.records.in", "counter", "request records consumed"),
            new Metric("herd_kafka_records_out_total", "herd.kafka.records.out", "counter", "response records produced"),
            new Metric("herd_dlq_records_total", "herd.dlq.records", "counter", "records sent to the dead-letter topic"));

    /** Metrics from other components the dashboard may use: KEDA's operator and kube-state-metrics. */
    static final List<String> EXTERNAL = List.of("keda_scaler_metrics_value", "kube_horizontalpodautoscaler_status_desired_replicas",
            "kube_deployment_status_replicas_ready");

    private HerdMetricNames() {
    }
}

package io.herd.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class GrafanaDashboardTest {

    /** Metric-like identifiers in PromQL: names start with herd_, keda_ or kube_. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:herd|keda|kube)_[a-z0-9_]+)");

    private final JsonNode dashboard = read();

    private static JsonNode read() {
        try {
            return new ObjectMapper().readTree(ProjectFiles.resolve("k8s/base/grafana/herd-dashboard.json").toFile());
        } catch (IOException e) {
            throw new AssertionError("dashboard JSON does not parse", e);
        }
    }

    @Test
    void everyQueriedMetricIsOneTheServiceOrTheClusterExposes() {
        Set<String> known = new HashSet<>(HerdMetricNames.EXTERNAL);
        for (HerdMetricNames.Metric metric : HerdMetricNames.ALL) {
            known.add(metric.prometheusName());
            if (metric.type().startsWith("timer")) {
                known.add(metric.prometheusName() + "_bucket");
                known.add(metric.prometheusName() + "_sum");
                known.add(metric.prometheusName() + "_count");
            }
        }
        List<String> expressions = expressions();
        assertThat(expressions).isNotEmpty();
        for (String expression : expressions) {
            Matcher m = METRIC.matcher(expression);
            while (m.find()) {
                assertThat(known).as("metric %s in query %s", m.group(1), expression).contains(m.group(1));
            }
        }
    }

    @Test
    void dashboardShowsLatencyThroughputCacheLagAndReplicas() {
        String all = String.join("\n", expressions());
        assertThat(all).contains("herd_time_to_first_token_seconds_bucket", "herd_inter_token_latency_seconds_bucket",
                "herd_generation_tokens_total", "herd_kv_cache_usage_ratio", "herd_prefix_cache_hits_total",
                "herd_prefix_cache_queries_total", "keda_scaler_metrics_value", "kube_deployment_status_replicas_ready");
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : dashboard.path("panels")) {
            assertThat(ids.add(panel.path("id").asInt())).as("panel ids are unique").isTrue();
            assertThat(panel.path("title").asText()).isNotBlank();
        }
        assertThat(dashboard.path("uid").asText()).isEqualTo("herd-inference");
    }

    private List<String> expressions() {
        List<String> expressions = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                expressions.add(target.path("expr").asText());
            }
        }
        return expressions;
    }
}

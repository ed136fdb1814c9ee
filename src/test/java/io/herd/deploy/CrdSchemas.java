package io.herd.deploy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Field whitelists for the custom resources Herd ships (KEDA, Prometheus Operator, Strimzi), written from their CRD
 * reference docs. No model classes exist for them on this build's classpath, so a misspelt field (which the API server
 * would drop or reject only at apply time) is caught here instead: every field must be listed and have the listed type.
 */
final class CrdSchemas {

    /** A node of the whitelist. */
    sealed interface Shape permits Obj, ListOf, MapOf, Scalar {
    }

    /** A mapping with exactly these optional fields, of which {@code required} must be present. */
    record Obj(Map<String, Shape> fields, Set<String> required) implements Shape {
        Obj require(String... names) {
            return new Obj(fields, Set.of(names));
        }
    }

    record ListOf(Shape element) implements Shape {
    }

    /** A mapping with free keys (labels, Kafka config, trigger metadata). */
    record MapOf(Shape value) implements Shape {
    }

    enum Scalar implements Shape { STRING, INT, BOOL }

    private static final Shape STR = Scalar.STRING;
    private static final Shape INT = Scalar.INT;
    private static final Shape BOOL = Scalar.BOOL;

    private static final Shape METADATA = obj("name", STR, "namespace", STR, "labels", new MapOf(STR),
            "annotations", new MapOf(STR)).require("name");

    private static final Shape LABEL_SELECTOR = obj("matchLabels", new MapOf(STR), "matchExpressions",
            new ListOf(obj("key", STR, "operator", STR, "values", new ListOf(STR)).require("key", "operator")));

    private static final Shape HPA_RULES = obj("stabilizationWindowSeconds", INT, "selectPolicy", STR, "policies",
            new ListOf(obj("type", STR, "value", INT, "periodSeconds", INT).require("type", "value", "periodSeconds")));

    /** keda.sh/v1alpha1 ScaledObject, KEDA 2.17 reference ("ScaledObject specification"). */
    private static final Shape SCALED_OBJECT_SPEC = obj(
            "scaleTargetRef", obj("apiVersion", STR, "kind", STR, "name", STR, "envSourceContainerName", STR).require("name"),
            "pollingInterval", INT, "cooldownPeriod", INT, "initialCooldownPeriod", INT, "idleReplicaCount", INT,
            "minReplicaCount", INT, "maxReplicaCount", INT,
            "fallback", obj("failureThreshold", INT, "replicas", INT, "behavior", STR).require("failureThreshold", "replicas"),
            "advanced", obj("restoreToOriginalReplicaCount", BOOL,
                    "horizontalPodAutoscalerConfig", obj("name", STR, "behavior", obj("scaleUp", HPA_RULES, "scaleDown", HPA_RULES))),
            "triggers", new ListOf(obj("type", STR, "name", STR, "metadata", new MapOf(STR), "metricType", STR,
                    "useCachedMetrics", BOOL, "authenticationRef", obj("name", STR, "kind", STR).require("name"))
                    .require("type", "metadata"))).require("scaleTargetRef", "triggers");

    /** KEDA's Kafka scaler parameters (trigger metadata; every value is a string). */
    static final Set<String> KAFKA_TRIGGER_METADATA = Set.of("bootstrapServers", "bootstrapServersFromEnv", "consumerGroup",
            "consumerGroupFromEnv", "topic", "topicFromEnv", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
            "allowIdleConsumers", "scaleToZeroOnInvalidOffset", "excludePersistentLag", "limitToPartitionsWithLag",
            "ensureEvenDistributionOfPartitions", "partitionLimitation", "version", "sasl", "tls", "unsafeSsl");

    /** KEDA's Kafka scaler parameters that a TriggerAuthentication may supply. */
    static final Set<String> KAFKA_AUTH_PARAMETERS = Set.of("sasl", "username", "password", "tls", "ca", "cert", "key",
            "keyPassword", "awsRegion");

    private static final Shape TRIGGER_AUTHENTICATION_SPEC = obj(
            "secretTargetRef", new ListOf(obj("parameter", STR, "name", STR, "key", STR).require("parameter", "name", "key")),
            "env", new ListOf(obj("parameter", STR, "name", STR, "containerName", STR).require("parameter", "name")),
            "podIdentity", obj("provider", STR, "identityOwner", STR, "roleArn", STR));

    /** monitoring.coreos.com/v1 ServiceMonitor, Prometheus Operator API reference. */
    private static final Shape SERVICE_MONITOR_SPEC = obj(
            "jobLabel", STR, "targetLabels", new ListOf(STR), "podTargetLabels", new ListOf(STR),
            "selector", LABEL_SELECTOR,
            "namespaceSelector", obj("any", BOOL, "matchNames", new ListOf(STR)),
            "endpoints", new ListOf(obj("port", STR, "path", STR, "scheme", STR, "interval", STR, "scrapeTimeout", STR,
                    "honorLabels", BOOL, "metricRelabelings", new ListOf(new MapOf(STR)), "relabelings", new ListOf(new MapOf(STR)))))
            .require("selector", "endpoints");

    /** kafka.strimzi.io/v1beta2 KafkaTopic, Strimzi API reference. */
    private static final Shape KAFKA_TOPIC_SPEC = obj("topicName", STR, "partitions", INT, "replicas", INT,
            "config", new MapOf(STR)).require("partitions", "replicas");

    private static final Map<String, Shape> BY_API_AND_KIND = Map.of(
            "keda.sh/v1alpha1/ScaledObject", resource(SCALED_OBJECT_SPEC),
            "keda.sh/v1alpha1/TriggerAuthentication", resource(TRIGGER_AUTHENTICATION_SPEC),
            "monitoring.coreos.com/v1/ServiceMonitor", resource(SERVICE_MONITOR_SPEC),
            "kafka.strimzi.io/v1beta2/KafkaTopic", resource(KAFKA_TOPIC_SPEC));

    private CrdSchemas() {
    }

    static boolean covers(String apiVersion, String kind) {
        return BY_API_AND_KIND.containsKey(apiVersion + "/" + kind);
    }

    /** Throws {@link AssertionError} naming the first field outside the whitelist or of the wrong type. */
    static void check(Map<String, Object> resource) {
        String key = resource.get("apiVersion") + "/" + resource.get("kind");
        Shape shape = BY_API_AND_KIND.get(key);
        if (shape == null) {
            throw new AssertionError("no schema for custom resource " + key);
        }
        String where = resource.get("kind") + "/" + Yaml.at(resource, "metadata.name");
        check(shape, resource, where);
        if (resource.get("kind").equals("ScaledObject")) {
            for (Object trigger : Yaml.asList(Yaml.at(resource, "spec.triggers"), where + " triggers")) {
                Map<String, Object> t = Yaml.asMap(trigger, where + " trigger");
                if ("kafka".equals(t.get("type"))) {
                    checkKeys(Yaml.asMap(t.get("metadata"), "metadata").keySet(), KAFKA_TRIGGER_METADATA, where + " kafka trigger metadata");
                }
            }
        }
        if (resource.get("kind").equals("TriggerAuthentication")) {
            Object refs = Yaml.at(resource, "spec.secretTargetRef");
            if (refs != null) {
                for (Object ref : Yaml.asList(refs, where)) {
                    checkKeys(Set.of((String) Yaml.asMap(ref, where).get("parameter")), KAFKA_AUTH_PARAMETERS, where + " parameter");
                }
            }
        }
    }

    private static void checkKeys(Set<String> keys, Set<String> allowed, String where) {
        for (String k : keys) {
            if (!allowed.contains(k)) {
                throw new AssertionError(where + ": unknown key '" + k + "', allowed: " + allowed);
            }
        }
    }

    private static void check(Shape shape, Object value, String path) {
        switch (shape) {
            case Scalar scalar -> {
                boolean ok = switch (scalar) {
                    case STRING -> value instanceof String;
                    case INT -> value instanceof Integer || value instanceof Long;
                    case BOOL -> value instanceof Boolean;
                };
                if (!ok) {
                    throw new AssertionError(path + ": expected " + scalar + ", got " + describe(value));
                }
            }
            case ListOf list -> {
                if (!(value instanceof List<?> items)) {
                    throw new AssertionError(path + ": expected a list, got " + describe(value));
                }
                for (int i = 0; i < items.size(); i++) {
                    check(list.element(), items.get(i), path + "[" + i + "]");
                }
            }
            case MapOf map -> {
                if (!(value instanceof Map<?, ?> entries)) {
                    throw new AssertionError(path + ": expected a mapping, got " + describe(value));
                }
                entries.forEach((k, v) -> check(map.value(), v, path + "." + k));
            }
            case Obj obj -> {
                if (!(value instanceof Map<?, ?> entries)) {
                    throw new AssertionError(path + ": expected an object, got " + describe(value));
                }
                for (String required : obj.required()) {
                    if (!entries.containsKey(required)) {
                        throw new AssertionError(path + ": required field '" + required + "' is missing");
                    }
                }
                entries.forEach((k, v) -> {
                    Shape field = obj.fields().get(String.valueOf(k));
                    if (field == null) {
                        throw new AssertionError(path + ": unknown field '" + k + "', allowed: " + obj.fields().keySet());
                    }
                    check(field, v, path + "." + k);
                });
            }
        }
    }

    private static String describe(Object value) {
        return value == null ? "null" : value.getClass().getSimpleName() + " " + value;
    }

    private static Shape resource(Shape spec) {
        return obj("apiVersion", STR, "kind", STR, "metadata", METADATA, "spec", spec).require("apiVersion", "kind", "metadata", "spec");
    }

    /** An {@link Obj} from name/shape pairs, all optional until {@link Obj#require} names the required ones. */
    private static Obj obj(Object... namesAndShapes) {
        Map<String, Shape> fields = new LinkedHashMap<>();
        for (int i = 0; i < namesAndShapes.length; i += 2) {
            fields.put((String) namesAndShapes[i], (Shape) namesAndShapes[i + 1]);
        }
        return new Obj(Map.copyOf(fields), Set.of());
    }
}

package io.herd.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;

/**
 * Parses rendered objects as fabric8 Kubernetes model classes and rejects any field the class does not declare.
 * fabric8 models keep unknown fields in {@code additionalProperties} instead of failing, so besides
 * FAIL_ON_UNKNOWN_PROPERTIES the whole parsed tree is walked and every non-empty {@code additionalProperties} is an error.
 */
final class KubernetesTypes {

    private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private static final Map<String, Class<? extends HasMetadata>> BY_API_AND_KIND = Map.of(
            "v1/Namespace", Namespace.class,
            "v1/ServiceAccount", ServiceAccount.class,
            "v1/ConfigMap", ConfigMap.class,
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "v1/PersistentVolumeClaim", PersistentVolumeClaim.class,
            "apps/v1/Deployment", Deployment.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
            "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

    private KubernetesTypes() {
    }

    static boolean covers(String apiVersion, String kind) {
        return BY_API_AND_KIND.containsKey(apiVersion + "/" + kind);
    }

    static <T extends HasMetadata> T parse(Map<String, Object> resource, Class<T> type) {
        T parsed = STRICT.convertValue(resource, type);
        requireNoUnknownFields(parsed, resource.get("kind") + "/" + Yaml.at(resource, "metadata.name"));
        return parsed;
    }

    /** Parses with the model class registered for the object's apiVersion and kind. */
    static HasMetadata parse(Map<String, Object> resource) {
        Class<? extends HasMetadata> type = BY_API_AND_KIND.get(resource.get("apiVersion") + "/" + resource.get("kind"));
        if (type == null) {
            throw new AssertionError("no model class for " + resource.get("apiVersion") + " " + resource.get("kind"));
        }
        return parse(resource, type);
    }

    private static void requireNoUnknownFields(Object node, String path) {
        if (node == null) {
            return;
        }
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                requireNoUnknownFields(list.get(i), path + "[" + i + "]");
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> requireNoUnknownFields(v, path + "." + k));
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + path + "." + getter.getName(), e);
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    throw new AssertionError(path + ": unknown field(s) " + extra.keySet() + " for " + node.getClass().getSimpleName());
                }
            } else {
                requireNoUnknownFields(value, path + "." + propertyName(getter));
            }
        }
    }

    private static String propertyName(Method getter) {
        String name = getter.getName().substring(3);
        return name.isEmpty() ? name : Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }
}

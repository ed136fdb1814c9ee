package io.herd.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Kubernetes strategic merge patch for the list fields Herd's overlays patch, and JSON merge patch (RFC 7386) for
 * custom resources, whose lists are always replaced. A null value in the patch deletes the field.
 */
final class StrategicMerge {

    private StrategicMerge() {
    }

    static void merge(Map<String, Object> target, Map<String, Object> patch, String path, boolean strategic) {
        for (Map.Entry<String, Object> entry : patch.entrySet()) {
            String key = entry.getKey();
            Object value = entry.getValue();
            String here = path + "/" + key;
            if (key.startsWith("$")) {
                throw new IllegalArgumentException("patch directive " + here + " is not supported by the test renderer");
            }
            if (value == null) {
                target.remove(key);
            } else if (value instanceof Map<?, ?> && target.get(key) instanceof Map<?, ?>) {
                merge(Yaml.asMap(target.get(key), here), Yaml.asMap(value, here), here, strategic);
            } else if (strategic && value instanceof List<?> && target.get(key) instanceof List<?>) {
                target.put(key, mergeList(Yaml.asList(target.get(key), here), Yaml.asList(value, here), here));
            } else {
                target.put(key, stripNulls(value));
            }
        }
    }

    /** Merge key of a list field, or null when Kubernetes replaces the list (tolerations, envFrom, args, ...). */
    private static String mergeKey(String path, List<Object> items) {
        String field = path.substring(path.lastIndexOf('/') + 1);
        return switch (field) {
            case "containers", "initContainers", "env", "volumes", "imagePullSecrets" -> "name";
            case "volumeMounts" -> "mountPath";
            case "ports" -> items.stream().anyMatch(i -> i instanceof Map<?, ?> m && m.containsKey("containerPort")) ? "containerPort" : "port";
            default -> null;
        };
    }

    /** Patch items first (merged into their originals), then the originals the patch did not name, as kustomize orders them. */
    private static List<Object> mergeList(List<Object> original, List<Object> patch, String path) {
        String key = mergeKey(path, original);
        if (key == null) {
            return new ArrayList<>(patch.stream().map(StrategicMerge::stripNulls).toList());
        }
        List<Object> result = new ArrayList<>();
        List<Object> remaining = new ArrayList<>(original);
        for (Object item : patch) {
            Map<String, Object> patchItem = Yaml.asMap(item, path);
            Object keyValue = patchItem.get(key);
            Map<String, Object> match = remaining.stream().map(o -> Yaml.asMap(o, path))
                    .filter(o -> keyValue != null && keyValue.equals(o.get(key))).findFirst().orElse(null);
            if (match != null) {
                remaining.remove(match);
                merge(match, patchItem, path + "[" + keyValue + "]", true);
                result.add(match);
            } else {
                result.add(stripNulls(patchItem));
            }
        }
        result.addAll(remaining);
        return result;
    }

    private static Object stripNulls(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = Yaml.asMap(Yaml.deepCopy(map), "value");
            copy.values().removeIf(v -> v == null);
            copy.replaceAll((k, v) -> stripNulls(v));
            return copy;
        }
        if (value instanceof List<?> list) {
            return new ArrayList<>(list.stream().map(StrategicMerge::stripNulls).toList());
        }
        return value;
    }
}

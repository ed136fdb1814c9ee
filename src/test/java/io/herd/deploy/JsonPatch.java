package io.herd.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** JSON Patch (RFC 6902) operations add, replace and remove on a YAML tree of maps and lists. */
final class JsonPatch {

    private JsonPatch() {
    }

    static void apply(Map<String, Object> document, Map<String, Object> operation) {
        String op = (String) operation.get("op");
        String path = (String) operation.get("path");
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("JSON patch path must start with '/': " + operation);
        }
        List<String> tokens = new ArrayList<>();
        for (String token : path.substring(1).split("/", -1)) {
            tokens.add(token.replace("~1", "/").replace("~0", "~"));
        }
        Object parent = document;
        for (String token : tokens.subList(0, tokens.size() - 1)) {
            parent = step(parent, token, path);
        }
        String last = tokens.getLast();
        Object value = Yaml.deepCopy(operation.get("value"));
        switch (op) {
            case "add" -> {
                if (parent instanceof List<?>) {
                    List<Object> list = Yaml.asList(parent, path);
                    list.add(last.equals("-") ? list.size() : index(last, list.size() + 1, path), value);
                } else {
                    Yaml.asMap(parent, path).put(last, value);
                }
            }
            case "replace" -> {
                if (parent instanceof List<?>) {
                    List<Object> list = Yaml.asList(parent, path);
                    list.set(index(last, list.size(), path), value);
                } else {
                    Map<String, Object> map = Yaml.asMap(parent, path);
                    if (!map.containsKey(last)) {
                        throw new IllegalArgumentException("JSON patch replace of missing path " + path);
                    }
                    map.put(last, value);
                }
            }
            case "remove" -> {
                if (parent instanceof List<?>) {
                    List<Object> list = Yaml.asList(parent, path);
                    list.remove(index(last, list.size(), path));
                } else if (Yaml.asMap(parent, path).remove(last) == null) {
                    throw new IllegalArgumentException("JSON patch remove of missing path " + path);
                }
            }
            default -> throw new IllegalArgumentException("JSON patch op '" + op + "' is not supported by the test renderer");
        }
    }

    private static Object step(Object node, String token, String path) {
        Object next = node instanceof List<?> list ? list.get(index(token, list.size(), path)) : Yaml.asMap(node, path).get(token);
        if (next == null) {
            throw new IllegalArgumentException("JSON patch path " + path + " does not exist at '" + token + "'");
        }
        return next;
    }

    private static int index(String token, int bound, String path) {
        int index = Integer.parseInt(token);
        if (index < 0 || index >= bound) {
            throw new IllegalArgumentException("JSON patch index " + index + " out of range in " + path);
        }
        return index;
    }
}

package io.herd.deploy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The Kustomize overlays of {@code k8s/overlays}, rendered once per test run with {@link KustomizeRenderer}. */
final class Overlays {

    static final List<String> NAMES = List.of("cpu-dev", "gpu-prod", "scale-to-zero");

    private static final Map<String, List<Map<String, Object>>> RENDERED = new ConcurrentHashMap<>();

    private Overlays() {
    }

    static Path dir(String overlay) {
        return ProjectFiles.resolve("k8s/overlays/" + overlay);
    }

    /** The rendered objects; callers get deep copies so a test cannot change another's view. */
    static List<Map<String, Object>> render(String overlay) {
        List<Map<String, Object>> objects = RENDERED.computeIfAbsent(overlay, o -> KustomizeRenderer.render(dir(o)));
        return objects.stream().map(Yaml::deepCopy).toList();
    }

    static Map<String, Object> find(List<Map<String, Object>> objects, String kind, String name) {
        return objects.stream().filter(o -> kind.equals(o.get("kind")) && name.equals(Yaml.at(o, "metadata.name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " in the rendering"));
    }
}

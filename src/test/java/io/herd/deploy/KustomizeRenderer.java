package io.herd.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders a Kustomize directory in plain Java, for the features Herd's {@code k8s/} tree uses, so the overlays are
 * rendered and checked on every build even where no {@code kubectl}/{@code kustomize} binary exists. Where one exists,
 * {@link KustomizeRenderTest} renders with both and requires the same objects, which keeps this class honest.
 *
 * <p>Supported: {@code resources} (files and directories), {@code namespace}, {@code labels} (metadata only),
 * {@code images}, {@code configMapGenerator} (files and literals, without name hash), {@code patches} (strategic merge
 * for built-in kinds, JSON merge for custom resources, JSON 6902 op lists, {@code $patch: delete}). Anything else is
 * rejected with the name of the field, never ignored.
 */
final class KustomizeRenderer {

    private static final Set<String> SUPPORTED_FIELDS = Set.of("apiVersion", "kind", "resources", "namespace", "labels",
            "images", "patches", "configMapGenerator");

    /** Kinds without a namespace that this tree may contain. */
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding",
            "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass");

    /** Kinds whose patches use Kubernetes' strategic merge (with merge keys); custom resources get JSON merge patch. */
    private static final Set<String> BUILT_IN_API_VERSIONS = Set.of("v1", "apps/v1", "policy/v1", "networking.k8s.io/v1", "batch/v1");

    private KustomizeRenderer() {
    }

    /** All objects of the kustomization in {@code dir}, sorted by {@link #id}. */
    static List<Map<String, Object>> render(Path dir) {
        List<Map<String, Object>> out = new ArrayList<>(build(dir.toAbsolutePath().normalize()));
        out.sort(Comparator.comparing(KustomizeRenderer::id));
        return out;
    }

    /** {@code apiVersion/kind/namespace/name}, unique within one rendering. */
    static String id(Map<String, Object> resource) {
        return resource.get("apiVersion") + "/" + resource.get("kind") + "/" + Yaml.at(resource, "metadata.namespace") + "/"
                + Yaml.at(resource, "metadata.name");
    }

    private static List<Map<String, Object>> build(Path dir) {
        Path file = dir.resolve("kustomization.yaml");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(dir + ": no kustomization.yaml");
        }
        Map<String, Object> kustomization = Yaml.readOne(ProjectFiles.read(file), file.toString());
        for (String field : kustomization.keySet()) {
            if (!SUPPORTED_FIELDS.contains(field)) {
                throw new IllegalArgumentException(file + ": field '" + field + "' is not supported by the test renderer");
            }
        }
        List<Map<String, Object>> resources = new ArrayList<>();
        for (Object entry : list(kustomization, "resources", file)) {
            Path path = dir.resolve((String) entry).normalize();
            if (Files.isDirectory(path)) {
                resources.addAll(build(path));
            } else {
                resources.addAll(Yaml.readAll(ProjectFiles.read(path)));
            }
        }
        for (Object generator : list(kustomization, "configMapGenerator", file)) {
            resources.add(configMap(dir, Yaml.asMap(generator, file + " configMapGenerator")));
        }
        String namespace = (String) kustomization.get("namespace");
        if (namespace != null) {
            for (Map<String, Object> resource : resources) {
                if (!CLUSTER_SCOPED.contains((String) resource.get("kind"))) {
                    Yaml.child(resource, "metadata").put("namespace", namespace);
                }
            }
        }
        for (Object patch : list(kustomization, "patches", file)) {
            applyPatch(dir, Yaml.asMap(patch, file + " patches"), resources);
        }
        for (Object label : list(kustomization, "labels", file)) {
            Map<String, Object> spec = Yaml.asMap(label, file + " labels");
            if (Boolean.TRUE.equals(spec.get("includeSelectors")) || Boolean.TRUE.equals(spec.get("includeTemplates"))) {
                throw new IllegalArgumentException(file + ": labels with includeSelectors/includeTemplates are not supported");
            }
            Map<String, Object> pairs = Yaml.asMap(spec.get("pairs"), file + " labels.pairs");
            for (Map<String, Object> resource : resources) {
                Yaml.child(Yaml.child(resource, "metadata"), "labels").putAll(pairs);
            }
        }
        for (Object image : list(kustomization, "images", file)) {
            Map<String, Object> spec = Yaml.asMap(image, file + " images");
            for (Map<String, Object> resource : resources) {
                setImage(resource, spec);
            }
        }
        return resources;
    }

    private static List<Object> list(Map<String, Object> kustomization, String field, Path file) {
        Object value = kustomization.get(field);
        return value == null ? List.of() : Yaml.asList(value, file + " " + field);
    }

    private static Map<String, Object> configMap(Path dir, Map<String, Object> generator) {
        Map<String, Object> options = generator.containsKey("options") ? Yaml.asMap(generator.get("options"), "options") : Map.of();
        if (!Boolean.TRUE.equals(options.get("disableNameSuffixHash"))) {
            throw new IllegalArgumentException(dir + ": configMapGenerator " + generator.get("name")
                    + " needs options.disableNameSuffixHash: true (name hashes are not supported by the test renderer)");
        }
        if (generator.containsKey("behavior") || generator.containsKey("envs")) {
            throw new IllegalArgumentException(dir + ": configMapGenerator behavior/envs are not supported by the test renderer");
        }
        Map<String, Object> data = new LinkedHashMap<>();
        for (Object entry : generator.containsKey("files") ? Yaml.asList(generator.get("files"), "files") : List.of()) {
            String spec = (String) entry;
            int eq = spec.indexOf('=');
            String path = eq < 0 ? spec : spec.substring(eq + 1);
            String key = eq < 0 ? Path.of(path).getFileName().toString() : spec.substring(0, eq);
            data.put(key, ProjectFiles.read(dir.resolve(path)));
        }
        for (Object entry : generator.containsKey("literals") ? Yaml.asList(generator.get("literals"), "literals") : List.of()) {
            String literal = (String) entry;
            data.put(literal.substring(0, literal.indexOf('=')), literal.substring(literal.indexOf('=') + 1));
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", generator.get("name"));
        if (options.containsKey("labels")) {
            metadata.put("labels", new LinkedHashMap<>(Yaml.asMap(options.get("labels"), "options.labels")));
        }
        if (options.containsKey("annotations")) {
            metadata.put("annotations", new LinkedHashMap<>(Yaml.asMap(options.get("annotations"), "options.annotations")));
        }
        Map<String, Object> configMap = new LinkedHashMap<>();
        configMap.put("apiVersion", "v1");
        configMap.put("kind", "ConfigMap");
        configMap.put("metadata", metadata);
        configMap.put("data", data);
        return configMap;
    }

    private static void applyPatch(Path dir, Map<String, Object> entry, List<Map<String, Object>> resources) {
        String text = entry.containsKey("path") ? ProjectFiles.read(dir.resolve((String) entry.get("path"))) : (String) entry.get("patch");
        if (text == null) {
            throw new IllegalArgumentException(dir + ": a patch needs 'path' or 'patch'");
        }
        Object parsed = Yaml.readAny(text);
        Map<String, Object> target = entry.containsKey("target") ? Yaml.asMap(entry.get("target"), "target") : null;
        if (parsed instanceof List<?> operations) {
            if (target == null) {
                throw new IllegalArgumentException(dir + ": a JSON 6902 patch needs a target");
            }
            List<Map<String, Object>> matched = resources.stream().filter(r -> matches(r, target)).toList();
            requireMatch(dir, entry, matched);
            for (Map<String, Object> resource : matched) {
                for (Object op : operations) {
                    JsonPatch.apply(resource, Yaml.asMap(op, dir + " patch operation"));
                }
            }
            return;
        }
        Map<String, Object> patch = Yaml.asMap(parsed, dir + " patch");
        Map<String, Object> selector = target != null ? target : selectorOf(patch);
        List<Map<String, Object>> matched = resources.stream().filter(r -> matches(r, selector)).toList();
        requireMatch(dir, entry, matched);
        for (Map<String, Object> resource : matched) {
            if ("delete".equals(patch.get("$patch"))) {
                resources.remove(resource);
            } else {
                boolean strategic = BUILT_IN_API_VERSIONS.contains((String) resource.get("apiVersion"));
                Map<String, Object> body = new LinkedHashMap<>(patch);
                if (target == null) {
                    body.remove("apiVersion");
                    body.remove("kind");
                }
                StrategicMerge.merge(resource, Yaml.deepCopy(body), "", strategic);
            }
        }
    }

    private static void requireMatch(Path dir, Map<String, Object> entry, List<Map<String, Object>> matched) {
        if (matched.isEmpty()) {
            throw new IllegalArgumentException(dir + ": patch " + entry.getOrDefault("path", entry.get("target")) + " matches no resource");
        }
    }

    private static Map<String, Object> selectorOf(Map<String, Object> patch) {
        Map<String, Object> selector = new LinkedHashMap<>();
        String apiVersion = (String) patch.get("apiVersion");
        selector.put("group", apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "");
        selector.put("kind", patch.get("kind"));
        selector.put("name", Yaml.at(patch, "metadata.name"));
        if (Yaml.at(patch, "metadata.namespace") != null) {
            selector.put("namespace", Yaml.at(patch, "metadata.namespace"));
        }
        return selector;
    }

    private static boolean matches(Map<String, Object> resource, Map<String, Object> target) {
        String apiVersion = (String) resource.get("apiVersion");
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        return equalsIfSet(target.get("group"), group) && equalsIfSet(target.get("version"), version)
                && equalsIfSet(target.get("kind"), resource.get("kind"))
                && equalsIfSet(target.get("name"), Yaml.at(resource, "metadata.name"))
                && equalsIfSet(target.get("namespace"), Yaml.at(resource, "metadata.namespace"));
    }

    private static boolean equalsIfSet(Object wanted, Object actual) {
        return wanted == null || wanted.equals(actual);
    }

    private static void setImage(Map<String, Object> resource, Map<String, Object> spec) {
        Object podSpec = Yaml.at(resource, "spec.template.spec");
        if (podSpec == null) {
            return;
        }
        for (String field : List.of("initContainers", "containers")) {
            Object containers = Yaml.asMap(podSpec, "pod spec").get(field);
            if (containers == null) {
                continue;
            }
            for (Object c : Yaml.asList(containers, field)) {
                Map<String, Object> container = Yaml.asMap(c, field);
                String image = (String) container.get("image");
                String name = image.replaceAll("@.*$", "").replaceAll(":[^:/]*$", "");
                if (!name.equals(spec.get("name"))) {
                    continue;
                }
                String tag = image.substring(name.length());
                String newName = spec.containsKey("newName") ? (String) spec.get("newName") : name;
                if (spec.containsKey("digest")) {
                    tag = "@" + spec.get("digest");
                } else if (spec.containsKey("newTag")) {
                    tag = ":" + spec.get("newTag");
                }
                container.put("image", newName + tag);
            }
        }
    }
}

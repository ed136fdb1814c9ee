package io.herd.deploy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KustomizeRenderTest {

    static final List<String> OVERLAYS = Overlays.NAMES;

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyRenderedObjectParsesAsItsTypeWithNoUnknownField(String overlay) {
        List<Map<String, Object>> objects = Overlays.render(overlay);
        assertThat(objects).isNotEmpty();
        Set<String> ids = new HashSet<>();
        for (Map<String, Object> object : objects) {
            assertThat(ids.add(KustomizeRenderer.id(object))).as("duplicate object %s", KustomizeRenderer.id(object)).isTrue();
            String apiVersion = (String) object.get("apiVersion");
            String kind = (String) object.get("kind");
            if (KubernetesTypes.covers(apiVersion, kind)) {
                assertThat(KubernetesTypes.parse(object).getMetadata().getName()).isNotBlank();
            } else if (CrdSchemas.covers(apiVersion, kind)) {
                CrdSchemas.check(object);
            } else {
                throw new AssertionError(overlay + ": " + apiVersion + " " + kind + " has neither a model class nor a CRD schema");
            }
            if (!kind.equals("Namespace")) {
                assertThat(Yaml.at(object, "metadata.namespace")).as("namespace of %s", KustomizeRenderer.id(object)).isEqualTo("herd");
            }
            assertThat(Yaml.at(object, "metadata.labels.'app.kubernetes.io/part-of'")).as("part-of label of %s", KustomizeRenderer.id(object))
                    .isEqualTo("herd");
            assertThat(Yaml.at(object, "metadata.labels.'herd.io/overlay'")).as("overlay label of %s", KustomizeRenderer.id(object))
                    .isEqualTo(overlay);
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void javaRendererAgreesWithKustomize(String overlay) throws Exception {
        Optional<List<String>> command = kustomizeCommand();
        assumeTrue(command.isPresent(), "neither 'kubectl kustomize' nor 'kustomize' is installed; the overlays are still "
                + "rendered and checked with the Java renderer, only the cross-check is skipped");
        List<String> argv = new ArrayList<>(command.get());
        argv.add(Overlays.dir(overlay).toString());
        Path out = Files.createTempFile("kustomize-" + overlay, ".yaml");
        try {
            Process process = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("kustomize finished").isTrue();
            assertThat(process.exitValue()).as("%s exit code", argv).isZero();
            Map<String, Map<String, Object>> expected = byId(Yaml.readAll(Files.readString(out, StandardCharsets.UTF_8)));
            Map<String, Map<String, Object>> actual = byId(Overlays.render(overlay));
            assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
            for (String id : expected.keySet()) {
                assertThat(Yaml.write(actual.get(id))).as(id).isEqualTo(Yaml.write(expected.get(id)));
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static Map<String, Map<String, Object>> byId(List<Map<String, Object>> objects) {
        Map<String, Map<String, Object>> byId = new TreeMap<>();
        for (Map<String, Object> object : objects) {
            byId.put(KustomizeRenderer.id(object), sortedKeys(object));
        }
        return byId;
    }

    /** Same content with map keys sorted, so the YAML texts compare regardless of key order (list order still counts). */
    @SuppressWarnings("unchecked")
    private static <T> T sortedKeys(T node) {
        if (node instanceof Map<?, ?> map) {
            Map<String, Object> sorted = new TreeMap<>();
            map.forEach((k, v) -> sorted.put(String.valueOf(k), sortedKeys(v)));
            return (T) sorted;
        }
        if (node instanceof List<?> list) {
            return (T) list.stream().map(KustomizeRenderTest::sortedKeys).toList();
        }
        return node;
    }

    static Optional<List<String>> kustomizeCommand() {
        for (List<String> candidate : List.of(List.of("kustomize", "build"), List.of("kubectl", "kustomize"))) {
            if (onPath(candidate.getFirst())) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}

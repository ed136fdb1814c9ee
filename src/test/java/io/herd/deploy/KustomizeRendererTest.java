package io.herd.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The renderer's merge rules on small trees, so they are checked also where no kustomize binary is there to compare with. */
class KustomizeRendererTest {

    private static final String DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: app
            spec:
              template:
                spec:
                  containers:
                    - name: app
                      image: example/app:1
                      env:
                        - name: A
                          value: "1"
                        - name: B
                          value: "2"
                  tolerations:
                    - key: x
                      operator: Exists
                  volumes:
                    - name: data
                      persistentVolumeClaim:
                        claimName: data
            """;

    @Test
    void strategicMergeKeysListsByNameAndDeletesNulls(@TempDir Path dir) throws IOException {
        write(dir.resolve("base/deployment.yaml"), DEPLOYMENT);
        write(dir.resolve("base/kustomization.yaml"), "resources:\n  - deployment.yaml\nnamespace: ns\n");
        write(dir.resolve("overlay/patch.yaml"), """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: app
                  namespace: ns
                spec:
                  template:
                    spec:
                      containers:
                        - name: app
                          env:
                            - name: B
                              value: "20"
                            - name: C
                              value: "3"
                      tolerations:
                        - key: y
                          operator: Exists
                      volumes:
                        - name: data
                          persistentVolumeClaim: null
                          emptyDir: {}
                """);
        write(dir.resolve("overlay/kustomization.yaml"), """
                resources:
                  - ../base
                labels:
                  - pairs:
                      tier: test
                images:
                  - name: example/app
                    newTag: "2"
                patches:
                  - path: patch.yaml
                """);
        Map<String, Object> deployment = KustomizeRenderer.render(dir.resolve("overlay")).getFirst();
        assertThat(Yaml.at(deployment, "metadata.namespace")).isEqualTo("ns");
        assertThat(Yaml.at(deployment, "metadata.labels.tier")).isEqualTo("test");
        assertThat(Yaml.at(deployment, "spec.template.spec.containers.0.image")).isEqualTo("example/app:2");
        // Patch entries first (B merged, C new), then the original entries the patch did not name (A), as kustomize does.
        assertThat(Yaml.at(deployment, "spec.template.spec.containers.0.env")).isEqualTo(List.of(
                Map.of("name", "B", "value", "20"), Map.of("name", "C", "value", "3"), Map.of("name", "A", "value", "1")));
        // Tolerations have no merge key: the patch replaces the list.
        assertThat(Yaml.at(deployment, "spec.template.spec.tolerations")).isEqualTo(List.of(Map.of("key", "y", "operator", "Exists")));
        assertThat(Yaml.at(deployment, "spec.template.spec.volumes")).isEqualTo(List.of(Map.of("name", "data", "emptyDir", Map.of())));
    }

    @Test
    void jsonPatchesAndDeletePatchesApplyToTheirTargets(@TempDir Path dir) throws IOException {
        write(dir.resolve("deployment.yaml"), DEPLOYMENT + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n");
        write(dir.resolve("delete.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n$patch: delete\n");
        write(dir.resolve("kustomization.yaml"), """
                resources:
                  - deployment.yaml
                patches:
                  - path: delete.yaml
                  - target:
                      kind: Deployment
                      name: app
                    patch: |-
                      - op: replace
                        path: /spec/template/spec/containers/0/env/1/value
                        value: "22"
                      - op: add
                        path: /spec/template/spec/containers/0/env/-
                        value: {name: D, value: "4"}
                      - op: remove
                        path: /spec/template/spec/tolerations
                """);
        List<Map<String, Object>> objects = KustomizeRenderer.render(dir);
        assertThat(objects).extracting(o -> o.get("kind")).containsExactly("Deployment");
        Map<String, Object> deployment = objects.getFirst();
        assertThat(Yaml.at(deployment, "spec.template.spec.containers.0.env.1.value")).isEqualTo("22");
        assertThat(Yaml.at(deployment, "spec.template.spec.containers.0.env.2.name")).isEqualTo("D");
        assertThat(Yaml.at(deployment, "spec.template.spec.tolerations")).isNull();
    }

    @Test
    void unsupportedFieldsAndUnmatchedPatchesAreErrorsNotSilence(@TempDir Path dir) throws IOException {
        write(dir.resolve("deployment.yaml"), DEPLOYMENT);
        write(dir.resolve("kustomization.yaml"), "resources:\n  - deployment.yaml\nnamePrefix: x-\n");
        assertThatThrownBy(() -> KustomizeRenderer.render(dir)).hasMessageContaining("namePrefix");

        write(dir.resolve("kustomization.yaml"), """
                resources:
                  - deployment.yaml
                patches:
                  - target:
                      kind: Deployment
                      name: other
                    patch: |-
                      - op: remove
                        path: /spec
                """);
        assertThatThrownBy(() -> KustomizeRenderer.render(dir)).hasMessageContaining("matches no resource");

        write(dir.resolve("kustomization.yaml"), """
                resources:
                  - deployment.yaml
                patches:
                  - target:
                      kind: Deployment
                    patch: |-
                      - op: replace
                        path: /spec/replicas
                        value: 3
                """);
        assertThatThrownBy(() -> KustomizeRenderer.render(dir)).hasMessageContaining("replace of missing path /spec/replicas");
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }
}

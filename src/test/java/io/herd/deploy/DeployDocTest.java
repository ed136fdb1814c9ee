package io.herd.deploy;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/DEPLOY.md names things the manifests and Terraform define; this keeps the two from drifting apart. */
class DeployDocTest {

    private final String doc = ProjectFiles.read("docs/DEPLOY.md");

    @Test
    void everySecretKeyTheOverlaysReadIsCreatedByTheGuide() {
        Set<String> secretKeys = new LinkedHashSet<>();
        for (String overlay : Overlays.NAMES) {
            for (Map<String, Object> object : Overlays.render(overlay)) {
                collectSecretKeys(object, secretKeys);
            }
        }
        assertThat(secretKeys).isNotEmpty();
        for (String ref : secretKeys) {
            String[] nameAndKey = ref.split("/", 2);
            if (ref.startsWith("herd-kafka-tls/")) {
                // Optional in the Deployment (MSK's certificates are publicly trusted); the guide shows it commented out.
                assertThat(doc).contains("create secret generic " + nameAndKey[0])
                        .containsPattern("--from-(literal|file)=" + Pattern.quote(nameAndKey[1]) + "=");
                continue;
            }
            Matcher create = Pattern.compile("create secret generic " + Pattern.quote(nameAndKey[0]) + "((?:[^\\n]*\\\\\\n)*[^\\n]*)")
                    .matcher(doc);
            assertThat(create.find()).as("DEPLOY.md creates secret %s", nameAndKey[0]).isTrue();
            assertThat(create.group(1)).as("DEPLOY.md puts key %s into secret %s", nameAndKey[1], nameAndKey[0])
                    .containsPattern("--from-(literal|file)=" + Pattern.quote(nameAndKey[1]) + "=");
        }
    }

    @Test
    void pathsAndOutputsTheGuideUsesExist() {
        Matcher paths = Pattern.compile("(k8s/overlays/[a-z0-9-]+|kafka-topics/[a-z/.-]+\\.(?:sh|yaml)|src/main/docker/Dockerfile\\.[a-z]+"
                + "|infra-terraform/[a-z/-]+)").matcher(doc);
        int found = 0;
        while (paths.find()) {
            found++;
            assertThat(Files.exists(ProjectFiles.resolve(paths.group(1)))).as("DEPLOY.md names %s", paths.group(1)).isTrue();
        }
        assertThat(found).isGreaterThan(5);
        Set<String> outputs = Hcl.Module.read(ProjectFiles.resolve("infra-terraform/examples/aws")).outputs();
        Matcher used = Pattern.compile("terraform output -raw ([a-z_]+)").matcher(doc);
        while (used.find()) {
            assertThat(outputs).as("terraform output %s", used.group(1)).contains(used.group(1));
        }
        for (String topic : List.of("herd.requests", "herd.responses")) {
            assertThat(doc).contains("--topic " + topic);
        }
    }

    private static void collectSecretKeys(Object node, Set<String> keys) {
        if (node instanceof Map<?, ?> map) {
            Object ref = map.get("secretKeyRef");
            if (ref instanceof Map<?, ?> secret) {
                keys.add(secret.get("name") + "/" + secret.get("key"));
            }
            if (map.containsKey("parameter") && map.containsKey("name") && map.containsKey("key")) {
                keys.add(map.get("name") + "/" + map.get("key"));
            }
            map.values().forEach(v -> collectSecretKeys(v, keys));
        } else if (node instanceof List<?> list) {
            list.forEach(v -> collectSecretKeys(v, keys));
        }
    }
}

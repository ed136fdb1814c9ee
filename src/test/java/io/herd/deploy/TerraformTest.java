package io.herd.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TerraformTest {

    private static final Path ROOT = ProjectFiles.resolve("infra-terraform");
    private static final Set<String> MODULES = Set.of("eks-gpu", "addons", "msk", "model-storage", "gke-gpu");
    /** Arguments of a module block that are meta-arguments, not variables of the called module. */
    private static final Set<String> META_ARGUMENTS = Set.of("source", "version", "providers", "depends_on", "count", "for_each");

    static List<Path> moduleDirs() throws IOException {
        List<Path> dirs = new ArrayList<>();
        for (String parent : List.of("modules", "examples")) {
            try (Stream<Path> children = Files.list(ROOT.resolve(parent))) {
                children.filter(Files::isDirectory).sorted().forEach(dirs::add);
            }
        }
        return dirs;
    }

    @Test
    void everyPlannedModuleAndTheAwsExampleExist() throws IOException {
        assertThat(moduleDirs()).extracting(p -> ROOT.relativize(p).toString())
                .containsAll(MODULES.stream().map(m -> "modules/" + m).toList()).contains("examples/aws");
    }

    @Test
    void terraformFmtFindsNothingToChange() throws Exception {
        assumeTrue(KustomizeRenderTest.onPath("terraform"),
                "terraform is not installed, so 'terraform fmt -check -recursive' cannot run; the cross-reference checks still do");
        Process process = new ProcessBuilder("terraform", "fmt", "-check", "-recursive", "-diff", ROOT.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("terraform fmt -check -recursive:\n%s", output).isZero();
    }

    @ParameterizedTest
    @MethodSource("moduleDirs")
    void variablesAreDescribedDeclaredAndUsed(Path dir) {
        Hcl.Module module = Hcl.Module.read(dir);
        assertThat(module.text()).as("%s uses no heredoc (the HCL reader does not handle them)", dir).doesNotContain("<<");
        Map<String, Hcl.Block> variables = module.variables();
        for (Map.Entry<String, Hcl.Block> variable : variables.entrySet()) {
            Set<String> attributes = Hcl.attributes(variable.getValue().body());
            assertThat(attributes).as("%s: variable %s", dir.getFileName(), variable.getKey()).contains("description", "type");
        }
        Set<String> referenced = Hcl.variableReferences(module.text());
        assertThat(referenced).as("%s: var.x without a variable block", dir.getFileName()).isSubsetOf(variables.keySet());
        assertThat(variables.keySet()).as("%s: declared but never used", dir.getFileName()).isSubsetOf(referenced);
        assertThat(Hcl.localReferences(module.text())).as("%s: local.x without a locals entry", dir.getFileName())
                .isSubsetOf(module.locals());
        if (dir.getParent().getFileName().toString().equals("modules")) {
            assertThat(module.blocks("variable")).as("%s validates its inputs", dir.getFileName())
                    .anySatisfy(b -> assertThat(b.body()).contains("validation {"));
        }
    }

    @ParameterizedTest
    @MethodSource("moduleDirs")
    void referencesPointAtDeclaredResourcesAndOutputs(Path dir) {
        Hcl.Module module = Hcl.Module.read(dir);
        assertThat(Hcl.resourceReferences(module.text())).as("%s: references to undeclared resources", dir.getFileName())
                .isSubsetOf(module.declaredAddresses());
        assertThat(module.outputs()).as("%s has outputs", dir.getFileName()).isNotEmpty();
        for (Hcl.Block output : module.blocks("output")) {
            assertThat(output.body()).as("%s: output %s has a description", dir.getFileName(), output.label(0)).contains("description");
            String value = output.body();
            boolean refersToSomething = !Hcl.resourceReferences(value).isEmpty() || !Hcl.moduleReferences(value).isEmpty()
                    || !Hcl.variableReferences(value).isEmpty();
            assertThat(refersToSomething).as("%s: output %s refers to a resource, module or variable", dir.getFileName(), output.label(0))
                    .isTrue();
        }
        Map<String, Hcl.Block> calls = moduleCalls(module);
        for (String[] ref : Hcl.moduleReferences(module.text())) {
            assertThat(calls).as("%s: module.%s is called", dir.getFileName(), ref[0]).containsKey(ref[0]);
            Path called = localSource(dir, calls.get(ref[0]));
            if (called != null && ref[1] != null) {
                assertThat(Hcl.Module.read(called).outputs()).as("%s: module.%s.%s is an output of %s", dir.getFileName(), ref[0], ref[1], called)
                        .contains(ref[1]);
            }
        }
    }

    @Test
    void exampleRootPassesEveryRequiredVariableOfTheModulesItCalls() {
        Path example = ROOT.resolve("examples/aws");
        Hcl.Module root = Hcl.Module.read(example);
        int localCalls = 0;
        for (Map.Entry<String, Hcl.Block> call : moduleCalls(root).entrySet()) {
            Path called = localSource(example, call.getValue());
            if (called == null) {
                continue;
            }
            localCalls++;
            Hcl.Module module = Hcl.Module.read(called);
            Set<String> passed = Hcl.attributes(call.getValue().body());
            passed.removeAll(META_ARGUMENTS);
            assertThat(passed).as("module %s passes only variables %s declares", call.getKey(), called.getFileName())
                    .isSubsetOf(module.variables().keySet());
            assertThat(passed).as("module %s passes every required variable of %s", call.getKey(), called.getFileName())
                    .containsAll(module.requiredVariables());
        }
        assertThat(localCalls).as("the example wires the local modules").isGreaterThanOrEqualTo(4);
        assertThat(root.outputs()).contains("cluster_name", "kafka_bootstrap_servers", "model_bucket_uri");
    }

    @Test
    void gpuNodesCarryTheLabelAndTaintTheOverlayExpects() {
        String eks = Hcl.Module.read(ROOT.resolve("modules/eks-gpu")).text();
        assertThat(eks).contains("\"" + GpuPool.LABEL_KEY + "\" = \"" + GpuPool.LABEL_VALUE + "\"");
        Matcher taint = Pattern.compile("taint \\{\\s*key\\s*=\\s*\"([^\"]+)\"\\s*value\\s*=\\s*\"[^\"]*\"\\s*effect\\s*=\\s*\"([A-Z_]+)\"")
                .matcher(eks);
        assertThat(taint.find()).as("eks-gpu taints the GPU node group").isTrue();
        assertThat(taint.group(1)).isEqualTo(GpuPool.TAINT_KEY);
        assertThat(taint.group(2)).isEqualTo("NO_SCHEDULE");
        assertThat(eks).containsPattern("ami_type\\s+=\\s+var\\.gpu_ami_type").contains("default     = \"AL2023_x86_64_NVIDIA\"");
        assertThat(eks).contains("\"p5.48xlarge\"");

        String gke = Hcl.Module.read(ROOT.resolve("modules/gke-gpu")).text();
        assertThat(gke).contains("\"" + GpuPool.LABEL_KEY + "\" = \"" + GpuPool.LABEL_VALUE + "\"", "guest_accelerator {",
                "\"nvidia-h100-80gb\"");
        String addons = Hcl.Module.read(ROOT.resolve("modules/addons")).text();
        assertThat(addons).contains("\"" + GpuPool.LABEL_KEY + "\" = \"" + GpuPool.LABEL_VALUE + "\"",
                "default     = \"" + GpuPool.TAINT_KEY + "\"", "chart            = \"keda\"", "chart            = \"nvidia-device-plugin\"");
    }

    private static Map<String, Hcl.Block> moduleCalls(Hcl.Module module) {
        Map<String, Hcl.Block> calls = new java.util.LinkedHashMap<>();
        module.blocks("module").forEach(b -> calls.put(b.label(0), b));
        return calls;
    }

    /** The folder of a module call with a relative source, or null for a registry module. */
    private static Path localSource(Path dir, Hcl.Block call) {
        Matcher m = Pattern.compile("(?m)^\\s*source\\s*=\\s*\"(\\.{1,2}/[^\"]+)\"").matcher(call.body());
        if (!m.find()) {
            return null;
        }
        Path source = dir.resolve(m.group(1)).normalize();
        assertThat(source).as("module source %s exists", m.group(1)).isDirectory();
        return source;
    }
}

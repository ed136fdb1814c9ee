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
    private static final Set<String> MODULES = Set.of("eks-gpu", "addons", "msk", "msk-acls", "model-storage", "gke-gpu");
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
                .containsAll(MODULES.stream().map(m -> "modules/" + m).toList()).contains("examples/aws", "examples/aws-kafka-acls");
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

    @Test
    void mskDeniesEveryPrincipalWithoutAnAclByDefault() {
        Hcl.Module msk = Hcl.Module.read(ROOT.resolve("modules/msk"));
        Hcl.Block enforced = block(msk, "resource", "aws_msk_configuration", "enforced");
        assertThat(enforced.body()).contains("\"allow.everyone.if.no.acl.found=false\"").doesNotContain("=true");
        Hcl.Block cluster = block(msk, "resource", "aws_msk_cluster", "this");
        assertThat(cluster.body()).containsPattern("arn\\s+=\\s+var\\.deny_without_acl \\? aws_msk_configuration\\.enforced\\.arn :")
                .containsPattern("revision\\s+=\\s+var\\.deny_without_acl \\? aws_msk_configuration\\.enforced\\.latest_revision :");
        assertThat(msk.variables().get("deny_without_acl").body()).containsPattern("default\\s+=\\s+true");
        Hcl.Module example = Hcl.Module.read(ROOT.resolve("examples/aws"));
        assertThat(example.variables().get("kafka_deny_without_acl").body()).containsPattern("default\\s+=\\s+true");
        // Only TLS with SCRAM reaches the brokers: no plaintext or unauthenticated listener.
        assertThat(cluster.body()).containsPattern("client_broker\\s+=\\s+\"TLS\"").containsPattern("scram\\s+=\\s+true")
                .doesNotContain("unauthenticated");
    }

    @Test
    void mskHasOneScramUserPerPrincipal() {
        Hcl.Module msk = Hcl.Module.read(ROOT.resolve("modules/msk"));
        assertThat(msk.text()).containsPattern("scram_users\\s+=\\s+toset\\(concat\\(\\[var\\.admin_username, var\\.service_username\\], var\\.client_usernames\\)\\)");
        for (String resource : List.of("random_password", "aws_secretsmanager_secret", "aws_secretsmanager_secret_version")) {
            assertThat(block(msk, "resource", resource, "scram").body()).as(resource).containsPattern("for_each\\s+=\\s+local\\.scram_users");
        }
        assertThat(block(msk, "resource", "aws_secretsmanager_secret", "scram").body()).contains("\"AmazonMSK_${var.cluster_name}_${each.key}\"");
        Map<String, String> defaults = Map.of("service_username", "herd", "admin_username", "herd-admin");
        defaults.forEach((variable, value) -> assertThat(msk.variables().get(variable).body()).as(variable)
                .contains("default     = \"" + value + "\""));
        // The service user is the one the k8s Secret and KEDA use (docs/DEPLOY.md creates herd-kafka-credentials for it).
        assertThat(ProjectFiles.read("docs/DEPLOY.md")).contains("--from-literal=username=herd ");
    }

    @Test
    void eksApiServerIsReachableOnlyFromTheConfiguredNetworks() {
        Hcl.Module eks = Hcl.Module.read(ROOT.resolve("modules/eks-gpu"));
        Hcl.Block variable = eks.variables().get("endpoint_public_access_cidrs");
        assertThat(variable).as("eks-gpu variable endpoint_public_access_cidrs").isNotNull();
        assertThat(eks.requiredVariables()).as("no default for the API server's allowed networks").contains("endpoint_public_access_cidrs");
        assertThat(variable.body()).contains("validation {", "!endswith(c, \"/0\")");
        assertThat(block(eks, "resource", "aws_eks_cluster", "this").body())
                .containsPattern("public_access_cidrs\\s+=\\s+length\\(var\\.endpoint_public_access_cidrs\\) > 0 \\? var\\.endpoint_public_access_cidrs : null")
                .containsPattern("endpoint_public_access\\s+=\\s+length\\(var\\.endpoint_public_access_cidrs\\) > 0");
        Hcl.Module example = Hcl.Module.read(ROOT.resolve("examples/aws"));
        assertThat(example.requiredVariables()).contains("cluster_endpoint_public_access_cidrs");
        for (Path dir : uncheckedModuleDirs()) {
            assertThat(Hcl.Module.read(dir).text()).as("%s opens nothing to 0.0.0.0/0", dir).doesNotContain("0.0.0.0/0");
        }
    }

    /** One row of the grant table in modules/msk-acls: principal role, resource type, pattern, resource, operations. */
    private record Grant(String role, String type, String pattern, String resource, Set<String> operations) {
    }

    private static final Pattern GRANT = Pattern.compile(
            "\\{ resource_type = \"(\\w+)\", pattern = \"(\\w+)\", name = (local\\.topic\\[\"(\\w+)\"\\]|var\\.(\\w+)|\"([^\"]*)\"), operations = \\[([^\\]]*)\\] }");

    static List<Grant> grants() {
        String text = Hcl.Module.read(ROOT.resolve("modules/msk-acls")).text();
        List<Grant> grants = new ArrayList<>();
        for (String role : List.of("service", "client", "admin")) {
            int start = text.indexOf(role + "_grants = ");
            assertThat(start).as("msk-acls defines %s_grants", role).isNotNegative();
            int end = text.indexOf(role.equals("client") ? "\n  }" : "\n  ]", start);
            Matcher m = GRANT.matcher(text.substring(start, end));
            while (m.find()) {
                String resource = m.group(4) != null ? "topic:" + m.group(4) : m.group(5) != null ? "var:" + m.group(5) : m.group(6);
                Set<String> operations = new java.util.LinkedHashSet<>();
                for (String op : m.group(7).split(",")) {
                    operations.add(op.trim().replace("\"", ""));
                }
                grants.add(new Grant(role, m.group(1), m.group(2), resource, operations));
            }
        }
        return grants;
    }

    private static Set<String> operations(List<Grant> grants, String role, String type, String resource) {
        Set<String> ops = new java.util.TreeSet<>();
        grants.stream().filter(g -> g.role().equals(role) && g.type().equals(type) && g.resource().equals(resource))
                .forEach(g -> ops.addAll(g.operations()));
        return ops;
    }

    @Test
    void aclsGiveTheServiceAndTheClientsOnlyWhatTheirRoleNeeds() {
        List<Grant> grants = grants();
        List<TopicDefinition> topics = TopicDefinition.loadProject();
        for (TopicDefinition topic : topics) {
            assertThat(grants).as("the service has a grant on the %s topic", topic.role())
                    .anySatisfy(g -> assertThat(g.role() + g.resource()).isEqualTo("servicetopic:" + topic.role()));
        }
        assertThat(operations(grants, "service", "Topic", "topic:requests")).containsExactly("Read");
        assertThat(operations(grants, "service", "Topic", "topic:control")).containsExactly("Read");
        assertThat(operations(grants, "service", "Topic", "topic:responses")).containsExactly("Write");
        assertThat(operations(grants, "service", "Topic", "topic:dlq")).containsExactly("Write");
        assertThat(operations(grants, "service", "Topic", "topic:attempts"))
                .containsExactlyInAnyOrder("Read", "Write", "Create", "Alter", "AlterConfigs");
        assertThat(operations(grants, "service", "Group", "var:consumer_group")).containsExactly("Read");
        assertThat(operations(grants, "service", "Group", "var:control_group_prefix")).containsExactly("Read");
        assertThat(grants).filteredOn(g -> g.role().equals("service") && g.resource().equals("topic:responses")).singleElement()
                .extracting(Grant::pattern).as("responses and reply topics, by prefix").isEqualTo("Prefixed");
        assertThat(grants).filteredOn(g -> g.role().equals("service")).as("the service never administers the cluster")
                .noneSatisfy(g -> assertThat(g.type()).isEqualTo("Cluster"))
                .allSatisfy(g -> assertThat(g.operations()).doesNotContain("All"));

        assertThat(operations(grants, "client", "Topic", "topic:requests")).containsExactly("Write");
        assertThat(operations(grants, "client", "Topic", "topic:control")).containsExactly("Write");
        assertThat(operations(grants, "client", "Topic", "topic:responses")).containsExactly("Read");
        assertThat(grants).filteredOn(g -> g.role().equals("client")).as("clients never touch the ledger or the DLQ, nor write responses")
                .noneSatisfy(g -> assertThat(g.resource()).isIn("topic:attempts", "topic:dlq"))
                .noneSatisfy(g -> assertThat(g.type()).isEqualTo("Cluster"))
                .allSatisfy(g -> assertThat(g.operations()).doesNotContain("All", "Create", "Alter", "AlterConfigs"));
        assertThat(grants).filteredOn(g -> g.role().equals("client") && g.type().equals("Group")).as("clients' own groups")
                .isNotEmpty().allSatisfy(g -> assertThat(g.operations()).containsExactly("Read"));

        assertThat(grants).filteredOn(g -> g.role().equals("admin")).as("brokers' ClusterAction is never granted")
                .allSatisfy(g -> assertThat(g.operations()).doesNotContain("ClusterAction"));
    }

    @Test
    void aclNamesComeFromTopicsJsonAndTheServiceConfiguration() {
        Hcl.Module acls = Hcl.Module.read(ROOT.resolve("modules/msk-acls"));
        assertThat(acls.text()).contains("topic = { for t in jsondecode(file(var.topics_file)).topics : t.role => t.name }");
        Hcl.Module root = Hcl.Module.read(ROOT.resolve("examples/aws-kafka-acls"));
        Matcher file = Pattern.compile("topics_file\\s+=\\s+\"\\$\\{path\\.module}/([^\"]+)\"").matcher(root.text());
        assertThat(file.find()).as("examples/aws-kafka-acls passes topics_file").isTrue();
        assertThat(ROOT.resolve("examples/aws-kafka-acls").resolve(file.group(1)).normalize())
                .isEqualTo(ProjectFiles.resolve("kafka-topics/topics.json").normalize());

        AppProperties app = AppProperties.project();
        assertThat(acls.variables().get("consumer_group").body()).contains("default     = \"" + app.requestConsumerGroup() + "\"");
        Matcher prefix = Pattern.compile("default\\s+=\\s+\"([^\"]+)\"").matcher(acls.variables().get("control_group_prefix").body());
        assertThat(prefix.find()).isTrue();
        String controlGroup = java.util.Optional.ofNullable(rawProperty("mp.messaging.incoming.control.group.id")).orElse("");
        assertThat(controlGroup).as("the control channel's group id starts with the granted prefix").startsWith(prefix.group(1));
        assertThat(block(root, "provider", "kafka", null).body()).contains("tls_enabled       = true", "\"scram-sha512\"");
    }

    private static String rawProperty(String key) {
        java.util.Properties properties = new java.util.Properties();
        try {
            properties.load(new java.io.StringReader(ProjectFiles.read("src/main/resources/application.properties")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return properties.getProperty(key);
    }

    private static List<Path> uncheckedModuleDirs() {
        try {
            return moduleDirs();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Hcl.Block block(Hcl.Module module, String kind, String label0, String label1) {
        return module.blocks(kind).stream().filter(b -> b.label(0).equals(label0) && (label1 == null || b.label(1).equals(label1)))
                .findFirst().orElseThrow(() -> new AssertionError(module.dir() + ": no " + kind + " " + label0 + " " + label1));
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

package io.herd.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Names, ports, paths and numbers that must agree between k8s/, topics.json, the app config, the pom and the images. */
class DeploymentConsistencyTest {

    static final List<String> OVERLAYS = Overlays.NAMES;
    private static final Set<String> GPU_OVERLAYS = Set.of("gpu-prod", "scale-to-zero");
    /** Time between the drain's end and SIGKILL, for committing offsets, closing the consumer and JVM exit. */
    private static final int DRAIN_MARGIN_SECONDS = 10;

    private final List<TopicDefinition> topics = TopicDefinition.loadProject();
    private final AppProperties app = AppProperties.project();

    /** One overlay's objects with typed access to the ones the checks need. */
    private record Rendering(String overlay, List<Map<String, Object>> objects, Deployment deployment, Map<String, String> config,
                             Map<String, Object> scaledObject, Map<String, Object> kafkaTrigger) {

        static Rendering of(String overlay) {
            List<Map<String, Object>> objects = Overlays.render(overlay);
            Deployment deployment = KubernetesTypes.parse(Overlays.find(objects, "Deployment", "herd"), Deployment.class);
            @SuppressWarnings("unchecked")
            Map<String, String> config = (Map<String, String>) (Map<?, ?>) Yaml.asMap(
                    Overlays.find(objects, "ConfigMap", "herd-config").get("data"), "herd-config data");
            Map<String, Object> scaledObject = Overlays.find(objects, "ScaledObject", "herd");
            List<Object> triggers = Yaml.asList(Yaml.at(scaledObject, "spec.triggers"), "triggers");
            assertThat(triggers).as("%s: ScaledObject triggers", overlay).hasSize(1);
            Map<String, Object> trigger = Yaml.asMap(triggers.getFirst(), "trigger");
            assertThat(trigger.get("type")).isEqualTo("kafka");
            return new Rendering(overlay, objects, deployment, config, scaledObject, Yaml.asMap(trigger.get("metadata"), "metadata"));
        }

        PodSpec pod() {
            return deployment.getSpec().getTemplate().getSpec();
        }

        Container herd() {
            return pod().getContainers().stream().filter(c -> c.getName().equals("herd")).findFirst()
                    .orElseThrow(() -> new AssertionError(overlay + ": no container named herd"));
        }

        int scaledInt(String field) {
            return ((Number) Yaml.at(scaledObject, "spec." + field)).intValue();
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void topicNamesAgreeWithTopicsJson(String overlay) {
        Rendering r = Rendering.of(overlay);
        for (TopicDefinition topic : topics) {
            assertThat(r.config()).as("%s: ConfigMap topic for role %s", overlay, topic.role())
                    .containsEntry("HERD_KAFKA_TOPICS_" + topic.role().toUpperCase(), topic.name());
        }
        assertThat(r.kafkaTrigger()).as("%s: KEDA trigger topic", overlay)
                .containsEntry("topic", TopicDefinition.byRole(topics, "requests").name());
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void consumerGroupIsTheOneTheServiceJoins(String overlay) {
        Rendering r = Rendering.of(overlay);
        String group = app.requestConsumerGroup();
        assertThat(r.kafkaTrigger()).as("%s: KEDA consumerGroup", overlay).containsEntry("consumerGroup", group);
        assertThat(r.config()).as("%s: ConfigMap group", overlay).containsEntry("HERD_KAFKA_GROUP_ID", group);
        // KEDA counts a never-committed partition from this end; the service must start reading from the same end, or
        // the first request after a scale from zero would be counted as lag but skipped by the consumer.
        app.get("mp.messaging.incoming.requests.auto.offset.reset").ifPresent(reset -> assertThat(r.kafkaTrigger())
                .as("%s: KEDA offsetResetPolicy = the requests channel's auto.offset.reset", overlay)
                .containsEntry("offsetResetPolicy", reset));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void scalerReachesTheSameBrokersAsTheService(String overlay) {
        Rendering r = Rendering.of(overlay);
        if (r.kafkaTrigger().containsKey("bootstrapServersFromEnv")) {
            String variable = (String) r.kafkaTrigger().get("bootstrapServersFromEnv");
            assertThat(r.config()).as("%s: KEDA resolves %s from the Deployment's ConfigMap", overlay, variable).containsKey(variable);
        } else {
            assertThat(r.kafkaTrigger().get("bootstrapServers")).isEqualTo(r.config().get("KAFKA_BOOTSTRAP_SERVERS"));
        }
        String protocol = r.config().get("KAFKA_SECURITY_PROTOCOL");
        if ("SASL_SSL".equals(protocol)) {
            String mechanism = r.config().get("KAFKA_SASL_MECHANISM");
            assertThat(r.kafkaTrigger().get("sasl")).as("%s: KEDA sasl mode for %s", overlay, mechanism)
                    .isEqualTo(mechanism.toLowerCase().replace("-", "_").replace("scram_sha_", "scram_sha"));
            assertThat(r.kafkaTrigger()).containsEntry("tls", "enable");
            String authName = (String) Yaml.at(r.scaledObject(), "spec.triggers.0.authenticationRef.name");
            assertThat(authName).as("%s: trigger authenticationRef", overlay).isNotNull();
            Overlays.find(r.objects(), "TriggerAuthentication", authName);
            assertThat(r.herd().getEnv()).as("%s: JAAS config from a Secret", overlay).anySatisfy(env -> {
                assertThat(env.getName()).isEqualTo("KAFKA_SASL_JAAS_CONFIG");
                assertThat(env.getValueFrom().getSecretKeyRef().getName()).isNotBlank();
            });
        } else {
            assertThat(protocol).as("%s: security protocol", overlay).isEqualTo("PLAINTEXT");
            assertThat(r.kafkaTrigger()).doesNotContainKeys("sasl", "tls");
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void replicaBoundsFitThePartitionsAndTheEngine(String overlay) {
        Rendering r = Rendering.of(overlay);
        int partitions = TopicDefinition.byRole(topics, "requests").partitions();
        int min = r.scaledInt("minReplicaCount");
        int max = r.scaledInt("maxReplicaCount");
        assertThat(max).as("%s: maxReplicaCount <= partitions of the request topic (%d)", overlay, partitions).isLessThanOrEqualTo(partitions);
        assertThat(min).isLessThanOrEqualTo(max);
        assertThat(min).as("%s: minReplicaCount", overlay).isEqualTo(overlay.equals("scale-to-zero") ? 0 : 1);
        assertThat(r.kafkaTrigger()).containsEntry("allowIdleConsumers", "false").containsEntry("offsetResetPolicy", "earliest");
        assertThat(r.kafkaTrigger().get("lagThreshold")).as("%s: lagThreshold = sequences per pod", overlay)
                .isEqualTo(r.config().get("HERD_ENGINE_MAX_NUM_SEQS"));
        assertThat(Integer.parseInt((String) r.kafkaTrigger().get("activationLagThreshold"))).isZero();
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void podsStayLongerThanTheyTakeToStart(String overlay) {
        Rendering r = Rendering.of(overlay);
        int startupBudget = budgetSeconds(r.herd().getStartupProbe());
        assertThat(r.scaledInt("cooldownPeriod")).as("%s: cooldownPeriod >= startup budget %ds", overlay, startupBudget)
                .isGreaterThanOrEqualTo(startupBudget);
        Object window = Yaml.at(r.scaledObject(), "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds");
        assertThat(((Number) window).intValue()).as("%s: scale-down stabilization >= startup budget", overlay)
                .isGreaterThanOrEqualTo(startupBudget);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void probesUseTheQuarkusHealthEndpointsOnTheServicePort(String overlay) {
        Rendering r = Rendering.of(overlay);
        Container herd = r.herd();
        String root = app.nonApplicationRoot();
        assertProbe(herd, herd.getStartupProbe(), root + "/health/started");
        assertProbe(herd, herd.getReadinessProbe(), root + "/health/ready");
        assertProbe(herd, herd.getLivenessProbe(), root + "/health/live");

        Service service = KubernetesTypes.parse(Overlays.find(r.objects(), "Service", "herd"), Service.class);
        assertThat(service.getSpec().getSelector()).isEqualTo(r.deployment().getSpec().getSelector().getMatchLabels());
        String monitoredPort = (String) Yaml.at(Overlays.find(r.objects(), "ServiceMonitor", "herd"), "spec.endpoints.0.port");
        ServicePort monitored = service.getSpec().getPorts().stream().filter(p -> monitoredPort.equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(overlay + ": the Service has no port named " + monitoredPort));
        assertThat(resolvePort(herd, monitored.getTargetPort())).as("%s: Prometheus scrapes the management port", overlay)
                .isEqualTo(app.healthPort());
        assertThat(Yaml.at(Overlays.find(r.objects(), "ServiceMonitor", "herd"), "spec.endpoints.0.path")).isEqualTo(root + "/metrics");
        for (ServicePort port : service.getSpec().getPorts()) {
            assertThat(port.getPort()).as("%s: Service port %s keeps the container's number", overlay, port.getName())
                    .isEqualTo(resolvePort(herd, port.getTargetPort()));
        }
        Map<String, String> annotations = r.deployment().getSpec().getTemplate().getMetadata().getAnnotations();
        assertThat(annotations).as("%s: scrape annotations for Prometheus without the operator", overlay)
                .containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", String.valueOf(app.healthPort()))
                .containsEntry("prometheus.io/path", root + "/metrics");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void healthAndMetricsLiveOnTheManagementPortApartFromTheApi(String overlay) {
        Rendering r = Rendering.of(overlay);
        assertThat(app.get("quarkus.management.enabled")).as("application.properties enables the management interface")
                .contains("true");
        assertThat(app.healthPort()).as("management port differs from the API port").isNotEqualTo(app.httpPort());
        assertThat(containerPort(r.herd(), "http")).as("%s: container port http = quarkus.http.port", overlay).isEqualTo(app.httpPort());
        assertThat(containerPort(r.herd(), "management")).as("%s: container port management = quarkus.management.port", overlay)
                .isEqualTo(app.healthPort());
        app.variable("quarkus.management.port").ifPresent(variable -> {
            if (r.config().containsKey(variable)) {
                assertThat(Integer.parseInt(r.config().get(variable))).as("%s: %s", overlay, variable).isEqualTo(app.healthPort());
            }
        });
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void staticMemberIdIsThePodNameWithASessionTimeoutForStaticMembers(String overlay) {
        Rendering r = Rendering.of(overlay);
        String idVariable = app.variable("mp.messaging.incoming.requests.group.instance.id")
                .orElseThrow(() -> new AssertionError("group.instance.id of the requests channel is not taken from a variable"));
        EnvVar id = r.herd().getEnv().stream().filter(e -> e.getName().equals(idVariable)).findFirst()
                .orElseThrow(() -> new AssertionError(overlay + ": the herd container does not set " + idVariable));
        assertThat(id.getValueFrom().getFieldRef().getFieldPath()).as("%s: %s from the downward API", overlay, idVariable)
                .isEqualTo("metadata.name");
        assertThat(r.config()).as("%s: the id must not also come from the ConfigMap (one value for every pod)", overlay)
                .doesNotContainKey(idVariable);
        assertThat(app.get("mp.messaging.incoming.requests.partition.assignment.strategy")).as("cooperative rebalancing")
                .hasValueSatisfying(v -> assertThat(v).contains("CooperativeStickyAssignor"));

        String timeoutVariable = app.variable("mp.messaging.incoming.requests.session.timeout.ms")
                .orElseThrow(() -> new AssertionError("session.timeout.ms of the requests channel is not taken from a variable"));
        assertThat(r.config()).as("%s: the deployment chooses the session timeout of its static members", overlay)
                .containsKey(timeoutVariable);
        long timeout = Long.parseLong(r.config().get(timeoutVariable));
        long heartbeat = app.get("mp.messaging.incoming.requests.heartbeat.interval.ms").map(Long::parseLong).orElse(3000L);
        // A restart in place keeps its partitions only if it is back before the timeout: longer than the kubelet's first
        // restart back-off (10 s); and within the brokers' default group.max.session.timeout.ms (30 min), far enough below
        // it that a gone pod's partitions do not wait long.
        assertThat(timeout).as("%s: session timeout", overlay).isGreaterThan(10_000L).isGreaterThanOrEqualTo(3 * heartbeat)
                .isLessThanOrEqualTo(300_000L);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void retryCapAndReplyToAllowListAreSetWithTheServiceDefaults(String overlay) {
        Rendering r = Rendering.of(overlay);
        assertThat(r.config()).as("%s: herd.max-attempts", overlay).containsEntry("HERD_MAX_ATTEMPTS", "3");
        String allowed = r.config().get("HERD_REPLY_TO_ALLOWED");
        assertThat(allowed).as("%s: herd.reply-to.allowed", overlay).isEqualTo("herd\\.responses(\\..+)?");
        Pattern pattern = Pattern.compile(allowed);
        String responses = TopicDefinition.byRole(topics, "responses").name();
        assertThat(pattern.matcher(responses).matches()).as("the default responses topic is a valid reply_to").isTrue();
        assertThat(pattern.matcher(responses + ".pipeline-a").matches()).as("a per-client reply topic is valid").isTrue();
        for (TopicDefinition topic : topics) {
            if (!topic.role().equals("responses")) {
                assertThat(pattern.matcher(topic.name()).matches()).as("%s: internal topic %s must not qualify as reply_to", overlay,
                        topic.name()).isFalse();
            }
        }
        assertThat(pattern.matcher("__consumer_offsets").matches()).isFalse();
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void onlyDevelopmentOverlaysTalkPlaintext(String overlay) {
        Rendering r = Rendering.of(overlay);
        String protocol = r.config().get("KAFKA_SECURITY_PROTOCOL");
        if (overlay.endsWith("-dev")) {
            assertThat(protocol).as("%s", overlay).isIn("PLAINTEXT", "SASL_SSL");
            return;
        }
        assertThat(protocol).as("%s: a production overlay encrypts and authenticates", overlay).isEqualTo("SASL_SSL");
        assertThat(r.config()).as("%s", overlay).containsEntry("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
        assertThat(r.config()).as("%s: no credentials in the ConfigMap", overlay).doesNotContainKeys("KAFKA_SASL_JAAS_CONFIG");
        EnvVar jaas = r.herd().getEnv().stream().filter(e -> e.getName().equals("KAFKA_SASL_JAAS_CONFIG")).findFirst()
                .orElseThrow(() -> new AssertionError(overlay + ": no KAFKA_SASL_JAAS_CONFIG"));
        assertThat(jaas.getValue()).as("%s: JAAS config is not inline", overlay).isNull();
        assertThat(jaas.getValueFrom().getSecretKeyRef().getOptional()).as("%s: the credentials Secret is required", overlay)
                .isNotEqualTo(Boolean.TRUE);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void networkPolicyAdmitsExactlyWhatThePodServes(String overlay) {
        Rendering r = Rendering.of(overlay);
        NetworkPolicy policy = KubernetesTypes.parse(Overlays.find(r.objects(), "NetworkPolicy", "herd"), NetworkPolicy.class);
        assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
        Set<Integer> containerPorts = new java.util.HashSet<>();
        r.herd().getPorts().forEach(p -> containerPorts.add(p.getContainerPort()));
        Set<Integer> admitted = new java.util.HashSet<>();
        for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
            assertThat(rule.getFrom()).as("%s: every ingress rule names its sources", overlay).isNotEmpty();
            assertThat(rule.getPorts()).as("%s: every ingress rule names its ports", overlay).isNotEmpty();
            for (NetworkPolicyPort port : rule.getPorts()) {
                int number = port.getPort().getIntVal() != null ? port.getPort().getIntVal() : containerPort(r.herd(), port.getPort().getStrVal());
                assertThat(containerPorts).as("%s: ingress port %d is a container port", overlay, number).contains(number);
                assertThat(port.getEndPort()).isNull();
                admitted.add(number);
                if (number == app.healthPort()) {
                    assertThat(rule.getFrom()).as("%s: management port only from the monitoring namespace", overlay).allSatisfy(peer -> {
                        assertThat(peer.getIpBlock()).isNull();
                        assertThat(peer.getNamespaceSelector().getMatchLabels())
                                .containsEntry("kubernetes.io/metadata.name", "monitoring");
                    });
                    assertThat(rule.getPorts()).as("%s: the monitoring rule opens nothing else", overlay).hasSize(1);
                } else {
                    assertThat(number).as("%s: the only other admitted port is the API", overlay).isEqualTo(app.httpPort());
                    assertThat(rule.getFrom()).as("%s: API clients are pods that carry the client label", overlay)
                            .allSatisfy(peer -> assertThat(peer.getPodSelector().getMatchLabels()).containsEntry("herd.io/api-client", "true"));
                }
            }
        }
        assertThat(admitted).as("%s: ingress ports = container ports", overlay).isEqualTo(containerPorts);

        List<NetworkPolicyEgressRule> egress = policy.getSpec().getEgress();
        assertThat(egressAllows(egress, 53, "UDP")).as("%s: DNS", overlay).isTrue();
        for (String server : r.config().get("KAFKA_BOOTSTRAP_SERVERS").split(",")) {
            int port = Integer.parseInt(server.substring(server.lastIndexOf(':') + 1).trim());
            assertThat(egressAllows(egress, port, "TCP")).as("%s: egress to Kafka at %s", overlay, server).isTrue();
        }
        for (NetworkPolicyEgressRule rule : egress) {
            assertThat(rule.getPorts()).as("%s: every egress rule names its ports", overlay).isNotEmpty();
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void terminationGraceCoversPreStopAndDrain(String overlay) {
        Rendering r = Rendering.of(overlay);
        long drain = parseQuarkusDuration(r.config().get("QUARKUS_SHUTDOWN_TIMEOUT")).toSeconds();
        assertThat(drain).as("%s: a drain of at least 30 s lets running streams finish", overlay).isGreaterThanOrEqualTo(30);
        long preStop = r.herd().getLifecycle().getPreStop().getSleep().getSeconds();
        assertThat(r.pod().getTerminationGracePeriodSeconds()).as("%s: grace >= preStop + drain + margin", overlay)
                .isGreaterThanOrEqualTo(preStop + drain + DRAIN_MARGIN_SECONDS);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void podRunsNonRootWithReadOnlyRootAndWritableScratch(String overlay) {
        Rendering r = Rendering.of(overlay);
        PodSpec pod = r.pod();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).as("pod uid = the images' USER").isEqualTo(DockerfileTest.APP_UID);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        for (Container c : allContainers(pod)) {
            assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as("%s/%s read-only root", overlay, c.getName()).isTrue();
            assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
            assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
            assertThat(c.getResources().getRequests()).as("%s/%s requests", overlay, c.getName()).containsKeys("cpu", "memory");
            assertThat(c.getResources().getLimits()).as("%s/%s memory limit", overlay, c.getName()).containsKey("memory");
            assertThat(c.getResources().getLimits().get("memory")).isEqualTo(c.getResources().getRequests().get("memory"));
            for (VolumeMount mount : c.getVolumeMounts()) {
                assertThat(pod.getVolumes()).as("%s/%s volume %s", overlay, c.getName(), mount.getName())
                        .anySatisfy(v -> assertThat(v.getName()).isEqualTo(mount.getName()));
            }
        }
        assertThat(mountAt(pod, r.herd(), "/tmp").getEmptyDir()).as("%s: /tmp is an emptyDir", overlay).isNotNull();
        String modelDir = r.config().get("HERD_MODEL_DIR");
        assertThat(r.herd().getVolumeMounts()).as("%s: HERD_MODEL_DIR %s is on a mounted volume", overlay, modelDir)
                .anySatisfy(m -> assertThat(modelDir).startsWith(m.getMountPath() + "/"));
        for (Volume volume : pod.getVolumes()) {
            if (volume.getPersistentVolumeClaim() != null) {
                Overlays.find(r.objects(), "PersistentVolumeClaim", volume.getPersistentVolumeClaim().getClaimName());
            }
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void gpuOverlaysAskForAGpuOnTheTaintedPool(String overlay) {
        Rendering r = Rendering.of(overlay);
        Map<String, Quantity> limits = r.herd().getResources().getLimits();
        if (GPU_OVERLAYS.contains(overlay)) {
            assertThat(Integer.parseInt(limits.get("nvidia.com/gpu").getAmount())).isGreaterThanOrEqualTo(1);
            assertThat(r.pod().getNodeSelector()).containsEntry(GpuPool.LABEL_KEY, GpuPool.LABEL_VALUE);
            assertThat(r.pod().getTolerations()).anySatisfy(t -> {
                assertThat(t.getKey()).isEqualTo(GpuPool.TAINT_KEY);
                assertThat(t.getEffect()).isEqualTo("NoSchedule");
            });
            assertThat(r.config()).containsEntry("HERD_COMPUTE_BACKEND", "cuda");
            assertThat(r.herd().getImage()).contains("herd-gpu");
        } else {
            assertThat(limits).doesNotContainKey("nvidia.com/gpu");
            assertThat(r.config()).containsEntry("HERD_COMPUTE_BACKEND", "cpu");
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void jvmFlagsIncludeThePomFlags(String overlay) {
        Rendering r = Rendering.of(overlay);
        String options = r.herd().getEnv().stream().filter(e -> e.getName().equals("JDK_JAVA_OPTIONS")).map(EnvVar::getValue)
                .findFirst().orElseThrow(() -> new AssertionError(overlay + ": no JDK_JAVA_OPTIONS"));
        assertThat(options.split("\\s+")).contains(DockerfileTest.pomJvmFlags().toArray(String[]::new));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void selectorsPickTheHerdPods(String overlay) {
        Rendering r = Rendering.of(overlay);
        Map<String, String> podLabels = r.deployment().getSpec().getTemplate().getMetadata().getLabels();
        PodDisruptionBudget pdb = KubernetesTypes.parse(Overlays.find(r.objects(), "PodDisruptionBudget", "herd"), PodDisruptionBudget.class);
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        assertThat(pdb.getSpec().getMaxUnavailable()).as("maxUnavailable never blocks a drain at 0 or 1 replicas").isNotNull();
        NetworkPolicy policy = KubernetesTypes.parse(Overlays.find(r.objects(), "NetworkPolicy", "herd"), NetworkPolicy.class);
        assertThat(podLabels).containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
        assertThat(policy.getSpec().getIngress()).anySatisfy(rule -> assertThat(rule.getPorts())
                .anySatisfy(p -> assertThat(p.getPort().getIntVal()).isEqualTo(app.healthPort())));
        assertThat(Yaml.at(r.scaledObject(), "spec.scaleTargetRef.name")).isEqualTo(r.deployment().getMetadata().getName());
        assertThat(Yaml.at(r.scaledObject(), "spec.scaleTargetRef.kind")).isEqualTo("Deployment");
        assertThat(r.deployment().getSpec().getReplicas()).as("no fixed replicas next to KEDA").isNull();
    }

    private static List<Container> allContainers(PodSpec pod) {
        List<Container> all = new ArrayList<>(pod.getContainers());
        all.addAll(pod.getInitContainers());
        return all;
    }

    private static Volume mountAt(PodSpec pod, Container container, String path) {
        String volume = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + path)).getName();
        return pod.getVolumes().stream().filter(v -> v.getName().equals(volume)).findFirst().orElseThrow();
    }

    private void assertProbe(Container container, Probe probe, String path) {
        assertThat(probe).as("probe for %s", path).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(resolvePort(container, probe.getHttpGet().getPort())).as("port of %s", path).isEqualTo(app.healthPort());
    }

    private static int containerPort(Container container, String name) {
        return container.getPorts().stream().filter(p -> name.equals(p.getName())).map(ContainerPort::getContainerPort).findFirst()
                .orElseThrow(() -> new AssertionError("no container port named " + name));
    }

    private static boolean egressAllows(List<NetworkPolicyEgressRule> rules, int port, String protocol) {
        return rules.stream().flatMap(rule -> rule.getPorts().stream()).anyMatch(p -> {
            String proto = p.getProtocol() == null ? "TCP" : p.getProtocol();
            int from = p.getPort().getIntVal();
            int to = p.getEndPort() == null ? from : p.getEndPort();
            return proto.equals(protocol) && from <= port && port <= to;
        });
    }

    private static int resolvePort(Container container, IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return container.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).map(ContainerPort::getContainerPort)
                .findFirst().orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal()));
    }

    private static int budgetSeconds(Probe probe) {
        int initial = probe.getInitialDelaySeconds() == null ? 0 : probe.getInitialDelaySeconds();
        int period = probe.getPeriodSeconds() == null ? 10 : probe.getPeriodSeconds();
        int failures = probe.getFailureThreshold() == null ? 3 : probe.getFailureThreshold();
        return initial + period * failures;
    }

    /** Quarkus durations: a number of seconds, a simplified form like 60s/2m/500ms, or ISO-8601 (PT60S). */
    static Duration parseQuarkusDuration(String value) {
        assertThat(value).as("QUARKUS_SHUTDOWN_TIMEOUT").isNotBlank();
        Matcher m = Pattern.compile("(\\d+)(ms|s|m|h)?").matcher(value.trim());
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2) == null ? "s" : m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
        }
        return Duration.parse(value.trim());
    }
}

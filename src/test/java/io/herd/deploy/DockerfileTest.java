package io.herd.deploy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Static checks of the container images: no Docker engine runs where the tests run. */
class DockerfileTest {

    /** uid and gid of the images' USER, named again by the pods' securityContext. */
    static final long APP_UID = 10001;

    /** One instruction with its continuation lines joined. */
    record Instruction(String keyword, String arguments) {
    }

    static List<Instruction> parse(String dockerfile) {
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : dockerfile.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            String text = current.toString().strip();
            current.setLength(0);
            if (text.isEmpty()) {
                continue;
            }
            int space = text.indexOf(' ');
            instructions.add(new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip()));
        }
        return instructions;
    }

    static List<String> pomJvmFlags() {
        Matcher m = Pattern.compile("<herd\\.jvm\\.flags>([^<]+)</herd\\.jvm\\.flags>").matcher(ProjectFiles.read("pom.xml"));
        assertThat(m.find()).as("pom.xml defines herd.jvm.flags").isTrue();
        return Arrays.asList(m.group(1).strip().split("\\s+"));
    }

    private static List<Instruction> read(String name) {
        return parse(ProjectFiles.read("src/main/docker/" + name));
    }

    private static List<Instruction> all(List<Instruction> instructions, String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    /** Instructions of the last stage, the one that becomes the image. */
    private static List<Instruction> finalStage(List<Instruction> instructions) {
        int lastFrom = 0;
        for (int i = 0; i < instructions.size(); i++) {
            if (instructions.get(i).keyword().equals("FROM")) {
                lastFrom = i;
            }
        }
        return instructions.subList(lastFrom, instructions.size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile.jvm", "Dockerfile.gpu"})
    void imageRunsTheFastJarAsNonRootOnTheServicePort(String name) {
        List<Instruction> image = finalStage(read(name));
        List<Instruction> users = all(image, "USER");
        assertThat(users).as("%s sets USER", name).isNotEmpty();
        assertThat(users.getLast().arguments()).as("%s runs as uid:gid %d", name, APP_UID).isEqualTo(APP_UID + ":" + APP_UID);
        AppProperties app = AppProperties.project();
        assertThat(all(image, "EXPOSE")).extracting(Instruction::arguments).as("%s exposes the API and the management port", name)
                .containsExactly(app.httpPort() + " " + app.healthPort());
        assertThat(all(image, "ENTRYPOINT")).extracting(Instruction::arguments)
                .containsExactly("[\"java\", \"-jar\", \"/deployments/quarkus-run.jar\"]");
        assertThat(all(image, "COPY")).extracting(Instruction::arguments).contains(
                "target/quarkus-app/lib/ /deployments/lib/", "target/quarkus-app/*.jar /deployments/",
                "target/quarkus-app/app/ /deployments/app/", "target/quarkus-app/quarkus/ /deployments/quarkus/");
        assertThat(all(image, "RUN")).as("%s creates the user with uid %d", name, APP_UID)
                .anySatisfy(run -> assertThat(run.arguments()).contains("--uid " + APP_UID, "--gid " + APP_UID));
        String jvmOptions = all(image, "ENV").stream().map(Instruction::arguments).filter(a -> a.contains("JDK_JAVA_OPTIONS="))
                .findFirst().orElseThrow(() -> new AssertionError(name + " sets no JDK_JAVA_OPTIONS"));
        Matcher quoted = Pattern.compile("JDK_JAVA_OPTIONS=\"([^\"]*)\"").matcher(jvmOptions);
        assertThat(quoted.find()).isTrue();
        assertThat(quoted.group(1).split("\\s+")).as("%s JDK_JAVA_OPTIONS", name).contains(pomJvmFlags().toArray(String[]::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile.jvm", "Dockerfile.gpu"})
    void everyStageFromAPinnedBase(String name) {
        for (Instruction from : all(read(name), "FROM")) {
            String image = from.arguments().split("\\s+")[0];
            assertThat(image).as("%s: %s has a tag", name, image).contains(":").doesNotEndWith(":latest");
        }
    }

    @org.junit.jupiter.api.Test
    void jvmImageIsTemurin25Jre() {
        List<Instruction> froms = all(read("Dockerfile.jvm"), "FROM");
        assertThat(froms).hasSize(1);
        assertThat(froms.getFirst().arguments()).startsWith("eclipse-temurin:25-jre");
    }

    @org.junit.jupiter.api.Test
    void gpuImageIsCudaRuntimeWithCublasAndJava25CopiedIn() {
        List<Instruction> instructions = read("Dockerfile.gpu");
        List<Instruction> froms = all(instructions, "FROM");
        assertThat(froms.getLast().arguments()).matches("nvidia/cuda:\\$\\{CUDA_VERSION}-runtime-ubuntu\\d+\\.\\d+");
        assertThat(froms).anySatisfy(f -> assertThat(f.arguments()).startsWith("eclipse-temurin:25-jre").endsWith(" AS jre"));
        assertThat(froms).anySatisfy(f -> assertThat(f.arguments()).matches("nvidia/cuda:\\$\\{CUDA_VERSION}-devel-\\S+ AS kernels"));
        List<Instruction> image = finalStage(instructions);
        assertThat(all(image, "COPY")).extracting(Instruction::arguments)
                .contains("--from=jre /opt/java/openjdk /opt/java/openjdk", "--from=kernels /out/ /opt/herd/lib/");
        assertThat(all(image, "RUN")).anySatisfy(run -> assertThat(run.arguments()).contains("libcublas.so", "libcublasLt.so"));
        assertThat(all(image, "ENV")).anySatisfy(env -> assertThat(env.arguments()).contains("LD_LIBRARY_PATH=/opt/herd/lib"));
        assertThat(all(instructions, "ARG")).anySatisfy(arg -> assertThat(arg.arguments()).matches("CUDA_VERSION=\\d+\\.\\d+\\.\\d+"));
    }
}

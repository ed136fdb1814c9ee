package io.herd.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * Keeps the data-path arrows pointing one way: messaging → serving → engine → runner → model → compute → ffi.
 * The engine and everything below it stay plain Java, testable and benchmarkable without Quarkus or Kafka.
 */
final class LayeringTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.herd");
    }

    @Test
    void engineAndBelowHaveNoFrameworkTypes() {
        noClasses().that().resideInAnyPackage("io.herd.engine..", "io.herd.runner..", "io.herd.model..",
                        "io.herd.tokenizer..", "io.herd.image..", "io.herd.weights..", "io.herd.compute..", "io.herd.ffi..")
                .should().dependOnClassesThat().resideInAnyPackage("io.quarkus..", "jakarta..", "org.apache.kafka..",
                        "io.smallrye..", "org.eclipse.microprofile..", "io.vertx..", "io.micrometer..",
                        "io.opentelemetry..")
                .allowEmptyShould(true)
                .check(classes);
    }

    @Test
    void lowerLayersDoNotReachUp() {
        noClasses().that().resideInAnyPackage("io.herd.model..", "io.herd.weights..", "io.herd.compute..",
                        "io.herd.ffi..", "io.herd.tokenizer..", "io.herd.image..")
                .should().dependOnClassesThat().resideInAnyPackage("io.herd.engine..", "io.herd.runner..",
                        "io.herd.serving..", "io.herd.messaging..", "io.herd.app..", "io.herd.cli..")
                .allowEmptyShould(true)
                .check(classes);
        noClasses().that().resideInAnyPackage("io.herd.engine..", "io.herd.runner..")
                .should().dependOnClassesThat().resideInAnyPackage("io.herd.serving..", "io.herd.messaging..",
                        "io.herd.app..", "io.herd.cli..")
                .allowEmptyShould(true)
                .check(classes);
        noClasses().that().resideInAnyPackage("io.herd.compute..", "io.herd.ffi..")
                .should().dependOnClassesThat().resideInAnyPackage("io.herd.model..", "io.herd.weights..")
                .allowEmptyShould(true)
                .check(classes);
    }

    @Test
    void vectorApiStaysInCpuKernels() {
        noClasses().that().resideOutsideOfPackage("io.herd.compute.cpu..")
                .should().dependOnClassesThat().resideInAPackage("jdk.incubator.vector..")
                .allowEmptyShould(true)
                .check(classes);
    }
}

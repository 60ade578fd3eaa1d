package io.raftkv;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The library's layers, as rules over its compiled classes (the core's and the library's; the test
 * classes are left out). Which module may use which is the build's to enforce (a module sees only what
 * it depends on); these are the rules within: the core stays pure, and the layers point down.
 */
class LayersTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.raftkv");
    }

    @Test
    void theCoreUsesNothingElseOfRaftkv() {
        check(noClasses().that().resideInAPackage("io.raftkv.raft..")
                .should().dependOnClassesThat().resideOutsideOfPackages("io.raftkv.raft..", "java..")
                .because("the core is a module of its own with no dependency"));
    }

    @Test
    void theCoreHasNoThreadsClockIoOrRandomnessOfItsOwn() {
        check(noClasses().that().resideInAPackage("io.raftkv.raft..")
                .should().dependOnClassesThat().resideInAnyPackage("java.io..", "java.nio..", "java.net..",
                        "java.util.concurrent..", "java.time..")
                .orShould().dependOnClassesThat().belongToAnyOf(Thread.class, java.util.Random.class,
                        java.util.concurrent.ThreadLocalRandom.class)
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(System.class, "currentTimeMillis")
                .because("the core is a deterministic function of its inputs: time, randomness and I/O come from outside"));
    }

    @Test
    void theLayersPointDown() {
        // storage and transport know the core's types only; the node drives them; the services sit on the node.
        check(noClasses().that().resideInAnyPackage("io.raftkv.storage..", "io.raftkv.transport..")
                .should().dependOnClassesThat().resideInAnyPackage("io.raftkv.node..", "io.raftkv.kv..",
                        "io.raftkv.app..", "io.raftkv.cluster..", "io.raftkv.client.."));
        check(noClasses().that().resideInAPackage("io.raftkv.node..")
                .should().dependOnClassesThat().resideInAnyPackage("io.raftkv.kv..", "io.raftkv.app..",
                        "io.raftkv.cluster..", "io.raftkv.client.."));
        check(noClasses().that().resideInAPackage("io.raftkv.client..")
                .should().dependOnClassesThat(resideInAPackage("io.raftkv..").and(not(resideInAPackage("io.raftkv.client..")))));
        check(noClasses().that().resideInAnyPackage("io.raftkv.app..", "io.raftkv.kv..")
                .should().dependOnClassesThat().resideInAPackage("io.raftkv.cluster.."));
        check(noClasses().that().resideInAPackage("io.raftkv.app..")
                .should().dependOnClassesThat().resideInAPackage("io.raftkv.kv.."));
    }

    @Test
    void noCyclesBetweenPackages() {
        check(slices().matching("io.raftkv.(*)..").should().beFreeOfCycles());
    }

    @Test
    void theLibraryHasNoCommandLineBenchmarksGrpcOrJUnit() {
        check(noClasses().should().dependOnClassesThat().resideInAnyPackage("io.grpc..", "com.google.protobuf..",
                "picocli..", "org.HdrHistogram..", "org.junit..", "org.openjdk.jmh.."));
    }

    private static void check(ArchRule rule) {
        rule.check(classes);
    }
}

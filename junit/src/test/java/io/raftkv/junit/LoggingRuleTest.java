package io.raftkv.junit;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** This module's classes log through System.Logger alone and print nothing: the rule of raftkv's LoggingTest. */
class LoggingRuleTest {
    @Test
    void mainClassesUseNeitherJavaUtilLoggingNorTheStandardStreams() {
        noClasses().should().dependOnClassesThat().resideInAPackage("java.util.logging..")
                .orShould().accessField(System.class, "out").orShould().accessField(System.class, "err")
                .orShould().callMethod(Throwable.class, "printStackTrace")
                .because("raftkv logs through System.Logger, which the user routes to their own backend,"
                        + " and prints nothing of its own (see Logging in docs/user-guide.md)")
                .check(new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("io.raftkv.junit"));
    }
}

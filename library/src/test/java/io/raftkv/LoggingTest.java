package io.raftkv;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.raftkv.node.RaftNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The library logs through {@link System.Logger} alone and prints nothing (the core's and the library's
 * classes; raftkv-junit and raftkv-grpc check theirs with the same rule). What that means for a user of
 * the default backend, java.util.logging, is checked here too: its handlers see raftkv's records under
 * the class names, at the levels the docs give, and a message is not built when its level is off.
 */
class LoggingTest {
    @Test
    void mainClassesUseNeitherJavaUtilLoggingNorTheStandardStreams() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.raftkv");
        noClasses().should().dependOnClassesThat().resideInAPackage("java.util.logging..")
                .orShould().accessField(System.class, "out").orShould().accessField(System.class, "err")
                .orShould().callMethod(Throwable.class, "printStackTrace")
                .because("the library logs through System.Logger, which the user routes to their own backend,"
                        + " and prints nothing of its own (see Logging in docs/user-guide.md)")
                .check(classes);
    }

    @Test
    void javaUtilLoggingHandlersSeeTheRecordsAtTheMappedLevels() {
        Logger parent = Logger.getLogger("io.raftkv");
        Level before = parent.getLevel();
        boolean useParentHandlers = parent.getUseParentHandlers();
        List<LogRecord> seen = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override public void publish(LogRecord r) { seen.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        capture.setLevel(Level.ALL);
        parent.addHandler(capture);
        parent.setUseParentHandlers(false); // the console stays quiet
        try {
            System.Logger log = System.getLogger(RaftNode.class.getName());
            AtomicInteger built = new AtomicInteger();
            parent.setLevel(Level.INFO);
            log.log(System.Logger.Level.DEBUG, () -> "debug " + built.incrementAndGet());
            assertEquals(0, built.get(), "a DEBUG message is not built while DEBUG is off");

            parent.setLevel(Level.ALL);
            log.log(System.Logger.Level.TRACE, () -> "trace " + built.incrementAndGet());
            log.log(System.Logger.Level.DEBUG, () -> "debug " + built.incrementAndGet());
            log.log(System.Logger.Level.INFO, "info");
            log.log(System.Logger.Level.WARNING, "warning");
            log.log(System.Logger.Level.ERROR, "error", new IllegalStateException("cause"));
            assertEquals(List.of(Level.FINER, Level.FINE, Level.INFO, Level.WARNING, Level.SEVERE),
                    seen.stream().map(LogRecord::getLevel).toList());
            assertEquals(List.of(RaftNode.class.getName()), seen.stream().map(LogRecord::getLoggerName).distinct().toList());
            assertEquals(List.of("trace 1", "debug 2", "info", "warning", "error"),
                    seen.stream().map(LogRecord::getMessage).toList());
            assertEquals("cause", seen.getLast().getThrown().getMessage());
        } finally {
            parent.removeHandler(capture);
            parent.setUseParentHandlers(useParentHandlers);
            parent.setLevel(before);
        }
    }
}

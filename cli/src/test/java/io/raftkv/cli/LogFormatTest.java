package io.raftkv.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The command line's one-line log format, and that it gives way to a format or configuration the user chose. */
class LogFormatTest {
    @Test
    void aRecordIsOneLineWithItsTime() {
        ZonedDateTime t = ZonedDateTime.of(2025, 6, 3, 14, 7, 12, 431_000_000, ZoneOffset.UTC);
        // The arguments java.util.logging.SimpleFormatter passes: time, source, logger, level, message, stack trace.
        assertEquals("2025-06-03 14:07:12.431 INFO io.raftkv.transport.tcp.TcpTransport: node 1 connected to node 2"
                        + System.lineSeparator(),
                String.format(LogFormat.ONE_LINE, t, "TcpTransport$Dialer run", "io.raftkv.transport.tcp.TcpTransport",
                        "INFO", "node 1 connected to node 2", ""));
    }

    @Test
    void aLineACommandPrintsItselfHasTheSameTime() {
        ZonedDateTime t = ZonedDateTime.of(2025, 6, 3, 14, 7, 2, 31_000_000, ZoneOffset.UTC);
        assertEquals("2025-06-03 14:07:02.031", LogFormat.time(t));
        assertEquals(String.format(LogFormat.ONE_LINE, t, "", "", "", "", "").substring(0, 23), LogFormat.time(t));
    }

    @Test
    void setWhenTheUserChoseNothing(@TempDir Path javaHome) {
        Properties system = new Properties();
        system.setProperty("java.home", javaHome.toString()); // a JDK whose conf/logging.properties is missing
        LogFormat.useOneLine(system);
        assertEquals(LogFormat.ONE_LINE, system.getProperty(LogFormat.JUL_FORMAT));
        assertEquals(LogFormat.ONE_LINE, system.getProperty("jdk.system.logger.format"));
    }

    @Test
    void aFormatGivenWithMinusDIsKept(@TempDir Path javaHome) {
        Properties system = new Properties();
        system.setProperty("java.home", javaHome.toString());
        system.setProperty(LogFormat.JUL_FORMAT, "%5$s%n");
        LogFormat.useOneLine(system);
        assertEquals("%5$s%n", system.getProperty(LogFormat.JUL_FORMAT));
    }

    @Test
    void aLoggingPropertiesFileThatSetsTheFormatIsLeftToDoSo(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("logging.properties"), LogFormat.JUL_FORMAT + "=%4$s %5$s%n\n");
        Properties system = new Properties();
        system.setProperty("java.home", dir.toString());
        system.setProperty("java.util.logging.config.file", file.toString());
        LogFormat.useOneLine(system);
        assertNull(system.getProperty(LogFormat.JUL_FORMAT), "the file's format applies only if no -D overrides it");

        // The JDK's own conf/logging.properties, when no file is named, counts too.
        Files.createDirectories(dir.resolve("conf"));
        Files.copy(file, dir.resolve("conf").resolve("logging.properties"));
        Properties jdk = new Properties();
        jdk.setProperty("java.home", dir.toString());
        LogFormat.useOneLine(jdk);
        assertNull(jdk.getProperty(LogFormat.JUL_FORMAT));
    }

    @Test
    void aLoggingPropertiesFileWithoutAFormatGetsTheOneLine(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("logging.properties"), ".level=FINE\n");
        Properties system = new Properties();
        system.setProperty("java.util.logging.config.file", file.toString());
        LogFormat.useOneLine(system);
        assertEquals(LogFormat.ONE_LINE, system.getProperty(LogFormat.JUL_FORMAT));
    }

    @Test
    void aConfigurationClassIsLeftAlone(@TempDir Path javaHome) {
        Properties system = new Properties();
        system.setProperty("java.home", javaHome.toString());
        system.setProperty("java.util.logging.config.class", "com.example.LogSetup");
        LogFormat.useOneLine(system);
        assertNull(system.getProperty(LogFormat.JUL_FORMAT));
    }
}

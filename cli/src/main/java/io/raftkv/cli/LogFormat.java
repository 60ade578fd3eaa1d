package io.raftkv.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.temporal.TemporalAccessor;
import java.util.Locale;
import java.util.Properties;

/**
 * The command line's log format: one line per record, with the time. The library logs through
 * {@link System.Logger}, whose default backend is {@code java.util.logging}, and that prints each record
 * on two lines, the first with the time and the logging method and the second with the level and the
 * message. A command-line entry point calls {@link #useOneLine()} first, before any logger exists:
 * <pre>
 * 2025-06-03 14:07:12.431 INFO io.raftkv.transport.tcp.TcpTransport: node 1 connected to node 2 at /127.0.0.1:7002
 * </pre>
 * The library itself never calls this: how an application's logs look is the application's choice.
 */
public final class LogFormat {
    /** The property {@code java.util.logging.SimpleFormatter} reads its format from. */
    public static final String JUL_FORMAT = "java.util.logging.SimpleFormatter.format";
    /** The same for the JDK's own minimal backend, used where the java.logging module is absent. */
    static final String SYSTEM_LOGGER_FORMAT = "jdk.system.logger.format";
    /** Date, time to the millisecond, level, logger name, message, then the stack trace if there is one. */
    public static final String ONE_LINE = "%1$tF %1$tT.%1$tL %4$s %3$s: %5$s%6$s%n";

    private static final String MANAGER = "java.util.logging.manager";
    private static final String EXIT_AWARE_MANAGER = "io.raftkv.cli.ExitAwareLogManager";

    private LogFormat() {}

    /**
     * Makes {@link ExitAwareLogManager} the JVM's log manager, so that what a node logs while it stops is not
     * lost to the JDK's reset at exit; unless the user chose a manager, or the system class loader cannot see
     * it (as under a build tool's class loader, where java.util.logging would complain and fall back). Call it
     * before anything logs. Named here, not in that class: touching it would initialize
     * {@code java.util.logging.LogManager}, its superclass, which reads the property once, as it initializes.
     */
    static void holdLogsAtExit() {
        if (System.getProperty(MANAGER) != null) return;
        try {
            Class.forName(EXIT_AWARE_MANAGER, false, ClassLoader.getSystemClassLoader());
        } catch (ClassNotFoundException e) {
            return;
        }
        System.setProperty(MANAGER, EXIT_AWARE_MANAGER);
    }

    /** The time {@code t} as {@link #ONE_LINE} shows it, such as {@code 2025-06-03 14:07:12.431}. */
    static String time(TemporalAccessor t) {
        return String.format(Locale.ROOT, "%1$tF %1$tT.%1$tL", t);
    }

    /** {@link #time} now, in the default time zone as the log records have it, for a line a command prints itself. */
    static String now() {
        return time(ZonedDateTime.now());
    }

    /**
     * Sets the one-line format, unless the user chose one already: a {@code -D} of either format property, a
     * {@code java.util.logging.config.class}, or a logging configuration file that sets the format (the one
     * {@code java.util.logging.config.file} names, else the JDK's {@code conf/logging.properties}).
     */
    public static void useOneLine() {
        useOneLine(System.getProperties());
    }

    /** {@link #useOneLine()} on {@code system}, the system properties or a stand-in for them. */
    static void useOneLine(Properties system) {
        if (system.getProperty(SYSTEM_LOGGER_FORMAT) == null) system.setProperty(SYSTEM_LOGGER_FORMAT, ONE_LINE);
        if (system.getProperty(JUL_FORMAT) != null || system.getProperty("java.util.logging.config.class") != null) return;
        if (configurationSetsFormat(system)) return;
        system.setProperty(JUL_FORMAT, ONE_LINE);
    }

    /** Whether the logging configuration file sets the format (read as java.util.logging will read it). */
    private static boolean configurationSetsFormat(Properties system) {
        String named = system.getProperty("java.util.logging.config.file");
        String home = system.getProperty("java.home");
        if (named == null && home == null) return false;
        Path file = named != null ? Path.of(named) : Path.of(home, "conf", "logging.properties");
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        } catch (IOException | RuntimeException e) {
            return false; // no file: java.util.logging's defaults, whose format is the two-line one
        }
        return p.getProperty(JUL_FORMAT) != null;
    }
}

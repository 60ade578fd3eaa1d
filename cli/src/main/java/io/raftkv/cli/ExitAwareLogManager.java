package io.raftkv.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * {@code java.util.logging}'s manager for the command line, so that what a node logs while it stops on
 * SIGTERM is not lost. The JDK resets every handler from a shutdown hook of its own, and shutdown hooks
 * run at the same time: a node's graceful stop (handing leadership over, closing its store) ran in
 * {@code raftkv node}'s hook while the JDK's closed the handlers under it, and its records went nowhere.
 * {@link LogFormat#holdLogsAtExit()} installs it. Its reset at exit waits, within a bound, until the command
 * that asked it to {@link #holdAtExit()} says its own shutdown work is {@link #done()}; at any other time it
 * resets at once, as the JDK's does.
 */
public final class ExitAwareLogManager extends LogManager {
    /** The longest the reset at exit waits for a command's shutdown work: the JVM must still end. */
    private static final long MAX_WAIT_SECONDS = 60;
    private static final CountDownLatch DONE = new CountDownLatch(1);
    private static volatile boolean held;

    /**
     * From now on the reset at exit waits for {@link #done()} (if this is the JVM's log manager). The root
     * handlers are made now: java.util.logging makes them on the first record, and refuses to once the JVM
     * exits, so a node that logged nothing before SIGTERM would lose what it logs while it stops.
     */
    static void holdAtExit() {
        held = true;
        Logger.getLogger("").getHandlers();
    }

    /** The shutdown work {@link #holdAtExit()} announced is over: the reset at exit may go ahead. */
    static void done() {
        DONE.countDown();
    }

    @Override
    public void reset() {
        if (held && exiting()) {
            try {
                DONE.await(MAX_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        super.reset();
    }

    /** Whether the JVM is running its shutdown hooks: it refuses new ones then. */
    private static boolean exiting() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}

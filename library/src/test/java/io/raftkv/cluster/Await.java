package io.raftkv.cluster;

import org.opentest4j.AssertionFailedError;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline, checking it every millisecond; on timeout the test fails
 * with what it waited for and the last state seen. Never a fixed sleep.
 */
public final class Await {
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private Await() {}

    /** Waits until {@code condition} holds; {@code state} describes the world for the failure message. */
    public static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<?> state) {
        value(what, timeout, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty(), state);
    }

    /** Waits until {@code probe} finds a value, and returns it. */
    public static <T> T value(String what, Duration timeout, Supplier<Optional<T>> probe, Supplier<?> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> found = probe.get();
            if (found.isPresent()) return found.get();
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionFailedError("timed out after " + timeout.toMillis() + " ms waiting until " + what
                        + "; last seen: " + state.get());
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }
}

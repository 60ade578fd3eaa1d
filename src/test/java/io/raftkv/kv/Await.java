package io.raftkv.kv;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Waiting in tests on a condition another thread makes true: checked each millisecond until a deadline, then a failure saying what. */
final class Await {
    private Await() {}

    /** Returns once {@code condition} holds; fails with {@code what} and {@code state} if it has not within {@code within}. */
    static void until(String what, Duration within, BooleanSupplier condition, Supplier<?> state) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) fail("not within " + within + ": " + what + "; " + state.get());
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}

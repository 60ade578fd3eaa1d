package io.raftkv.client;

import java.time.Duration;
import java.util.Objects;

/** The check of a client's timeouts, the same for every client: present and positive. */
public final class Timeouts {
    private Timeouts() {}

    /**
     * {@code d} in nanoseconds.
     *
     * @param d    a timeout
     * @param name what it is called in the message
     * @return its nanoseconds
     * @throws NullPointerException     if it is null
     * @throws IllegalArgumentException if it is zero or negative
     */
    public static long positiveNanos(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(name + " must be positive, was " + d);
        return d.toNanos();
    }
}

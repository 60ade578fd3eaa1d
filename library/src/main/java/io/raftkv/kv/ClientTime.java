package io.raftkv.kv;

import java.util.function.BooleanSupplier;

/**
 * How a {@link KvClient} keeps time and waits, when not by the system's clock and the JDK's parking: a
 * deterministic simulation runs the production client on its own clock, one step at a time.
 */
interface ClientTime {
    /** Now, in nanoseconds on this clock's scale. */
    long nanoTime();

    /**
     * Returns once {@code answered} holds, or at {@code deadline} (this clock), having called {@code expire}
     * (which ends the attempt with no answer) if it still did not hold.
     */
    void await(long deadline, BooleanSupplier answered, Runnable expire) throws InterruptedException;

    /** Returns after {@code nanos} on this clock. */
    void pause(long nanos);

    /** A non-zero random number, for a registration's nonce. */
    long nonce();
}

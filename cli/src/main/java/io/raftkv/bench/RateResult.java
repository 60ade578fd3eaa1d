package io.raftkv.bench;

import java.util.Objects;
import java.util.Optional;

/**
 * What one rate of a harness sweep measured: latencies from each write's intended send time, the
 * rate really reached, and what went wrong.
 *
 * @param targetRate  the rate asked for, in writes per second
 * @param achievedRate measured writes that succeeded, per second, from the first measured write's
 *                    intended time to the end of the measured period or the last completion,
 *                    whichever is later
 * @param count       measured writes that succeeded (each one is in the latency histogram)
 * @param errors      measured writes whose {@code put} threw
 * @param warmupErrors writes of the warm-up whose {@code put} threw
 * @param unsent      measured writes never sent: the run stopped sending at its drain limit, so
 *                    the latencies, which leave these out, are lower bounds
 * @param latency     from intended send time to completion, nanoseconds
 * @param sendDelay   from intended send time to the call of {@code put}, nanoseconds: the
 *                    harness's own timer error when it keeps up, plus queueing when it does not
 * @param firstError  the first exception a write threw at this rate (warm-up included), if any
 */
public record RateResult(long targetRate, double achievedRate, long count, long errors, long warmupErrors,
                         long unsent, Percentiles latency, Percentiles sendDelay, Optional<String> firstError) {
    /** How far below its target a run may fall and still count as having reached it. */
    public static final double RATE_TOLERANCE = 0.05;

    public RateResult {
        Objects.requireNonNull(latency, "latency");
        Objects.requireNonNull(sendDelay, "sendDelay");
        Objects.requireNonNull(firstError, "firstError");
    }

    /** Whether every measured write was sent and the achieved rate is within 5% of the target. */
    public boolean reachedTarget() {
        return unsent == 0 && achievedRate >= targetRate * (1 - RATE_TOLERANCE);
    }

    /** Why these figures do not describe the target rate, if they do not; empty when they do. */
    public Optional<String> warning() {
        StringBuilder w = new StringBuilder();
        if (!reachedTarget()) {
            w.append(String.format("target rate NOT reached: %,d writes/s asked, %,.0f reached (%.0f%%)",
                    targetRate, achievedRate, 100 * achievedRate / targetRate));
            if (unsent > 0) {
                w.append(String.format("; %,d writes were never sent, so these latencies are lower bounds", unsent));
            } else {
                w.append("; latencies include the wait of writes queued behind the backlog");
            }
        }
        if (errors + warmupErrors > 0) {
            if (!w.isEmpty()) w.append("; ");
            w.append(String.format("%,d measured and %,d warm-up writes failed (first: %s)", errors, warmupErrors,
                    firstError.orElse("?")));
        }
        return w.isEmpty() ? Optional.empty() : Optional.of(w.toString());
    }
}

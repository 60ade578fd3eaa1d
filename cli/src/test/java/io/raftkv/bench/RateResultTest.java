package io.raftkv.bench;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When a rate counts as reached, and what the warning says when it does not. */
class RateResultTest {
    private static final Percentiles NONE = new Percentiles(0, 0, 0, 0, 0, 0);

    private static RateResult result(long target, double achieved, long errors, long unsent) {
        return new RateResult(target, achieved, 1000, errors, 0, unsent, NONE, NONE,
                errors > 0 ? Optional.of("java.lang.IllegalStateException: boom") : Optional.empty());
    }

    @Test
    void aRateWithinFivePercentOfItsTargetIsReachedAndHasNoWarning() {
        RateResult r = result(10_000, 9_500, 0, 0);
        assertTrue(r.reachedTarget());
        assertEquals(Optional.empty(), r.warning());
    }

    @Test
    void aRateMoreThanFivePercentShortIsNotReachedAndSaysByHowMuch() {
        RateResult r = result(10_000, 9_499, 0, 0);
        assertFalse(r.reachedTarget());
        String w = r.warning().orElseThrow();
        assertTrue(w.contains("10,000 writes/s asked, 9,499 reached (95%)"), w);
        assertTrue(w.contains("queued behind the backlog"), w);
    }

    @Test
    void writesNeverSentMeanTheTargetWasNotReachedAndTheLatenciesAreLowerBounds() {
        RateResult r = result(10_000, 10_000, 0, 1);
        assertFalse(r.reachedTarget());
        assertTrue(r.warning().orElseThrow().contains("1 writes were never sent, so these latencies are lower bounds"));
    }

    @Test
    void failedWritesAreWarnedAboutEvenAtTheTargetRate() {
        RateResult r = result(10_000, 10_000, 3, 0);
        assertTrue(r.reachedTarget());
        assertEquals("3 measured and 0 warm-up writes failed (first: java.lang.IllegalStateException: boom)",
                r.warning().orElseThrow());
    }
}

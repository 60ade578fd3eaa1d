package io.raftkv.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pacer never sends early, whatever it has learned about the timer. */
class PacerTest {
    @Test
    void neverReturnsBeforeTheIntendedTime() {
        Pacer pacer = new Pacer();
        for (long gap : new long[] {2_000_000, 300_000, 50_000, 5_000, 1_000_000, 0, -1_000_000}) {
            long deadline = System.nanoTime() + gap;
            pacer.awaitUntil(deadline);
            long now = System.nanoTime();
            assertTrue(now - deadline >= 0, "returned " + (deadline - now) + " ns early for a gap of " + gap + " ns");
        }
        assertTrue(pacer.margin() >= 0);
    }
}

package io.raftkv.transport.tcp;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The peer link's backoff: 10 ms doubling to 100 ms, back to 10 ms on reset, and a wait its caller can cut short. */
class BackoffTest {
    @Test
    void doublesFromTenToAHundredMillisecondsAndResets() {
        Backoff backoff = new Backoff();
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            millis.add(TimeUnit.NANOSECONDS.toMillis(backoff.nanos()));
            backoff.pause(this, () -> true); // cut short at once: only the growth is tested here
        }
        assertEquals(List.of(10L, 20L, 40L, 80L, 100L, 100L), millis);
        backoff.reset();
        assertEquals(TimeUnit.MILLISECONDS.toNanos(10), backoff.nanos());
    }

    @Test
    void waitsOutTheBackoffUnlessCutShort() {
        Backoff backoff = new Backoff();
        long start = System.nanoTime();
        backoff.pause(this, () -> false);
        assertTrue(System.nanoTime() - start >= Backoff.MIN_NANOS, "waited the whole 10 ms");

        for (int i = 0; i < 4; i++) backoff.pause(this, () -> true); // up to 100 ms
        int[] asked = {0};
        LockSupport.unpark(Thread.currentThread()); // the wake-up of whoever cuts the wait short, come early
        start = System.nanoTime();
        backoff.pause(this, () -> ++asked[0] > 1); // holds once the thread has been woken
        assertEquals(2, asked[0]);
        assertTrue(System.nanoTime() - start < Backoff.MAX_NANOS, "cut short once woken");
    }
}

package io.raftkv.bench;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The open-loop clock releases every slot, none before its time, and lets waiting workers go when stopped. */
class SlotClockTest {

    @Test
    void everySlotIsReleasedAndNoneBeforeItsIntendedTime() throws InterruptedException {
        // The harness's shape: 64 workers, 200,000/s for half a second. Many slots come due per timer tick, so
        // releases come in runs, and workers race ahead of one another (a lost wake-up hangs this test).
        int workers = 64;
        long total = 100_000;
        SlotClock clock = new SlotClock(System.nanoTime() + 1_000_000, 5_000, total, workers);
        AtomicLong nextSlot = new AtomicLong();
        AtomicLongArray releasedAt = new AtomicLongArray((int) total);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int worker = w;
            threads.add(Thread.ofVirtual().start(() -> {
                for (long s = nextSlot.getAndIncrement(); s < total; s = nextSlot.getAndIncrement()) {
                    clock.awaitRelease(worker, s);
                    releasedAt.set((int) s, System.nanoTime());
                }
            }));
        }
        Thread ticking = Thread.ofPlatform().daemon().start(clock);
        for (Thread t : threads) t.join();
        ticking.join();
        for (int s = 0; s < total; s++) {
            long early = clock.intendedTime(s) - releasedAt.get(s);
            assertTrue(releasedAt.get(s) != 0, "slot " + s + " was never released");
            assertTrue(early <= 0, "slot " + s + " was released " + early + " ns before its time");
        }
    }

    @Test
    void stoppingTheClockLetsAWaitingWorkerGo() throws InterruptedException {
        SlotClock clock = new SlotClock(System.nanoTime() + Duration.ofHours(1).toNanos(), 1_000, 10, 1);
        Thread waiter = Thread.ofVirtual().start(() -> clock.awaitRelease(0, 0));
        Thread ticking = Thread.ofPlatform().daemon().start(clock);
        // Stopping must also reach a clock already parked until the slot an hour away (it once did not).
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (ticking.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() - deadline < 0, "the clock never parked: " + ticking.getState());
            java.util.concurrent.locks.LockSupport.parkNanos(100_000); // a poll of the condition, not a spin
        }
        clock.stop();
        waiter.join(Duration.ofSeconds(30)); // a guard against a hang, not a timing: it returns at once
        ticking.join(Duration.ofSeconds(30));
        assertFalse(waiter.isAlive(), "the worker still waits for a slot an hour away");
        assertFalse(ticking.isAlive(), "the clock still runs");
    }

    @Test
    void anInterruptedWorkerStopsWaiting() throws InterruptedException {
        SlotClock clock = new SlotClock(System.nanoTime() + Duration.ofHours(1).toNanos(), 1_000, 10, 1);
        Thread waiter = Thread.ofVirtual().start(() -> clock.awaitRelease(0, 3));
        waiter.interrupt();
        waiter.join(Duration.ofSeconds(30));
        assertFalse(waiter.isAlive());
    }

    @Test
    void badArgumentsAreRefused() {
        assertEquals("periodNanos must be > 0, was 0.0",
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> new SlotClock(0, 0, 1, 1)).getMessage());
        assertEquals("workers must be >= 1, was 0",
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> new SlotClock(0, 1, 1, 0)).getMessage());
    }
}

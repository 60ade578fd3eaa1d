package io.raftkv.bench;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What one rate of the harness measures, against fake targets whose timing the test sets. Every
 * time assertion is a bound that a slower (loaded) machine can only push further the same way.
 */
class OpenLoopRunTest {
    private static final String[] KEYS = {"k0", "k1", "k2", "k3"};
    private static final long MS = 1_000_000;

    private static OpenLoopRun.Outcome run(CommitTarget target, long rate, Duration warmup, Duration duration,
                                           int clients) throws InterruptedException {
        List<CommitTarget.Writer> writers = new ArrayList<>();
        for (int i = 0; i < clients; i++) writers.add(target.newWriter());
        return new OpenLoopRun(rate, warmup, duration, writers, KEYS, "v").run();
    }

    @Test
    void aStallDelaysEveryWriteScheduledBehindItAndTheirLatencyShowsIt() throws InterruptedException {
        // 1,000 writes/s: 100 of warm-up, then 300 measured. The store pauses 50 ms at the 150th
        // call, in the measured part. A write meant to be sent j ms after the pause began cannot
        // finish before it ends, so measured from its intended time it takes at least 50 - j ms:
        // the ~40 writes scheduled in the first 40 ms of the pause all take 10 ms or more, though
        // the store served each of them at once once it resumed.
        FakeTarget target = FakeTarget.stallingAt(150, Duration.ofMillis(50));
        OpenLoopRun.Outcome outcome = run(target, 1_000, Duration.ofMillis(100), Duration.ofMillis(300), 4);
        RateResult r = outcome.result();
        Histogram latency = outcome.latency();

        assertEquals(300, r.count(), "every measured write sent and recorded");
        assertEquals(0, r.errors());
        assertEquals(0, r.unsent());
        assertTrue(r.latency().max() >= 50 * MS, "the stalled write itself: " + r.latency());
        long slow = latency.getCountBetweenValues(10 * MS, Long.MAX_VALUE / 2);
        // Timing service time alone, only the writes in flight when the pause began (at most 4,
        // one per client) would look slow; measured from the intended time, the queue behind them does.
        assertTrue(slow >= 39, "writes of 10 ms or more: " + slow + "; " + r.latency());
        assertTrue(r.latency().p90() >= 10 * MS, "over 10% of the 300 writes were queued behind the pause: " + r.latency());
        assertTrue(r.sendDelay().max() >= 10 * MS, "they were sent late, and the send delay shows it: " + r.sendDelay());
    }

    @Test
    void aTargetThatCannotKeepUpIsReportedWithTheRateItReachedAndAWarning() throws InterruptedException {
        // Two clients and 2 ms per write: at most 1,000 writes/s, far below the 5,000 asked for.
        FakeTarget target = FakeTarget.withServiceTime(Duration.ofMillis(2));
        RateResult r = run(target, 5_000, Duration.ZERO, Duration.ofMillis(200), 2).result();

        assertFalse(r.reachedTarget());
        assertTrue(r.achievedRate() <= 1_000 * 1.01, "two clients of 2 ms cannot exceed 1,000/s: " + r.achievedRate());
        assertTrue(r.achievedRate() > 0);
        assertTrue(r.unsent() > 0, "the backlog outlasts the drain limit, and what was never sent is counted");
        assertEquals(1_000, r.count() + r.unsent(), "every measured slot is either recorded or counted unsent");
        String warning = r.warning().orElseThrow();
        assertTrue(warning.contains("NOT reached") && warning.contains("lower bounds"), warning);
    }

    @Test
    void aTargetThatKeepsUpHasEveryScheduledWriteSentAndRecorded() throws InterruptedException {
        FakeTarget target = FakeTarget.instant();
        RateResult r = run(target, 200, Duration.ofMillis(50), Duration.ofMillis(500), 4).result();

        assertEquals(100, r.count());
        assertEquals(0, r.errors() + r.warmupErrors() + r.unsent());
        assertEquals(110, target.calls(), "10 warm-up writes and 100 measured, no more");
        // Only a loose bound: whether a loaded machine keeps within 5% is not this test's business.
        assertTrue(r.achievedRate() > 100, "achieved " + r.achievedRate());
        assertTrue(r.firstError().isEmpty());
    }

    @Test
    void failedWritesAreCountedAndReportedAndTheRunGoesOn() throws InterruptedException {
        // One client, so calls arrive in slot order: 50 warm-up (calls 0..49), 100 measured (50..149).
        FakeTarget target = FakeTarget.failingEvery(10);
        RateResult r = run(target, 500, Duration.ofMillis(100), Duration.ofMillis(200), 1).result();

        assertEquals(5, r.warmupErrors(), "calls 0, 10, 20, 30, 40");
        assertEquals(10, r.errors(), "calls 50, 60, ..., 140");
        assertEquals(90, r.count());
        assertEquals(0, r.unsent());
        assertEquals(150, target.calls(), "a failure stops nothing");
        assertTrue(r.firstError().orElseThrow().contains("injected failure of call 0"), r.firstError().toString());
        String warning = r.warning().orElseThrow();
        assertTrue(warning.contains("10 measured and 5 warm-up writes failed"), warning);
    }
}

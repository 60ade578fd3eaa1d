package io.raftkv.kv;

import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.cluster.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The timer that ends {@link KvClient} attempts past their deadline: its one look at the clients
 * ({@link AnswerTimeouts#expireOverdue(Iterable, long)}) driven by the test on a clock of its own, and the
 * JVM's timer thread seen from outside (it sleeps, and sleeps without a timeout when nothing waits).
 */
class AnswerTimeoutsTest {
    private static final long MS = 1_000_000L;
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    /**
     * A clock that stands still, and a wait that lasts until the attempt is answered or ended (by the test's
     * look); then the clock reads the attempt's deadline, as it would after a real wait.
     */
    static final class StillTime implements ClientTime {
        volatile long now;
        final Semaphore waiting = new Semaphore(0);
        /** Keeps the caller in its wait after an answer, until cleared. */
        volatile boolean held;

        StillTime(long now) {
            this.now = now;
        }

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void await(long deadline, BooleanSupplier answered, Runnable expire) {
            waiting.release();
            while (!answered.getAsBoolean() || held) LockSupport.park(this);
            now = deadline;
        }

        @Override
        public void pause(long nanos) {
            now += nanos;
        }

        @Override
        public long nonce() {
            return 1;
        }
    }

    /** A node that never answers by itself; the test may answer the last request it was sent. */
    static final class Silent implements KvConnector {
        volatile Consumer<KvResponse> reply;

        @Override
        public List<Integer> nodes() {
            return List.of(1);
        }

        @Override
        public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
            this.reply = reply;
        }
    }

    /** A client on its own clock calling get("k") on its own thread, and what the call came to. */
    static final class Caller {
        final StillTime time;
        final Silent node = new Silent();
        final KvClient client;
        final Thread thread;
        volatile Object outcome;

        /** Starts the call at {@code t0}, with an attempt timeout and a deadline of {@code millis}; returns once it waits. */
        Caller(long t0, long millis) throws InterruptedException {
            time = new StillTime(t0);
            client = new KvClient(node, KvLimits.DEFAULT, Duration.ofMillis(millis), Duration.ofMillis(millis), time);
            thread = Thread.ofPlatform().daemon().start(() -> {
                try {
                    outcome = client.get("k");
                } catch (Throwable e) {
                    outcome = e;
                }
            });
            assertTrue(time.waiting.tryAcquire(PATIENCE.toSeconds(), TimeUnit.SECONDS), "the call did not begin to wait");
        }

        WeakReference<KvClient> ref() {
            return new WeakReference<>(client);
        }

        boolean answered() {
            return client.inFlight().isAnswered();
        }

        /** Waits for the call to end; what it came to. */
        Object end() throws InterruptedException {
            assertTrue(thread.join(PATIENCE), "the call did not end");
            return outcome;
        }
    }

    // ---------------------------------------------------------------- one look

    /**
     * Without it an attempt would outlive its deadline (the call waits on a silent node for ever), one would
     * end early, or the timer would sleep past the earliest deadline it knows of. Both signs of the clock:
     * {@link System#nanoTime} may read negative.
     */
    @ParameterizedTest
    @ValueSource(longs = {1_000_000 * MS, -1_000_000 * MS})
    void endsTheAttemptsPastTheirDeadlineAndReturnsTheEarliestStillOpen(long t0) throws InterruptedException {
        Caller c = new Caller(t0, 30), a = new Caller(t0, 10), b = new Caller(t0, 20);
        List<WeakReference<KvClient>> clients = new ArrayList<>(List.of(c.ref(), a.ref(), b.ref()));
        try {
            assertEquals(t0 + 10 * MS, AnswerTimeouts.expireOverdue(clients, t0));
            assertFalse(a.answered() || b.answered() || c.answered(), "an attempt ended before its deadline");

            assertEquals(t0 + 30 * MS, AnswerTimeouts.expireOverdue(clients, t0 + 20 * MS), "b's deadline is now: it ends");
            assertEquals("GET k: no node confirmed it within 10 ms; nothing was read (last problem: node 1 did not answer"
                    + " within 10 ms)", assertInstanceOf(OutcomeUnknownException.class, a.end()).getMessage());
            assertInstanceOf(OutcomeUnknownException.class, b.end());
            assertFalse(c.answered());

            assertEquals(AnswerTimeouts.NONE, AnswerTimeouts.expireOverdue(clients, t0 + 30 * MS));
            assertInstanceOf(OutcomeUnknownException.class, c.end());
            assertEquals(3, clients.size(), "open clients stay watched");
        } finally {
            for (Caller x : List.of(a, b, c)) x.client.close();
        }
    }

    /**
     * Without it closed and collected clients would pile up in the JVM's list for ever (or trip the look), a
     * client with no call would be taken for one, and an answered attempt would keep the timer awake for its
     * deadline, or be ended as unanswered.
     */
    @Test
    void dropsClosedAndCollectedClientsAndPassesOverIdleOnesAndAnsweredAttempts() throws InterruptedException {
        long t0 = 5 * MS;
        KvClient closed = new KvClient(new Silent(), KvLimits.DEFAULT, Duration.ofSeconds(1), Duration.ofSeconds(1), new StillTime(t0));
        closed.close();
        KvClient idle = new KvClient(new Silent(), KvLimits.DEFAULT, Duration.ofSeconds(1), Duration.ofSeconds(1), new StillTime(t0));
        Caller answered = new Caller(t0, 10);
        answered.time.held = true;
        answered.node.reply.accept(new KvResponse.Ok("v")); // the answer is in; the caller has yet to take it
        List<WeakReference<KvClient>> clients = new ArrayList<>(List.of(new WeakReference<>(null), new WeakReference<>(closed),
                new WeakReference<>(idle), answered.ref()));
        try {
            assertEquals(AnswerTimeouts.NONE, AnswerTimeouts.expireOverdue(clients, t0));
            assertEquals(List.of(idle, answered.client), clients.stream().map(WeakReference::get).toList());
            assertEquals(AnswerTimeouts.NONE, AnswerTimeouts.expireOverdue(clients, t0 + 1_000 * MS));

            answered.time.held = false;
            LockSupport.unpark(answered.thread);
            assertEquals(Optional.of("v"), answered.end(), "the answer stands");
        } finally {
            idle.close();
            answered.client.close();
        }
    }

    // ---------------------------------------------------------------- the JVM's timer thread

    private static Thread timeoutsThread() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("raftkv-client-timeouts"))
                .findFirst().orElseThrow(() -> new AssertionError("no timeouts thread"));
    }

    /** Waits (bounded, polling each millisecond) until {@code t} parks in {@code state} on the timer's own blocker. */
    private static void awaitParked(Thread t, Thread.State state) {
        Await.until("the timeouts thread parks " + state, PATIENCE,
                () -> t.getState() == state && LockSupport.getBlocker(t) == AnswerTimeouts.class, () -> "it is " + t.getState());
    }

    /**
     * Without it a call that begins while the timer sleeps with nothing to watch would never time out; and an
     * idle process would keep a thread waking every 2 ms (or spinning) for nothing.
     */
    @Test
    void aCallThatBeginsWakesTheTimerAndOnceItEndsTheTimerSleepsWithoutATimeout() throws InterruptedException {
        KvClientTest.FakeCluster silent = new KvClientTest.FakeCluster(List.of(1), (node, r) -> null);
        try (KvClient client = KvClientTest.client(silent, 50, 50)) {
            Thread timer = timeoutsThread(); // it runs once a client exists
            awaitParked(timer, Thread.State.WAITING);
            assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            awaitParked(timer, Thread.State.WAITING);
        }
        assertEquals(1, silent.sent().size());
    }

    /** Without it the timer would spin through its look while a call waits, taking a core from the nodes. */
    @Test
    void whileACallWaitsTheTimerSleepsBetweenItsLooks() throws InterruptedException {
        KvClient client = KvClientTest.client(new KvClientTest.FakeCluster(List.of(1), (node, r) -> null), 60_000, 60_000);
        Object[] outcome = new Object[1];
        Thread caller = Thread.ofPlatform().daemon().start(() -> {
            try {
                outcome[0] = client.get("k");
            } catch (Throwable e) {
                outcome[0] = e;
            }
        });
        try {
            Await.until("the call begins to wait", PATIENCE, () -> client.inFlight() != null || !caller.isAlive(),
                    () -> "the call ended: " + outcome[0]);
            assertTrue(caller.isAlive(), "the call ended: " + outcome[0]);
            awaitParked(timeoutsThread(), Thread.State.TIMED_WAITING);
        } finally {
            client.close();
        }
        assertTrue(caller.join(PATIENCE));
        assertInstanceOf(OutcomeUnknownException.class, outcome[0]);
        assertNull(client.inFlight());
    }
}

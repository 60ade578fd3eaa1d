package io.raftkv.kv;

import java.lang.ref.WeakReference;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Ends the attempts of {@link KvClient}s that pass their deadline, so that a waiting client parks
 * without a timeout. One daemon thread for the JVM: while some call is in flight it wakes at the
 * earliest deadline it knows of, and at least every {@value #MAX_SLEEP_MILLIS} ms (a call that starts
 * meanwhile may have an earlier one); with none in flight it sleeps until a waiter wakes it. So an
 * attempt ends at most about that long after its deadline, and an idle process pays nothing.
 */
final class AnswerTimeouts {
    private static final long MAX_SLEEP_MILLIS = 2;
    private static final long MAX_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(MAX_SLEEP_MILLIS);
    /** What {@link #expireOverdue} returns when no attempt is pending. */
    static final long NONE = Long.MAX_VALUE;

    /** Clients that are not closed; weakly held, so that one dropped without close() does not stay forever. */
    private static final ConcurrentLinkedQueue<WeakReference<KvClient>> CLIENTS = new ConcurrentLinkedQueue<>();
    private static volatile boolean idle;
    private static volatile Thread thread;

    private AnswerTimeouts() {}

    static void register(KvClient client) {
        CLIENTS.add(new WeakReference<>(client));
        if (thread == null) start();
    }

    private static synchronized void start() {
        if (thread != null) return;
        thread = Thread.ofPlatform().daemon().name("raftkv-client-timeouts").start(AnswerTimeouts::run);
    }

    /** Called by a client about to wait: wakes the thread if it sleeps with nothing to watch. */
    static void watch() {
        if (idle) LockSupport.unpark(thread);
    }

    private static void run() {
        while (true) lookAndSleep();
    }

    /**
     * One pass of the thread: a look, then a sleep until the earliest deadline (or a waiter's wake-up). A method
     * of its own so that a class redefined while the thread runs (a mutation test's) takes effect at the next pass.
     */
    private static void lookAndSleep() {
        long earliest = expireOverdue();
        if (earliest == NONE) {
            idle = true;
            // A waiter that looked before `idle` was set has published its call by then: look once more.
            if (expireOverdue() == NONE) LockSupport.park(AnswerTimeouts.class);
            idle = false;
            return;
        }
        LockSupport.parkNanos(AnswerTimeouts.class, Math.min(earliest - System.nanoTime(), MAX_SLEEP_NANOS));
    }

    /** Ends every attempt past its deadline; returns the earliest deadline still pending, or {@link #NONE}. */
    private static long expireOverdue() {
        return expireOverdue(CLIENTS, System.nanoTime());
    }

    /**
     * Ends every attempt of {@code clients} past its deadline at {@code now} (on the clients' clock), and drops
     * the clients that are closed or collected; returns the earliest deadline still pending, or {@link #NONE}.
     * The timer thread's one look, apart from its clock and its list: a test drives it.
     */
    static long expireOverdue(Iterable<WeakReference<KvClient>> clients, long now) {
        long earliest = NONE;
        for (Iterator<WeakReference<KvClient>> it = clients.iterator(); it.hasNext(); ) {
            KvClient c = it.next().get();
            if (c == null || c.isClosed()) {
                it.remove();
                continue;
            }
            KvClient.PendingAnswer a = c.inFlight();
            if (a == null || a.isAnswered()) continue;
            if (now - a.deadline >= 0) a.expire();
            else if (earliest == NONE || a.deadline - earliest < 0) earliest = a.deadline;
        }
        return earliest;
    }
}

package io.raftkv.bench;

import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The floor under a commit's latency: handing an object from one virtual thread to another the way
 * raftkv's nodes do, through a JCTools {@code MpscUnboundedAtomicArrayQueue} inbox, waking the
 * receiver with {@code LockSupport.unpark} if it has parked. {@link #roundTrip} is one ping-pong: JMH's
 * worker (a virtual thread here: the fork runs with {@code -Djmh.executor=VIRTUAL}) puts a token in a
 * partner virtual thread's inbox and waits for it to come back through its own; two hand-offs.
 * {@code wait} is how a side waits for its inbox: {@code park} at once (a raftkv node's default),
 * {@code spin} (busy-poll, never park: the contrast, and what two free cores allow at best), or
 * {@code spin200ThenPark} (up to 200 polls, yielding every 16th, then park: a node with
 * {@code spinsBeforePark(200)}). {@link #offerPollSameThread} is the queue alone, one thread, no hand-off.
 *
 * <p>Run: <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="HandoffBenchmark"</pre>
 * (a {@code -jvmArgsAppend} on the command line would replace the virtual-thread executor; the
 * benchmark then refuses to run rather than time a platform thread).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Djmh.executor=VIRTUAL")
public class HandoffBenchmark {
    private static final Object TOKEN = new Object();
    private static final Object STOP = new Object();

    /** One thread's inbox, as a raftkv node has: many may offer, only its owner polls. */
    static final class Inbox {
        final MpscUnboundedAtomicArrayQueue<Object> queue = new MpscUnboundedAtomicArrayQueue<>(1024);
        volatile Thread owner;
        private volatile boolean parked;

        void send(Object item) {
            queue.offer(item);
            // As RaftNode.enqueue: the owner sets parked before its last look at the queue, we look at
            // parked after our offer, so one of us sees the other and no wake-up is lost.
            if (parked) LockSupport.unpark(owner);
        }

        /** The next item, waiting as {@code wait} says; called by the owner only. */
        Object take(String wait) {
            Object item = queue.poll();
            if (item != null) return item;
            switch (wait) {
                case "park" -> {
                    return parkUntilItem();
                }
                case "spin" -> {
                    for (int i = 1; ; i++) {
                        if ((item = queue.poll()) != null) return item;
                        // Only so that a machine with one carrier thread cannot starve the partner forever.
                        if ((i & 4095) == 0) Thread.yield(); else Thread.onSpinWait();
                    }
                }
                case "spin200ThenPark" -> {
                    for (int i = 0; i < 200; i++) {
                        if ((item = queue.poll()) != null) return item;
                        if ((i & 15) == 15) Thread.yield(); else Thread.onSpinWait();
                    }
                    return parkUntilItem();
                }
                default -> throw new IllegalArgumentException("unknown wait '" + wait
                        + "'; expected park, spin or spin200ThenPark");
            }
        }

        private Object parkUntilItem() {
            Object item;
            while ((item = queue.poll()) == null) {
                parked = true;
                if (queue.isEmpty()) LockSupport.park(this);
                parked = false;
            }
            return item;
        }
    }

    /** The worker's inbox and a partner virtual thread that sends back whatever reaches its own. */
    @State(Scope.Thread)
    public static class PingPong {
        @Param({"park", "spin", "spin200ThenPark"})
        String wait;

        final Inbox mine = new Inbox();
        final Inbox partners = new Inbox();
        private Thread partner;

        @Setup(Level.Trial)
        public void startPartner() {
            partner = Thread.ofVirtual().name("handoff-partner").unstarted(() -> {
                Object item;
                while ((item = partners.take(wait)) != STOP) mine.send(item);
            });
            partners.owner = partner;
            partner.start();
        }

        /** JMH's worker is the other side; (re)named here, on that thread, for each iteration. */
        @Setup(Level.Iteration)
        public void adoptWorker() {
            if (!Thread.currentThread().isVirtual()) {
                throw new IllegalStateException("HandoffBenchmark must run on a virtual thread (-Djmh.executor=VIRTUAL) "
                        + "but runs on " + Thread.currentThread() + "; was -jvmArgsAppend given on the command line?");
            }
            mine.owner = Thread.currentThread();
        }

        @TearDown(Level.Trial)
        public void stopPartner() throws InterruptedException {
            partners.send(STOP);
            if (!partner.join(Duration.ofSeconds(10))) throw new IllegalStateException("the partner thread did not stop");
        }
    }

    /** One hand-off to the partner and one back: two inbox offers, two polls and, when parked, two wake-ups. */
    @Benchmark
    public Object roundTrip(PingPong p) {
        p.partners.send(TOKEN);
        return p.mine.take(p.wait);
    }

    /** A queue on its own, in one thread: one offer and one poll. */
    @State(Scope.Thread)
    public static class LoneQueue {
        final MpscUnboundedAtomicArrayQueue<Object> queue = new MpscUnboundedAtomicArrayQueue<>(1024);
    }

    @Benchmark
    public Object offerPollSameThread(LoneQueue q) {
        q.queue.offer(TOKEN);
        return q.queue.poll();
    }
}

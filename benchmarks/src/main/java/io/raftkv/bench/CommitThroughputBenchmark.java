package io.raftkv.bench;

import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Committed puts per second with {@code clients} concurrent clients, each a virtual thread with its
 * own {@link CommitTarget.Writer}, putting {@code valueBytes} values back to back (keys cycle through
 * {@code "k" + (i & 1023)}), for raftkv (embedded cluster, memory storage) and MicroRaft 0.7.
 *
 * <p><b>Read {@code :puts}, not the primary score.</b> The clients are not JMH threads: 256 platform
 * threads, each woken through the OS for every answer, would measure the kernel's scheduler, not the
 * store. So the store and its clients are started for each iteration ({@code @Setup(Level.Iteration)},
 * which returns once every client has committed its first put, session opened) and run on their own
 * the whole time; JMH's one thread only samples them. Each call of {@link #sample} parks about 1 ms
 * and then adds the puts (and errors) completed since its previous call to {@link Counts}, an
 * {@code @AuxCounters(OPERATIONS)} state: JMH divides those by the same measured time as the primary
 * score, so {@code :puts} is committed puts per second over exactly the measured window (give or
 * take one sample), and {@code :errors} is exceptions thrown by {@code put} per second in that window.
 * The primary score is only the sampling rate (about 1,000 calls/s). Each iteration also prints its
 * totals and the first error, if any. The store and clients are stopped (clients finish the put in
 * hand, then the store closes) after each iteration, outside the measured time. With {@code -prof gc},
 * {@code gc.alloc.rate.norm} is per sample, not per put: divide {@code gc.alloc.rate} by {@code :puts}
 * for bytes per put (the whole JVM's allocation: clients and every node).
 *
 * <p>Run the whole matrix (8 settings, about 2 minutes):
 * <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="CommitThroughputBenchmark"</pre>
 * One setting: {@code -Djmh.args="CommitThroughputBenchmark -p system=raftkv -p clients=64"}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@Threads(1)
public class CommitThroughputBenchmark {
    private static final long SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** How long stopping clients may take to finish their put in hand (a put gives up after 5 s). */
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);

    /** The store and its clients, started and stopped with every iteration. */
    @State(Scope.Benchmark)
    public static class Load {
        @Param({"1", "8", "64", "256"})
        int clients;

        @Param({"raftkv", "microraft"})
        String system;

        @Param({"3"})
        int nodes;

        @Param({"128"})
        int valueBytes;

        final LongAdder puts = new LongAdder();
        final LongAdder errors = new LongAdder();
        private final LongAdder failedAfterStop = new LongAdder();
        private final AtomicReference<Throwable> firstError = new AtomicReference<>();
        private final String[] keys = CommitTargets.keys();
        private volatile boolean running;
        private CommitTarget target;
        private List<Thread> threads;
        private long startNanos;

        @Setup(Level.Iteration)
        public void start() throws InterruptedException {
            puts.reset();
            errors.reset();
            failedAfterStop.reset();
            firstError.set(null);
            String value = CommitTargets.value(valueBytes);
            target = CommitTargets.open(system, nodes, 0);
            List<CommitTarget.Writer> writers = new ArrayList<>(clients);
            for (int i = 0; i < clients; i++) writers.add(target.newWriter());
            CountDownLatch firstPutDone = new CountDownLatch(clients);
            running = true;
            threads = new ArrayList<>(clients);
            for (int i = 0; i < clients; i++) {
                CommitTarget.Writer writer = writers.get(i);
                int first = i;
                threads.add(Thread.ofVirtual().name("bench-client-" + i).start(() -> {
                    int n = first;
                    boolean counted = false;
                    while (running) {
                        try {
                            writer.put(keys[n++ & 1023], value);
                            puts.increment();
                        } catch (RuntimeException e) {
                            if (!running) {
                                // The store was closed under a put still in hand after the stop (see halt).
                                failedAfterStop.increment();
                                break;
                            }
                            errors.increment();
                            firstError.compareAndSet(null, e);
                        }
                        if (!counted) {
                            counted = true;
                            firstPutDone.countDown();
                        }
                    }
                }));
            }
            // The first put of a raftkv client opens its session (one more log entry): keep that out of the measurement.
            if (!firstPutDone.await(30, TimeUnit.SECONDS)) {
                IllegalStateException e = new IllegalStateException(firstPutDone.getCount() + " of " + clients + " "
                        + system + " clients had not finished a first put after 30 s; errors so far: " + errors.sum(),
                        firstError.get());
                halt();
                throw e;
            }
            startNanos = System.nanoTime();
        }

        /** Stops the clients and closes the store; returns whether some client was still in a put after STOP_WAIT. */
        private boolean halt() throws InterruptedException {
            running = false;
            boolean stuck = false;
            for (Thread t : threads) {
                if (!t.join(STOP_WAIT)) stuck = true;
            }
            // Closing the store fails any put still waiting, so every client ends.
            target.close();
            for (Thread t : threads) t.join(STOP_WAIT);
            target = null;
            threads = null;
            return stuck;
        }

        @TearDown(Level.Iteration)
        public void stop(IterationParams iteration) throws InterruptedException {
            long ranNanos = System.nanoTime() - startNanos;
            running = false;
            // Read before the stop: a put that fails because the store closes under it is not the store's error.
            long donePuts = puts.sum();
            long doneErrors = errors.sum();
            boolean stuck = halt();
            double seconds = ranNanos / 1e9;
            System.out.printf("%n  [%s %s, %d clients] since all clients were up: %,d puts, %,d errors in %.2f s "
                            + "(%,.0f puts/s; mean put latency by Little's law %.1f us)%s%n",
                    iteration.getType().toString().toLowerCase(), system, clients, donePuts, doneErrors, seconds,
                    donePuts / seconds, clients / (donePuts / seconds) * 1e6,
                    stuck ? "; some clients were still in a put " + STOP_WAIT + " after the stop, and "
                            + failedAfterStop.sum() + " failed when the store closed" : "");
            Throwable e = firstError.get();
            if (e != null) {
                System.out.println("  first error: " + e);
                e.printStackTrace(System.out);
            }
        }
    }

    /**
     * What {@link #sample} saw complete during the measured time; JMH reports each field as a rate
     * per second of that time. Reset for every iteration, as JMH requires of aux counters.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counts {
        /** Puts that returned normally: committed and applied. */
        public long puts;
        /** Puts that threw. */
        public long errors;

        private long seenPuts;
        private long seenErrors;

        /** Runs after {@link Load#start} (JMH sets states up in dependency order), just before the measured loop. */
        @Setup(Level.Iteration)
        public void reset(Load load) {
            puts = 0;
            errors = 0;
            seenPuts = load.puts.sum();
            seenErrors = load.errors.sum();
        }

        void observe(Load load) {
            long p = load.puts.sum();
            long e = load.errors.sum();
            puts += p - seenPuts;
            errors += e - seenErrors;
            seenPuts = p;
            seenErrors = e;
        }
    }

    /** Waits about 1 ms while the clients work, then counts what they completed; its own score is just the sampling rate. */
    @Benchmark
    public void sample(Load load, Counts counts) {
        LockSupport.parkNanos(SAMPLE_NANOS);
        counts.observe(load);
    }
}

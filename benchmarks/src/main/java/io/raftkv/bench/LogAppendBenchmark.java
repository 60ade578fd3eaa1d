package io.raftkv.bench;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.storage.MemoryStorage;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The cost of appending a batch of {@code batch} entries of 128 bytes to a node's log, in one thread,
 * through the public API (scores are per batch: divide by {@code batch} for per entry):
 * <ul>
 *   <li>{@link #memoryStoragePersist}: {@code MemoryStorage.persist(hardState, entries)}, what a node's
 *       worker calls for each ready batch (entries made beforehand, so only the store is timed);</li>
 *   <li>{@link #coreAppendAndCommit}: a one-voter {@link RaftCore} leader takes {@code batch}
 *       proposals and hands out its ready batches until it is quiet: the {@code RaftLog} appends (its
 *       {@code append} is package-private, so {@code RaftCore.propose} is the public way in), the
 *       {@code Entry} objects, the copies of unstable and committed entries, the {@code Ready} and
 *       the commit; no storage, no messages (one voter).</li>
 * </ul>
 * Both logs keep every entry in memory, as raftkv's do until compaction exists; each starts afresh
 * once it holds {@code window} entries, and that restart (with the ArrayList growth it brings) is
 * amortized into the score. {@code window} decides what is measured: with 4096 the entries die
 * young and the score is the append itself; with 1048576 they live through young collections and
 * the score adds what the garbage collector pays to copy and promote a growing log, which is what a
 * raftkv node pays today. Compare the two rather than read either alone; {@code -prof gc} shows the
 * GC time.
 *
 * <p>Run: <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="LogAppendBenchmark -prof gc"</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class LogAppendBenchmark {
    private static final int VALUE_BYTES = 128;

    /** A memory store and ready-made batches that fill indexes 1..window in turn. */
    @State(Scope.Thread)
    public static class Store {
        @Param({"1", "16", "128"})
        int batch;

        /** Entries the store holds before it starts afresh. */
        @Param({"4096", "1048576"})
        int window;

        private final List<List<Entry>> batches = new ArrayList<>();
        private HardState[] hardStates;
        private MemoryStorage storage;
        private int next;

        @Setup(Level.Trial)
        public void makeBatches() {
            byte[] data = new byte[VALUE_BYTES];
            if (window < batch) throw new IllegalArgumentException("window (" + window + ") must hold at least one batch (" + batch + ")");
            int count = window / batch;
            hardStates = new HardState[count];
            for (int b = 0; b < count; b++) {
                List<Entry> entries = new ArrayList<>(batch); // a Ready's entries are an ArrayList too
                for (int i = 0; i < batch; i++) entries.add(new Entry((long) b * batch + i + 1, 1, Entry.Kind.COMMAND, data));
                batches.add(entries);
                hardStates[b] = new HardState(1, 1, (long) b * batch); // the commit trails the append, as on a leader
            }
            storage = new MemoryStorage();
        }
    }

    @Benchmark
    public MemoryStorage memoryStoragePersist(Store s) {
        if (s.next == s.hardStates.length) {
            s.next = 0;
            s.storage = new MemoryStorage();
        }
        s.storage.persist(s.hardStates[s.next], s.batches.get(s.next));
        s.next++;
        return s.storage;
    }

    /** A one-voter raftkv core that leads, and the command it proposes. */
    @State(Scope.Thread)
    public static class Core {
        @Param({"1", "16", "128"})
        int batch;

        /** Entries the core's log holds before it starts afresh. */
        @Param({"4096", "1048576"})
        int window;

        private final byte[] command = new byte[VALUE_BYTES];
        private RaftCore core;

        @Setup(Level.Trial)
        public void start() {
            core = newLeader();
        }

        static RaftCore newLeader() {
            RaftCore c = new RaftCore(RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build(),
                    HardState.INITIAL, List.of());
            c.campaign();
            for (int i = 0; i < 10 && c.role() != Role.LEADER; i++) {
                while (c.hasReady()) c.advance(c.ready());
            }
            if (c.role() != Role.LEADER) throw new IllegalStateException("a one-voter core did not lead after campaign: " + c);
            while (c.hasReady()) c.advance(c.ready());
            return c;
        }
    }

    @Benchmark
    public void coreAppendAndCommit(Core c, Blackhole bh) {
        RaftCore core = c.core;
        if (core.log().lastIndex() > c.window) core = c.core = Core.newLeader();
        long index = 0;
        for (int i = 0; i < c.batch; i++) index = core.propose(c.command);
        while (core.hasReady()) {
            Ready r = core.ready();
            bh.consume(r);
            core.advance(r);
        }
        if (core.commitIndex() < index) throw new IllegalStateException("entry " + index + " did not commit on a one-voter leader");
    }
}

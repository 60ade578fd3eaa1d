package io.raftkv.bench;

import io.raftkv.raft.HardState;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
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

import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The CPU cost of the pure core's commit path, with no threads, queues or storage: a proposal on the
 * leader, its appends delivered, acknowledged and committed on every node, in one thread. It is the
 * floor under any runtime's commit latency. The cluster is rebuilt for each iteration: the core keeps
 * its whole log in memory until compaction exists, and a log of millions of entries would measure the
 * garbage collector instead.
 */
@BenchmarkMode({Mode.AverageTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class CoreCommitBenchmark {
    @Param({"3", "5"})
    int nodes;

    @Param({"128"})
    int valueBytes;

    private RaftCore[] cores;
    private RaftCore leader;
    private byte[] value;
    private final ArrayDeque<Message> wire = new ArrayDeque<>();

    @Setup(Level.Iteration)
    public void setUp() {
        Set<Integer> voters = new TreeSet<>();
        for (int i = 1; i <= nodes; i++) voters.add(i);
        cores = new RaftCore[nodes + 1];
        for (int i = 1; i <= nodes; i++) {
            RaftConfig config = RaftConfig.builder(i, voters, new SplittableRandom(i)).build();
            cores[i] = new RaftCore(config, HardState.INITIAL, List.of());
        }
        while (leaderOrNull() == null) {
            for (int i = 1; i <= nodes; i++) cores[i].tick();
            pump();
        }
        leader = leaderOrNull();
        value = new byte[valueBytes];
    }

    private RaftCore leaderOrNull() {
        for (int i = 1; i <= nodes; i++) if (cores[i].role() == Role.LEADER) return cores[i];
        return null;
    }

    /** Hands every ready out (storage is instant) and delivers messages until the cluster is quiet. */
    private void pump() {
        boolean busy = true;
        while (busy) {
            busy = false;
            for (int i = 1; i <= nodes; i++) {
                RaftCore c = cores[i];
                while (c.hasReady()) {
                    busy = true;
                    Ready r = c.ready();
                    wire.addAll(r.messages());
                    wire.addAll(r.messagesAfterPersist());
                    c.advance(r);
                }
            }
            Message m;
            while ((m = wire.poll()) != null) {
                busy = true;
                cores[m.to()].step(m);
            }
        }
    }

    @Benchmark
    public long proposeAndCommit() {
        long index = leader.propose(value);
        pump();
        if (leader.commitIndex() < index) throw new IllegalStateException("proposal " + index + " did not commit");
        return index;
    }
}

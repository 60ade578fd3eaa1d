package io.raftkv.node;

import io.raftkv.raft.RaftConfig;
import io.raftkv.storage.Storage;
import io.raftkv.transport.MessageSink;
import io.raftkv.transport.Transport;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Runs the production {@link RaftNode} on a simulation's schedule: a node that is never started, whose passes
 * the caller makes one at a time on its own thread, with time read from the simulation's clock and snapshots of
 * a frozen state written at once, on the caller's thread.
 */
public final class NodeDriver {
    private NodeDriver() {}

    public static RaftNode create(RaftConfig config, Storage storage, Function<MessageSink, Transport> connect,
                                  StateMachine stateMachine, Duration tickInterval, LongSupplier clock,
                                  SnapshotPolicy policy) {
        RaftNode node = RaftNode.builder(config, storage, stateMachine).transport(connect).tickInterval(tickInterval).threads(Thread.ofPlatform()::unstarted).clock(clock).snapshotWriters(Runnable::run).build();
        return node.snapshotPolicy(policy);
    }

    /** One pass, after a tick if {@code tick}; false once the node has stopped (see {@link RaftNode#failure()}). */
    public static boolean step(RaftNode node, boolean tick) {
        return node.step(tick);
    }

    /** Whether a pass would find something to do. */
    public static boolean hasWork(RaftNode node) {
        return node.hasWork();
    }
}

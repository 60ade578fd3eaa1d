package io.raftkv.node;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The application a node replicates. Its methods are called on the node's own thread, one at a time
 * (but for a {@link Frozen} copy's), so an implementation needs no locks; they must not block.
 */
public interface StateMachine {
    /**
     * Applies a committed command and returns the answer for whoever proposed it. Every replica applies
     * the same commands in the same order, so the state machine must be deterministic: the same state and
     * command give the same result and the same new state. A {@link RuntimeException} thrown here is part
     * of that output: the node answers the proposer with a {@link CommandFailure} holding it and goes on
     * with the next entry, so the state must then be as deterministic as after a normal return (best:
     * unchanged). An {@link Error} stops the node.
     */
    Object apply(long index, byte[] command);

    /**
     * Answers a read; called only once the read is linearizable: confirmed by the leader (ReadIndex, or its
     * lease), and everything committed before it applied here, on the leader or on a follower.
     */
    Object query(Object query);

    /** Whether {@link #snapshot} and {@link #restore} work; a node never snapshots a machine that says no. */
    default boolean canSnapshot() {
        return false;
    }

    /**
     * Writes the whole state, as of the last command applied, so that {@link #restore} rebuilds it: what a
     * snapshot holds, letting the log before it be dropped. Machines that cannot be snapshotted keep the
     * default, which refuses.
     */
    default void snapshot(OutputStream out) throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " cannot be snapshotted");
    }

    /**
     * A copy of the whole state as of the last command applied, frozen, which writes what {@link #snapshot}
     * would have written from another thread while this machine goes on applying: then the node's thread
     * does not wait for a snapshot to be written, only for the copy. Return null (the default) to have
     * {@link #snapshot} called on the node's thread instead. Called on the node's thread.
     */
    default Frozen freeze() {
        return null;
    }

    /** A state machine's state frozen by {@link #freeze()}; written once, on a thread other than the node's. */
    interface Frozen {
        /** Writes the frozen state in {@link #snapshot}'s format. */
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Replaces the whole state with one that {@link #snapshot} wrote.
     *
     * @throws IOException if the bytes are not such a snapshot (damaged, cut short, another format); the
     *     state is then left as it was
     */
    default void restore(InputStream in) throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " cannot be restored from a snapshot");
    }
}

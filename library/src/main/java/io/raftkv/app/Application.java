package io.raftkv.app;

import io.raftkv.client.CommandFailedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Your replicated state machine: the state every node keeps a copy of, changed only by commands that
 * the cluster has agreed on, in the same order everywhere. A node calls its methods on its own thread,
 * one at a time (but a {@link Frozen} copy's), so an implementation needs no locks; none may block.
 * {@link AppSpec} names it, with the codecs of its commands, queries and answers, to a cluster and its
 * clients. The cluster keeps each client's session beside it, so a command that a client retries is
 * applied once, and the retry gets the first answer.
 *
 * @param <C> the commands, which change the state
 * @param <Q> the queries, which read it
 * @param <R> the answers to both
 */
public interface Application<C, Q, R> {
    /**
     * Applies a committed command and returns its answer. It must be deterministic: the same state and
     * command give the same answer and the same new state on every node. A {@link RuntimeException}
     * thrown here is the command's answer too: the client gets a {@link CommandFailedException} with its
     * message, and the state must be as deterministic as after a normal return (best: unchanged).
     */
    R apply(C command);

    /**
     * Answers a query, without changing the state. Called once the query is linearizable: the leader has
     * confirmed it (a majority answered it, or the leader's lease holds; a follower asks the leader), and this
     * node has applied every command committed before the query came. A
     * {@link RuntimeException} thrown here reaches the client as a {@link CommandFailedException}.
     */
    R query(Q query);

    /**
     * Whether {@link #snapshot} and {@link #restore} work (default false). A node snapshots only a machine
     * that says yes; one that says no keeps its whole log, and a node that falls behind catches up
     * through the log alone.
     */
    default boolean canSnapshot() {
        return false;
    }

    /**
     * Writes the whole state, as of the last command applied, so that {@link #restore} rebuilds it. Do not
     * close {@code out}.
     */
    default void snapshot(OutputStream out) throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " cannot be snapshotted");
    }

    /**
     * A point-in-time copy of the state, which writes what {@link #snapshot} would have written, from
     * another thread, while this machine goes on applying commands: then the node does not stop
     * committing while a snapshot is written, only while the copy is taken. Return null (the default) to
     * have {@link #snapshot} called on the node's thread instead.
     */
    default Frozen freeze() {
        return null;
    }

    /** A state frozen by {@link #freeze()}, written once, on a thread other than the node's. */
    interface Frozen {
        /** Writes the frozen state in {@link #snapshot}'s format; do not close {@code out}. */
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Replaces the whole state with one that {@link #snapshot} wrote.
     *
     * @throws IOException if the bytes are not such a snapshot; the state must then be left as it was
     */
    default void restore(InputStream in) throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " cannot be restored from a snapshot");
    }
}

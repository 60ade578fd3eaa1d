package io.raftkv.node;

/**
 * The application a node replicates. Both methods are called on the node's own thread, one at a
 * time, so an implementation needs no locks; they must not block.
 */
public interface StateMachine {
    /** Applies a committed command and returns the answer for whoever proposed it. */
    Object apply(long index, byte[] command);

    /** Answers a read; called only once the read is linearizable (ReadIndex confirmed and applied). */
    Object query(Object query);
}

package io.raftkv.transport;

import io.raftkv.raft.Message;

/**
 * How one node sends Raft messages to the others. Delivery is best effort: a message may be lost,
 * and Raft retries. {@link #send} must not block the caller, and is called by one thread, the
 * node's own.
 */
public interface Transport extends AutoCloseable {
    void send(Message message);

    /** Stops sending; later messages are dropped. */
    @Override
    void close();
}

package io.raftkv.transport;

import io.raftkv.raft.Message;

/** Where a node takes delivery of messages: must not block, and may be called from any thread. */
@FunctionalInterface
public interface MessageSink {
    void deliver(Message message);
}

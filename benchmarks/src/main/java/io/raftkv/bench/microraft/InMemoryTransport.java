package io.raftkv.bench.microraft;

import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Delivers MicroRaft messages between nodes of one JVM by handing each message object to the target
 * node, with no copy and no serialization, the way MicroRaft's own test transport does.
 */
final class InMemoryTransport implements Transport {
    // Filled by the thread that builds the group, read by every node's thread: a concurrent map
    // publishes the entries safely.
    private final Map<RaftEndpoint, RaftNode> nodes = new ConcurrentHashMap<>();

    void register(RaftNode node) {
        nodes.put(node.getLocalEndpoint(), node);
    }

    @Override
    public void send(RaftEndpoint target, RaftMessage message) {
        RaftNode node = nodes.get(target);
        // handle() only queues a task on the target's executor, so the sender never runs the
        // target's code and never blocks, which MicroRaft requires of a transport.
        if (node != null) {
            node.handle(message);
        }
    }

    @Override
    public boolean isReachable(RaftEndpoint endpoint) {
        return nodes.containsKey(endpoint);
    }
}

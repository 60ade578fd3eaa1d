package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;
import io.raftkv.transport.MessageSink;

import java.lang.System.Logger.Level;

/**
 * Where the messages that arrive on peers' connections go: to the node's sink, unless the link filter
 * cuts their peer off or their peer is no longer one (it left the configuration: a removed server that
 * never learnt of its removal would otherwise disrupt the others with its elections, thesis §4.2.3), or they
 * are misaddressed (their {@code to} is not this node, or their {@code from}
 * not the peer whose connection they came on), both counted. Called by whichever thread reads the
 * connection: its reader, or the node's own when it polls.
 */
final class Inbox {
    /** The transport's parts log under its name, the one the docs give. */
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());

    private final TransportState state;
    private final int selfId;
    private final MessageSink sink;

    Inbox(TransportState state, MessageSink sink) {
        this.state = state;
        this.selfId = state.selfId;
        this.sink = sink;
    }

    /** Hands a message that came on {@code peer}'s connection to the sink, unless its link is cut or it is misaddressed. */
    void take(Message m, int peer) {
        if (!state.linked.linked(peer, selfId) || !state.peers.containsKey(peer)) {
            state.cut.incrementAndGet();
            return;
        }
        if (m.to() != selfId || m.from() != peer) {
            state.misaddressed.incrementAndGet();
            LOG.log(Level.WARNING, () -> "node " + selfId + " dropped a " + m.getClass().getSimpleName() + " from "
                    + m.from() + " to " + m.to() + " that came on node " + peer + "'s connection");
            return;
        }
        try {
            sink.deliver(m);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "node " + selfId + ": its sink failed on a message from node " + peer, e);
        }
    }
}

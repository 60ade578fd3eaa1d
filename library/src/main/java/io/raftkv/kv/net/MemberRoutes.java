package io.raftkv.kv.net;

import io.raftkv.raft.Configuration;
import io.raftkv.transport.tcp.TcpTransport;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Objects;

/**
 * Keeps a socket-mode node's transport on the members of its configuration: each member is a peer at the address
 * its context names (else at the one the node was started with), and a node that leaves the configuration stops
 * being one. Runs on the node's thread, told of each configuration before anything is sent under it.
 */
final class MemberRoutes {
    private static final System.Logger LOG = System.getLogger(MemberRoutes.class.getName());

    private final int self;
    /** The addresses the node was started with: those of members whose configuration entry carries none. */
    private final Map<Integer, InetSocketAddress> given;
    private TcpTransport transport;
    /** A configuration that came before the transport was up, to follow once it is. */
    private Configuration waiting;

    MemberRoutes(int self, Map<Integer, InetSocketAddress> given) {
        this.self = self;
        this.given = Map.copyOf(given);
    }

    /** The transport to keep on the members, once started. */
    synchronized void attach(TcpTransport t) {
        transport = Objects.requireNonNull(t, "transport");
        if (waiting != null) follow(waiting);
    }

    /** Makes the transport's peers the members of {@code c}. */
    synchronized void follow(Configuration c) {
        if (transport == null) {
            waiting = c;
            return;
        }
        waiting = null;
        for (int member : c.members()) {
            if (member == self) continue;
            InetSocketAddress address = addressOf(c, member);
            if (address != null) transport.setPeer(member, address);
        }
        for (int peer : transport.peers().keySet()) {
            if (peer != self && !c.contains(peer)) transport.removePeer(peer);
        }
    }

    /** The transport's peers now (this node's own address included); the given addresses before it started. */
    synchronized Map<Integer, InetSocketAddress> peers() {
        return transport == null ? given : transport.peers();
    }

    private InetSocketAddress addressOf(Configuration c, int member) {
        String context = c.context(member);
        if (context != null) {
            try {
                return MemberAddress.parse(context);
            } catch (IllegalArgumentException e) {
                LOG.log(Level.WARNING, () -> "node " + self + " cannot reach member " + member + ": " + e.getMessage());
            }
        }
        InetSocketAddress known = given.get(member);
        if (known == null) {
            LOG.log(Level.WARNING, () -> "node " + self + " knows no address of member " + member + " (configuration " + c + ")");
        }
        return known;
    }
}

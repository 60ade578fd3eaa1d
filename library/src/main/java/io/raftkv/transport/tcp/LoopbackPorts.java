package io.raftkv.transport.tcp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Free ports on 127.0.0.1 for nodes that are about to listen there: an embedded TCP cluster, tests and
 * benchmarks. Each port is found by binding port 0, all are held at once (so they differ), then let go for
 * the nodes to bind; another process could take one in between, and the node that then cannot listen
 * says so.
 */
public final class LoopbackPorts {
    private LoopbackPorts() {}

    /** One free loopback address for each of {@code ids}. */
    public static Map<Integer, InetSocketAddress> reserve(Iterable<Integer> ids) {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        List<ServerSocket> held = new ArrayList<>();
        Map<Integer, InetSocketAddress> out = new TreeMap<>();
        try {
            for (int id : ids) {
                ServerSocket s = new ServerSocket(0, 50, loopback);
                held.add(s);
                out.put(id, new InetSocketAddress(loopback, s.getLocalPort()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not find free ports on " + loopback + " for nodes " + ids, e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // Only a probe.
                }
            }
        }
        return out;
    }

    /** Free loopback addresses for nodes 1 to {@code n}. */
    public static Map<Integer, InetSocketAddress> reserve(int n) {
        List<Integer> ids = new ArrayList<>();
        for (int id = 1; id <= n; id++) ids.add(id);
        return reserve(ids);
    }
}

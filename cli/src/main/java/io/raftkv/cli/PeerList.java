package io.raftkv.cli;

import picocli.CommandLine;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code --peers} value: {@code 1=host:port,2=host:port,...}, every node of the cluster with its
 * address (IPv6 hosts in brackets: {@code 3=[::1]:7003}). Parsed strictly: each mistake is named.
 */
record PeerList(Map<Integer, InetSocketAddress> addresses) {
    PeerList {
        addresses = Collections.unmodifiableMap(new TreeMap<>(addresses));
    }

    /** Picocli's converter, so that a bad value is reported as a usage error naming the option. */
    static final class Converter implements CommandLine.ITypeConverter<PeerList> {
        @Override
        public PeerList convert(String value) {
            return parse(value);
        }
    }

    static PeerList parse(String value) {
        if (value == null || value.isBlank()) throw new IllegalArgumentException("empty; expected 1=host:port,2=host:port,...");
        Map<Integer, InetSocketAddress> out = new LinkedHashMap<>();
        for (String part : value.split(",", -1)) {
            String p = part.strip();
            int eq = p.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("'" + p + "' is not ID=HOST:PORT");
            int id;
            try {
                id = Integer.parseInt(p.substring(0, eq).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + p + "': the node id must be a number from 1 to 99");
            }
            if (id < 1 || id > 99) throw new IllegalArgumentException("'" + p + "': node id " + id + " is not between 1 and 99");
            String hostPort = p.substring(eq + 1).strip();
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || colon == hostPort.length() - 1) {
                throw new IllegalArgumentException("'" + p + "': expected HOST:PORT after '='");
            }
            String host = hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + p + "': the port must be a number from 1 to 65535");
            }
            if (port < 1 || port > 65535) throw new IllegalArgumentException("'" + p + "': port " + port + " is not between 1 and 65535");
            if (out.containsKey(id)) throw new IllegalArgumentException("node " + id + " is listed twice");
            for (var e : out.entrySet()) {
                if (e.getValue().getHostString().equalsIgnoreCase(host) && e.getValue().getPort() == port) {
                    throw new IllegalArgumentException("nodes " + e.getKey() + " and " + id + " have the same address "
                            + hostPort);
                }
            }
            // Resolved now if it can be, and again at every dial: a host that does not resolve yet may later.
            out.put(id, new InetSocketAddress(host, port));
        }
        return new PeerList(out);
    }
}

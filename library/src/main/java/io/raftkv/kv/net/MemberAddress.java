package io.raftkv.kv.net;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A member's address as its configuration context holds it, {@code host:port} ({@code [v6]:port} for an IPv6
 * literal): how every node of a socket-mode cluster learns, from the log, where a member listens.
 */
public final class MemberAddress {
    private MemberAddress() {}

    /** {@code address} as a context: its host as given (not looked up) and its port. */
    public static String format(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        String host = address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /**
     * The address a context names.
     *
     * @throws IllegalArgumentException if it is not {@code host:port} with a port from 1 to 65535
     */
    public static InetSocketAddress parse(String context) {
        Objects.requireNonNull(context, "context");
        int colon = context.lastIndexOf(':');
        if (colon <= 0 || colon == context.length() - 1) {
            throw new IllegalArgumentException("'" + context + "' is not an address: expected host:port");
        }
        String host = context.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(context.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + context + "' is not an address: its port is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("'" + context + "' is not an address: its port must be 1 to 65535");
        }
        return new InetSocketAddress(host, port);
    }
}

package io.raftkv.frontend;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the servers of a front end's cluster listen and dial from, as the harness of the system raftkv
 * replaces expects: server i (1-based) of n on 127.0.0.1 port {@code serverBase + i} (9000 + i), and
 * server s dialling server d from local port {@code sourceBase + n*(s-1) + (d-1)} (7001 + n*s + d with s,
 * d 0-based), which is how that harness tells a link apart to cut it with iptables.
 */
public record PortPlan(int servers, int serverBase, int sourceBase) {
    /** At most 9 servers: with a tenth, {@code pkill -f raftserver1} would match {@code raftserver10} too. */
    public static final int MAX_SERVERS = 9;
    public static final int DEFAULT_SERVER_BASE = 9000;
    public static final int DEFAULT_SOURCE_BASE = 7001;

    public PortPlan {
        if (servers < 1 || servers > MAX_SERVERS) {
            throw new IllegalArgumentException("the number of servers must be 1 to " + MAX_SERVERS + ", was " + servers
                    + " (server i is killed with pkill -f raftserver<i>, an unanchored pattern: with 10 or more,"
                    + " raftserver1 would also match raftserver10)");
        }
        checkRange("server", serverBase + 1, serverBase + servers);
        checkRange("source", sourceBase, sourceBase + servers * servers - 1);
        boolean apart = sourceBase + servers * servers - 1 < serverBase + 1 || sourceBase > serverBase + servers;
        if (!apart) {
            throw new IllegalArgumentException("the source ports " + sourceBase + ".." + (sourceBase + servers * servers - 1)
                    + " overlap the server ports " + (serverBase + 1) + ".." + (serverBase + servers));
        }
    }

    private static void checkRange(String what, int first, int last) {
        if (first < 1 || last > 65535) {
            throw new IllegalArgumentException("the " + what + " ports would be " + first + ".." + last
                    + "; ports are 1 to 65535");
        }
    }

    /** The plan of the harness: servers on 9001.., links from 7001... */
    public static PortPlan standard(int servers) {
        return new PortPlan(servers, DEFAULT_SERVER_BASE, DEFAULT_SOURCE_BASE);
    }

    /** Server {@code id}'s address, for its peers, the front end and gRPC clients alike. */
    public InetSocketAddress server(int id) {
        checkId(id);
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), serverBase + id);
    }

    /** Every server's address, by id. */
    public Map<Integer, InetSocketAddress> addresses() {
        Map<Integer, InetSocketAddress> out = new TreeMap<>();
        for (int id = 1; id <= servers; id++) out.put(id, server(id));
        return out;
    }

    /** The local port server {@code from} dials server {@code to} from. */
    public int sourcePort(int from, int to) {
        checkId(from);
        checkId(to);
        if (from == to) throw new IllegalArgumentException("server " + from + " does not dial itself");
        return sourceBase + servers * (from - 1) + (to - 1);
    }

    /** Where server {@code from} dials each other server from. */
    public Map<Integer, InetSocketAddress> dialFrom(int from) {
        Map<Integer, InetSocketAddress> out = new TreeMap<>();
        for (int to = 1; to <= servers; to++) {
            if (to != from) out.put(to, new InetSocketAddress(InetAddress.getLoopbackAddress(), sourcePort(from, to)));
        }
        return out;
    }

    private void checkId(int id) {
        if (id < 1 || id > servers) throw new IllegalArgumentException("server " + id + " is not one of 1.." + servers);
    }
}

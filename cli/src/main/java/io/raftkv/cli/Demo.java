package io.raftkv.cli;

import io.raftkv.cluster.Cluster;
import io.raftkv.kv.KvClient;
import io.raftkv.node.NodeStatus;

import java.time.Duration;

/**
 * The README's first command: starts a 5-node cluster in this JVM, writes and reads through it,
 * kills the leader and shows a new one take over. The full command line comes with picocli later.
 */
public final class Demo {
    private Demo() {}

    public static void main(String[] args) {
        LogFormat.useOneLine();
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        long t0 = System.nanoTime();
        try (Cluster cluster = Cluster.builder().nodes(n).start()) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            System.out.printf("started %d nodes; node %d leads after %.2f ms%n", n, leader, ms(t0));
            KvClient client = cluster.newClient();
            client.put("greeting", "hello");
            System.out.println("put greeting=hello; get -> " + client.get("greeting").orElse("(absent)"));
            System.out.println("replace missing=x -> " + client.replace("missing", "x"));
            System.out.println("replace greeting=bonjour -> " + client.replace("greeting", "bonjour"));

            long t1 = System.nanoTime();
            cluster.kill(leader);
            client.put("after", "failover");
            int next = cluster.awaitLeader(Duration.ofSeconds(5));
            System.out.printf("killed node %d; node %d leads and took a write %.2f ms later%n", leader, next, ms(t1));
            System.out.println("get greeting -> " + client.get("greeting").orElse("(absent)")
                    + ", get after -> " + client.get("after").orElse("(absent)"));
            cluster.restart(leader);
            client.put("back", "again");
            printStatus(cluster);
        }
    }

    private static void printStatus(Cluster cluster) {
        System.out.printf("%-5s %-6s %-14s %-5s %-7s %-7s%n", "node", "alive", "role", "term", "commit", "applied");
        for (NodeStatus s : cluster.statuses()) {
            System.out.printf("%-5d %-6s %-14s %-5d %-7d %-7d%n", s.id(), s.alive(), s.role(), s.term(), s.commitIndex(),
                    s.appliedIndex());
        }
    }

    private static double ms(long since) {
        return (System.nanoTime() - since) / 1e6;
    }
}

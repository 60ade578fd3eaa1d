package io.raftkv.cluster;

import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Waits until the live nodes of a cluster agree: on one leader and its term, or on what they have applied. */
final class Agreement {
    private Agreement() {}

    /**
     * Waits until every live node is in the same term and names the same leader, and that leader is
     * the only live node in the LEADER role; returns it.
     */
    static int awaitLeader(Cluster cluster, Duration timeout) {
        return Await.value("every live node agrees on one leader and its term", timeout,
                () -> agreedLeader(cluster.statuses()), () -> cluster.statuses() + "\nnetwork:\n" + cluster.describeNetwork());
    }

    /** The leader every live node names in one common term, if they agree on one. */
    static Optional<Integer> agreedLeader(List<NodeStatus> statuses) {
        long term = -1;
        int leader = 0;
        int leaders = 0;
        for (NodeStatus s : statuses) {
            if (!s.alive()) continue;
            if (term == -1) {
                term = s.term();
                leader = s.leader();
            }
            if (s.term() != term || s.leader() != leader) return Optional.empty();
            if (s.role() == Role.LEADER) {
                if (s.id() != leader) return Optional.empty();
                leaders++;
            }
        }
        return leaders == 1 ? Optional.of(leader) : Optional.empty();
    }

    /**
     * Waits until every live node has committed and applied everything in the log of the leader they
     * all recognise. A node publishes its status before it answers a client, so the leader's
     * {@code lastIndex} covers every write acknowledged so far; with no write in flight every node
     * then holds the same state. Returns that index.
     */
    static long awaitApplied(Cluster cluster, Duration timeout) {
        return Await.value("every live node has committed and applied all of its leader's log", timeout,
                () -> fullyApplied(cluster.statuses()), () -> cluster.statuses() + "\nnetwork:\n" + cluster.describeNetwork());
    }

    private static Optional<Long> fullyApplied(List<NodeStatus> statuses) {
        Optional<Integer> leader = agreedLeader(statuses);
        if (leader.isEmpty()) return Optional.empty();
        long last = statuses.stream().filter(s -> s.id() == leader.get()).findFirst().orElseThrow().lastIndex();
        for (NodeStatus s : statuses) {
            if (!s.alive()) continue;
            if (s.commitIndex() != last || s.appliedIndex() != last) return Optional.empty();
        }
        return Optional.of(last);
    }
}

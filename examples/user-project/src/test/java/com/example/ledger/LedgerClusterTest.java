package com.example.ledger;

import io.raftkv.app.AppClient;
import io.raftkv.client.CommandFailedException;
import io.raftkv.cluster.Cluster;
import io.raftkv.junit.RaftCluster;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ledger replicated by a five-node raftkv cluster, through a partition and a leader crash. */
class LedgerClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void theLedgerSurvivesAPartitionAndALeaderCrash(@RaftCluster(nodes = 5, app = LedgerSpec.class) Cluster cluster)
            throws Exception {
        AppClient<Ledger.Op, String, Long> client = cluster.newClient(LedgerSpec.class);
        assertEquals(100, client.apply(new Ledger.Deposit("alice", 100)));
        assertEquals(50, client.apply(new Ledger.Deposit("bob", 50)));

        // The leader and one follower on one side, the other three on the other: only the three can commit.
        int oldLeader = cluster.awaitLeader(WAIT);
        int follower = cluster.nodeIds().stream().filter(id -> id != oldLeader).findFirst().orElseThrow();
        Set<Integer> minority = Set.of(oldLeader, follower);
        Set<Integer> majority = cluster.nodeIds().stream().filter(id -> !minority.contains(id)).collect(Collectors.toSet());
        cluster.partition(minority, majority);

        // The client finds the majority's new leader; the transfer is committed there, and read back there.
        assertEquals(70, client.apply(new Ledger.Transfer("alice", "bob", 30)));
        assertTrue(majority.contains(cluster.awaitLeader(WAIT)), "the leader is on the majority's side");
        assertEquals(70, client.read("alice"));
        assertEquals(80, client.read("bob"));
        // The old leader, cut off from a majority, committed nothing of it.
        long majorityCommit = majority.stream().mapToLong(id -> cluster.status(id).commitIndex()).max().orElseThrow();
        for (int id : minority) {
            assertTrue(cluster.status(id).commitIndex() < majorityCommit,
                    "node " + id + " in the minority committed " + cluster.status(id).commitIndex()
                            + ", the majority " + majorityCommit);
        }
        cluster.heal();

        // Twenty transfers submitted, and the leader crashes under them: whichever it had not answered the
        // client sends again to the next leader, and each is applied exactly once (a retry of one the old
        // leader had committed gets the first answer), so every answer and balance comes out exact.
        int crashed = cluster.awaitLeader(WAIT);
        List<CompletableFuture<Long>> transfers = new ArrayList<>();
        for (int i = 0; i < 20; i++) transfers.add(client.submit(new Ledger.Transfer("bob", "alice", 1)));
        cluster.kill(crashed);
        System.out.println("leader " + crashed + " crashed with " + transfers.stream().filter(f -> !f.isDone()).count()
                + " of 20 transfers unanswered");
        for (int i = 0; i < transfers.size(); i++) assertEquals(79 - i, transfers.get(i).get());
        assertNotEquals(crashed, cluster.awaitLeader(WAIT));
        assertEquals(90, client.read("alice"));
        assertEquals(60, client.read("bob"));

        // An overdraft is refused, the same on every node, and changes nothing.
        CommandFailedException refused = assertThrows(CommandFailedException.class,
                () -> client.apply(new Ledger.Transfer("bob", "carol", 61)));
        assertTrue(refused.getMessage().contains("insufficient funds"), refused.getMessage());
        assertEquals(60, client.read("bob"));
        assertEquals(0, client.read("carol"));

        // The crashed node comes back, catches up from the others, and once it leads it answers with the
        // same balances: no money made or lost.
        cluster.restart(crashed);
        cluster.transferLeadership(crashed);
        assertEquals(crashed, cluster.awaitLeader(WAIT));
        assertEquals(90, client.read("alice"));
        assertEquals(60, client.read("bob"));
        assertEquals(150, client.read("alice") + client.read("bob"));
    }

    @Test
    void operationsSurviveTheirCodec() {
        for (Ledger.Op op : List.of(new Ledger.Deposit("ålice", 7), new Ledger.Transfer("a", "b", Long.MAX_VALUE))) {
            assertEquals(op, LedgerSpec.OPS.decode(LedgerSpec.OPS.encode(op)));
        }
        assertThrows(IllegalArgumentException.class, () -> LedgerSpec.OPS.decode(new byte[] {9}));
    }
}

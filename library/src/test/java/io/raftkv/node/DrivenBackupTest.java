package io.raftkv.node;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static io.raftkv.node.DrivenCluster.failureOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RaftNode#backup()} driven pass by pass: confirmed as a linearizable read, on the leader or a follower, it
 * holds every write acknowledged before it and names the index it is as of; later writes are not in it.
 */
class DrivenBackupTest {
    @Test
    void aBackupHoldsEveryWriteAcknowledgedBeforeItAsOfTheIndexItNames() throws IOException {
        DrivenCluster c = new DrivenCluster(Set.of(1, 2, 3));
        c.elect(1);
        assertEquals(5L, c.put(1, 5));
        assertEquals(12L, c.put(1, 7));
        long index = c.machines.get(1).appliedIndexes.getLast();
        CompletableFuture<RaftNode.Backup> fromLeader = c.node(1).backup();
        CompletableFuture<RaftNode.Backup> fromFollower = c.node(2).backup();
        c.settle();
        for (CompletableFuture<RaftNode.Backup> f : java.util.List.of(fromLeader, fromFollower)) {
            assertTrue(f.isDone(), "confirmed by the leader's heartbeat round");
            RaftNode.Backup b = f.join();
            assertEquals(index, b.meta().index());
            assertEquals(c.node(1).status().term(), b.meta().term());
            assertEquals(Set.of(1, 2, 3), b.meta().configuration().voters());
            assertEquals(12L, restored(b).sum);
        }
        assertEquals(13L, c.put(1, 1)); // after the backups: in neither
        assertEquals(12L, restored(fromLeader.join()).sum, "a frozen state does not change");
    }

    @Test
    void aStateMachineThatCannotSnapshotCannotBeBackedUp() {
        DrivenCluster c = new DrivenCluster(Set.of(1, 2, 3));
        c.snapshots = false;
        c.add(4);
        Throwable t = failureOf(c.node(4).backup());
        assertInstanceOf(UnsupportedOperationException.class, t);
        assertTrue(t.getMessage().endsWith("cannot be snapshotted, so it cannot be backed up"), t.getMessage());
    }

    private static DrivenCluster.Counter restored(RaftNode.Backup b) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        b.state().writeTo(bytes);
        DrivenCluster.Counter c = new DrivenCluster.Counter(true);
        c.restore(new ByteArrayInputStream(bytes.toByteArray()));
        return c;
    }
}

package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.raftkv.raft.RaftLogReplicationTest.bytes;
import static io.raftkv.raft.RaftLogReplicationTest.stableCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Membership changes in the core, one server at a time (thesis chapter 4), and snapshots that carry them. */
class RaftMembershipTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);

    private static long commitChange(TestNetwork net, int leader, ConfigChange change) {
        long index = net.core(leader).proposeConfigChange(change);
        assertTrue(index > 0, "the leader took " + change);
        net.deliverAll();
        net.heartbeatFrom(leader);
        return index;
    }

    @Test
    void aLearnerGetsTheLogButNeitherVotesNorCounts() {
        TestNetwork net = stableCluster(3, b -> b);
        net.addNode(4, THREE);
        long index = commitChange(net, 1, ConfigChange.addLearner(4));
        assertEquals(new Configuration(new java.util.TreeSet<>(THREE), new java.util.TreeSet<>(Set.of(4))).withFeatureLevel(FeatureLevel.SUPPORTED), net.core(1).configuration());
        assertEquals(net.core(1).configuration(), net.core(4).configuration(), "the learner learnt the configuration from the log");
        assertTrue(net.core(4).commitIndex() >= index);

        // With two voters cut off, the learner's acknowledgement is no majority: nothing commits.
        net.isolate(2);
        net.isolate(3);
        long before = net.core(1).commitIndex();
        net.core(1).propose(bytes("x"));
        net.deliverAll();
        net.heartbeatFrom(1);
        assertEquals(net.core(1).log().lastIndex(), net.core(4).log().lastIndex(), "the learner has the entry");
        assertEquals(before, net.core(1).commitIndex(), "but it does not count towards a majority");

        // A learner never campaigns, however long it hears nothing.
        net.isolate(4);
        for (int i = 0; i < 10 * TestNetwork.ELECTION_TICKS; i++) net.tick(4);
        assertEquals(Role.FOLLOWER, net.core(4).role());
    }

    @Test
    void changesGoOneAtATimeAndMustApplyToTheConfiguration() {
        TestNetwork net = stableCluster(3, b -> b);
        RaftCore leader = net.core(1);
        net.addNode(4, THREE);
        net.addNode(5, THREE);
        assertTrue(leader.proposeConfigChange(ConfigChange.addLearner(4)) > 0);
        IllegalStateException pending = assertThrows(IllegalStateException.class,
                () -> leader.proposeConfigChange(ConfigChange.addLearner(5)));
        assertTrue(pending.getMessage().contains("one at a time"), pending.getMessage());
        net.deliverAll();
        net.heartbeatFrom(1);
        assertTrue(leader.proposeConfigChange(ConfigChange.promote(4)) > 0, "once the first is committed, the next goes");
        net.deliverAll();
        net.heartbeatFrom(1);
        assertEquals(Set.of(1, 2, 3, 4), leader.voters());

        assertTrue(assertThrows(IllegalArgumentException.class, () -> leader.proposeConfigChange(ConfigChange.addLearner(2)))
                .getMessage().contains("already a voter"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> leader.proposeConfigChange(ConfigChange.promote(5)))
                .getMessage().contains("only a learner"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> leader.proposeConfigChange(ConfigChange.remove(9)))
                .getMessage().contains("not a member"));
        assertEquals(RaftCore.REJECTED, net.core(2).proposeConfigChange(ConfigChange.addLearner(5)), "a follower refuses");
    }

    @Test
    void aNewLeaderChangesNothingBeforeItHasCommittedAnEntryOfItsTerm() {
        TestNetwork net = TestNetwork.of(3);
        net.dropIf(m -> m instanceof Message.AppendRequest);
        net.elect(1);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> net.core(1).proposeConfigChange(ConfigChange.remove(3)));
        assertTrue(e.getMessage().contains("has not yet committed"), e.getMessage());
    }

    @Test
    void anUncommittedChangeOverwrittenByANewLeaderIsRolledBack() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(1);
        net.addNode(4, THREE);
        long index = net.core(1).proposeConfigChange(ConfigChange.addLearner(4));
        assertTrue(index > 0);
        assertTrue(net.core(1).configuration().isLearner(4), "in force once in the log, before it commits");
        // Node 3 stops hearing from node 1 for an election timeout, so it votes for node 2.
        for (int i = 0; i < TestNetwork.ELECTION_TICKS; i++) net.tick(3);
        net.elect(2);
        net.core(2).propose(bytes("y"));
        net.deliverAll();
        net.heal();
        net.heartbeatFrom(2);
        net.heartbeatFrom(2);
        assertEquals(Configuration.ofVoters(THREE).withFeatureLevel(FeatureLevel.SUPPORTED), net.core(1).configuration(), "the entry was cut, and its configuration with it");
        assertEquals(net.core(2).log().lastIndex(), net.core(1).log().lastIndex());
    }

    @Test
    void aLeaderThatRemovesItselfStepsDownOnceTheChangeCommitsAndHandsOver() {
        TestNetwork net = stableCluster(3, b -> b);
        long index = net.core(1).proposeConfigChange(ConfigChange.remove(1));
        assertEquals(Role.LEADER, net.core(1).role(), "until the change commits it leads, without counting itself");
        net.deliverAll();
        net.heartbeatFrom(1);
        assertTrue(net.core(2).commitIndex() >= index);
        assertEquals(Role.FOLLOWER, net.core(1).role());
        assertTrue(net.delivered().stream().anyMatch(m -> m instanceof Message.TimeoutNow t && t.from() == 1),
                "it told an up-to-date voter to take over");
        List<Integer> leaders = net.leaders();
        assertEquals(1, leaders.size());
        assertTrue(leaders.get(0) != 1);
        // The removed node never campaigns again.
        net.isolate(1);
        for (int i = 0; i < 10 * TestNetwork.ELECTION_TICKS; i++) net.tick(1);
        assertEquals(Role.FOLLOWER, net.core(1).role());
    }

    @Test
    void aSnapshotCarriesTheConfigurationToANodeThatJoinsAfterTheLogWasCompacted() {
        TestNetwork net = stableCluster(3, b -> b);
        net.addNode(4, THREE);
        net.addNode(5, THREE);
        commitChange(net, 1, ConfigChange.addLearner(4));
        commitChange(net, 1, ConfigChange.promote(4));
        for (int i = 0; i < 5; i++) net.core(1).propose(bytes("v" + i));
        net.deliverAll();
        net.heartbeatFrom(1);
        SnapshotMeta snap = net.snapshot(1, 0);
        assertEquals(Set.of(1, 2, 3, 4), snap.configuration().voters());

        commitChange(net, 1, ConfigChange.addLearner(5));
        net.heartbeatFrom(1);
        assertEquals(snap, net.core(5).latestSnapshot(), "node 5 needed compacted entries: it was sent the snapshot");
        assertEquals(net.core(1).configuration(), net.core(5).configuration());
        assertEquals(net.node(1).applied, net.node(5).applied);

        // Restarted from its snapshot and log tail, node 5 knows the same configuration.
        net.restart(5);
        assertEquals(net.core(1).configuration(), net.core(5).configuration());
    }

    @Test
    void aFollowerThatHoldsTheSnapshotsLastEntryKeepsWhatFollowsIt() {
        TestNetwork net = stableCluster(3, b -> b);
        for (int i = 0; i < 3; i++) net.core(1).propose(bytes("v" + i));
        net.deliverAll();
        net.heartbeatFrom(1);
        RaftCore follower = net.core(2);
        long last = follower.log().lastIndex();
        long committed = follower.commitIndex();
        // A snapshot up to an entry it holds, but that it did not know was committed yet.
        SnapshotMeta meta = new SnapshotMeta(last, follower.log().term(last), follower.configuration());
        RaftCore fresh = new RaftCore(follower.config(), new HardState(follower.term(), 0, 1),
                follower.log().slice(1, 1000, Integer.MAX_VALUE));
        fresh.step(new Message.InstallSnapshot(1, 2, follower.term(), meta));
        Ready r = fresh.ready();
        assertEquals(null, r.snapshot(), "nothing to install: its log already holds the snapshot's entries");
        assertEquals(last, fresh.commitIndex());
        assertEquals(last, fresh.log().lastIndex());
        assertFalse(committed > last);
    }

    @Test
    void theLeaderRaisesTheFeatureLevelByAConfigurationEntryInForceOnceCommittedAndNeverLowered() {
        TestNetwork net = stableCluster(3, b -> b.initialFeatureLevel(FeatureLevel.BASE));
        RaftCore leader = net.core(1);
        assertEquals(1, leader.committedConfiguration().featureLevel());
        assertEquals("the cluster runs at feature level 1 until every member supports level 2; adding a member with its"
                + " address needs level 2", assertThrows(IllegalArgumentException.class,
                () -> leader.proposeConfigChange(ConfigChange.addLearner(4, "d:4"))).getMessage());
        long index = leader.proposeFeatureLevel(2);
        assertTrue(index > 0);
        assertEquals(2, leader.configuration().featureLevel(), "in force at once");
        assertEquals(1, leader.committedConfiguration().featureLevel(), "the cluster's only once committed");
        net.deliverAll();
        net.heartbeatFrom(1);
        for (int n = 1; n <= 3; n++) {
            assertEquals(2, net.core(n).committedConfiguration().featureLevel(), "node " + n);
            assertEquals(THREE, net.core(n).committedConfiguration().voters());
        }
        assertThrows(IllegalArgumentException.class, () -> leader.proposeFeatureLevel(1), "never lowered");
        assertThrows(IllegalArgumentException.class, () -> leader.proposeFeatureLevel(2), "already there");
        net.addNode(4, THREE);
        commitChange(net, 1, ConfigChange.addLearner(4, "d:4"));
        assertEquals(2, leader.committedConfiguration().featureLevel(), "kept by the change after it");
        assertEquals(2, leader.snapshotMeta(leader.commitIndex()).configuration().featureLevel(), "snapshots carry it");
        assertEquals(RaftCore.REJECTED, net.core(2).proposeFeatureLevel(3), "a follower proposes nothing");
    }
}

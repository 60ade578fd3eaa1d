package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.raftkv.raft.RaftLogReplicationTest.bytes;
import static io.raftkv.raft.RaftLogReplicationTest.stableCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a leader paces appends to each follower: batching limits, the probe and replicate states, and
 * the in-flight window (thesis §10.2.2; etcd's Progress).
 */
class RaftFlowControlTest {

    private static List<AppendRequest> appendsTo(int to, List<Message> messages) {
        return messages.stream().filter(m -> m instanceof AppendRequest a && a.to() == to).map(m -> (AppendRequest) m).toList();
    }

    private static List<Integer> batchSizes(List<AppendRequest> appends) {
        return appends.stream().map(a -> a.entries().size()).toList();
    }

    /** Every append follows the one before it: together they carry each entry once, in order. */
    private static void assertContiguous(List<AppendRequest> appends, long firstIndex, long lastIndex) {
        long next = firstIndex;
        for (AppendRequest a : appends) {
            assertEquals(next - 1, a.prevLogIndex(), "appends " + appends);
            next += a.entries().size();
        }
        assertEquals(lastIndex + 1, next, "appends " + appends);
    }

    // ---------------------------------------------------------------- batching

    @Test
    void appendRequestCarriesAtMostMaxEntriesPerMessage() {
        TestNetwork net = stableCluster(3, b -> b.maxEntriesPerMessage(3));
        for (int i = 0; i < 10; i++) net.core(1).propose(bytes("c" + i));
        List<AppendRequest> appends = appendsTo(2, net.takeReady(1).messages());

        assertEquals(List.of(3, 3, 3, 1), batchSizes(appends));
        assertContiguous(appends, 2, 11);
    }

    @Test
    void appendRequestCarriesAtMostMaxBytesPerMessage() {
        int limit = 100;
        TestNetwork net = stableCluster(3, b -> b.maxBytesPerMessage(limit));
        byte[] payload = new byte[50 - 24]; // 50 bytes an entry, with its overhead: two fit
        for (int i = 0; i < 5; i++) net.core(1).propose(payload);
        List<AppendRequest> appends = appendsTo(2, net.takeReady(1).messages());

        assertEquals(List.of(2, 2, 1), batchSizes(appends));
        for (AppendRequest a : appends) {
            assertTrue(a.entries().stream().mapToInt(Entry::size).sum() <= limit, a.toString());
        }
        assertContiguous(appends, 2, 6);
    }

    @Test
    void entryLargerThanTheByteLimitStillGoesAloneInOneMessage() {
        TestNetwork net = stableCluster(3, b -> b.maxBytesPerMessage(100));
        byte[] small = new byte[26];
        net.core(1).propose(small);
        long big = net.core(1).propose(new byte[1000]);
        net.core(1).propose(small);
        net.core(1).propose(small);
        List<AppendRequest> appends = appendsTo(2, net.takeReady(1).messages());

        assertEquals(List.of(1, 1, 2), batchSizes(appends));
        assertEquals(big, appends.get(1).entries().get(0).index());
        assertContiguous(appends, 2, 5);

        net.deliverAll();
        net.heartbeatFrom(1);
        assertEquals(5, net.core(2).commitIndex(), "the oversized entry is replicated like any other");
    }

    // ---------------------------------------------------------------- probe and replicate

    @Test
    void inReplicateStateTheLeaderPipelinesAppendsUpToTheInflightWindowThenPauses() {
        TestNetwork net = stableCluster(3, b -> b.maxEntriesPerMessage(1).maxInflightMessages(3));
        RaftCore leader = net.core(1);
        assertEquals(Progress.State.REPLICATE, leader.progress(2).state());

        for (int i = 0; i < 5; i++) leader.propose(bytes("c" + i));
        net.process(1);
        assertEquals(List.of(2L, 3L, 4L), net.queued(AppendRequest.class).stream().filter(a -> a.to() == 2)
                .map(a -> a.entries().get(0).index()).toList(), "three appends sent without waiting, then a pause");
        assertTrue(leader.progress(2).paused());

        leader.propose(bytes("more"));
        net.process(1);
        assertEquals(3, net.queued(AppendRequest.class).stream().filter(a -> a.to() == 2).count(), "still paused");

        // Node 2 takes the first append; its acknowledgement frees one slot of the window.
        net.deliverMatching(m -> m instanceof AppendRequest a && a.to() == 2 && a.prevLogIndex() == 1);
        net.process(2);
        net.deliverMatching(m -> m instanceof AppendResponse r && r.from() == 2);
        net.process(1);
        assertEquals(List.of(3L, 4L, 5L), net.queued(AppendRequest.class).stream().filter(a -> a.to() == 2)
                .map(a -> a.entries().get(0).index()).toList());

        net.deliverAll();
        assertEquals(7, net.core(2).log().lastIndex());
        assertEquals(7, leader.commitIndex());
    }

    @Test
    void inProbeStateTheLeaderSendsOneAppendAndWaitsForItsAnswer() {
        TestNetwork net = TestNetwork.of(3);
        net.isolate(3);
        net.elect(1);
        RaftCore leader = net.core(1);
        assertEquals(Progress.State.PROBE, leader.progress(3).state(), "node 3 never answered");

        net.heal();
        for (int i = 0; i < 3; i++) leader.propose(bytes("c" + i));
        net.process(1);
        assertTrue(appendsTo(3, net.queued()).isEmpty(), "its probe is unanswered: wait");

        // A heartbeat's answer shows the follower is there: probe again, once.
        net.tick(1);
        net.deliverMatching(m -> m.to() == 3);
        net.deliverMatching(m -> m.from() == 3);
        net.process(1);
        List<AppendRequest> probes = appendsTo(3, net.queued());
        assertEquals(1, probes.size());
        assertEquals(0, probes.get(0).prevLogIndex());

        net.deliverAll();
        assertEquals(Progress.State.REPLICATE, leader.progress(3).state());
        assertEquals(leader.log().lastIndex(), leader.progress(3).match());
    }

    @Test
    void followerThatWasPausedWhenTheCommitIndexAdvancedLearnsItWithoutWaitingForAHeartbeat() {
        TestNetwork net = TestNetwork.of(3);
        net.tickUntilCampaign(1);
        net.deliverUntil(() -> net.core(1).commitIndex() == 1);
        assertEquals(Progress.State.PROBE, net.core(1).progress(3).state(), "node 3 has not answered its probe yet");
        assertTrue(net.core(1).progress(3).paused());

        net.deliverAll();
        assertEquals(1, net.core(3).commitIndex(), "told along with the answer to its probe, no tick needed");
    }

    @Test
    void rejectionInReplicateStateSendsTheFollowerBackToProbing() {
        TestNetwork net = stableCluster(3, b -> b);
        RaftCore leader = net.core(1);
        long last = leader.log().lastIndex();
        leader.step(new AppendResponse(2, 1, 1, false, last, last - 1, 1));
        assertEquals(Progress.State.REPLICATE, leader.progress(2).state(), "a rejection of an older append is stale");

        leader.propose(bytes("x"));
        net.process(1);
        leader.step(new AppendResponse(2, 1, 1, false, last + 1, last, 1));
        assertEquals(Progress.State.PROBE, leader.progress(2).state());
        assertEquals(last + 1, leader.progress(2).next());
    }

    // ---------------------------------------------------------------- lost appends

    @Test
    void appendLostWhileTheClusterIsIdleIsResentAfterAHeartbeat() {
        TestNetwork net = stableCluster(3, b -> b);
        net.cut(1, 3);
        long index = net.core(1).propose(bytes("x"));
        net.deliverAll();
        net.heal();
        assertEquals(index - 1, net.core(3).log().lastIndex());

        net.run(3);
        assertEquals(index, net.core(3).log().lastIndex(), "the follower caught up without another proposal");
        assertEquals(index, net.core(3).commitIndex());
    }

    @Test
    void followerWhoseWholeInflightWindowWasLostCatchesUpAfterAHeartbeat() {
        TestNetwork net = stableCluster(3, b -> b.maxEntriesPerMessage(1).maxInflightMessages(2));
        RaftCore leader = net.core(1);
        net.cut(1, 3);
        for (int i = 0; i < 4; i++) leader.propose(bytes("c" + i));
        net.deliverAll();
        assertTrue(leader.progress(3).paused(), "both appends in the window were lost");
        net.heal();

        leader.propose(bytes("after"));
        net.run(5);
        assertEquals(leader.log().lastIndex(), net.core(3).log().lastIndex());
        assertEquals(leader.commitIndex(), net.core(3).commitIndex());
    }
}

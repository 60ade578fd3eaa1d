package io.raftkv.node;

import io.raftkv.raft.ConfigChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.HardState;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Role;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.transport.Transport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

import static io.raftkv.node.DrivenCluster.failureOf;
import static io.raftkv.node.DrivenCluster.noting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The production {@link RaftNode} driven pass by pass ({@link DrivenCluster}): membership calls, what a node
 * answers when it stops, when it tells its owner leadership changed, and its snapshots, each as an exact trace.
 */
class DrivenNodeTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);

    // ---------------------------------------------------------------- adding a voter

    @Test
    void anAddedVoterJoinsAsALearnerAndIsPromotedOnceItKeepsUp() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        assertEquals(5L, c.put(1, 5));
        c.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, Duration.ofSeconds(5));
        c.settle();
        assertTrue(c.node(1).configuration().isLearner(4) || c.node(1).configuration().isVoter(4));
        for (int i = 0; i < 20 && !done.isDone(); i++) c.tick();
        assertEquals(Set.of(1, 2, 3, 4), done.join().voters());
        assertEquals(Set.of(1, 2, 3, 4), c.node(1).committedConfiguration().voters());
        assertEquals(5L, c.machines.get(4).sum, "the new voter holds the state");
    }

    @Test
    void aLearnerThatCannotKeepUpStaysALearnerAndTheCallerIsToldWhy() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.add(4);
        c.isolated.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, DrivenCluster.TICK.multipliedBy(5));
        CompletableFuture<Configuration> again = c.node(1).addVoter(5, Duration.ofSeconds(5));
        c.settle();
        assertEquals("node 4 is being added already", failureOf(again).getMessage());
        for (int i = 0; i < 10 && !done.isDone(); i++) c.tick();
        Throwable t = failureOf(done);
        assertInstanceOf(TimeoutException.class, t);
        assertEquals("node 4 did not catch up with the leader's log in time; it stays a learner", t.getMessage());
        assertTrue(c.node(1).configuration().isLearner(4));
    }

    @Test
    void aNodeRemovedWhileItIsBeingAddedIsNotAddedBack() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.add(4);
        c.isolated.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, Duration.ofSeconds(5));
        c.settle();
        c.tick();
        assertTrue(c.node(1).committedConfiguration().isLearner(4));
        CompletableFuture<Configuration> removal = c.node(1).changeMembership(ConfigChange.remove(4));
        c.settle();
        c.tick();
        assertEquals(THREE, removal.join().members());
        assertEquals("node 4 was removed while it was being added", failureOf(done).getMessage());
        assertEquals(THREE, c.node(1).configuration().members());
    }

    @Test
    void onlyTheLeaderAddsAVoterAndIdsStartAtOne() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        CompletableFuture<Configuration> atFollower = c.node(2).addVoter(4, Duration.ofSeconds(5));
        c.settle();
        NotLeaderException e = assertInstanceOf(NotLeaderException.class, failureOf(atFollower));
        assertEquals(1, e.leaderHint());
        assertEquals("node id must be >= 1, was 0",
                assertThrows(IllegalArgumentException.class, () -> c.node(1).addVoter(0, Duration.ofSeconds(1))).getMessage());
    }

    @Test
    void aLeaderThatStepsDownFailsTheAdditionUnderWay() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.add(4);
        c.isolated.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, Duration.ofSeconds(5));
        c.settle();
        c.node(1).transferLeadership(2);
        c.settle();
        assertEquals(Role.LEADER, c.node(2).status().role());
        c.tick();
        assertInstanceOf(NotLeaderException.class, failureOf(done));
    }

    // ---------------------------------------------------------------- other membership calls

    @Test
    void aMembershipChangeIsRefusedWithTheReasonWhereItCannotBeMade() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        CompletableFuture<Configuration> atFollower = c.node(3).changeMembership(ConfigChange.remove(2));
        CompletableFuture<Configuration> notAMember = c.node(1).changeMembership(ConfigChange.remove(9));
        c.settle();
        assertEquals(1, assertInstanceOf(NotLeaderException.class, failureOf(atFollower)).leaderHint());
        assertInstanceOf(IllegalArgumentException.class, failureOf(notAMember));

        c.isolated.add(3);
        c.put(1, 1); // node 3 falls behind
        c.node(1).transferLeadership(3);
        CompletableFuture<Configuration> duringTransfer = c.node(1).changeMembership(ConfigChange.remove(2));
        c.settle();
        assertEquals("node 1 is handing leadership over", failureOf(duringTransfer).getMessage());
    }

    /** A removal is done once committed; its repeat is done at once; one in the log but not committed is not done. */
    @Test
    void removeMemberReportsDoneOnlyForACommittedRemoval() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        assertEquals(THREE, c.node(1).removeMember(9).join().members(), "not a member: done already");
        c.isolated.add(2);
        c.isolated.add(3);
        CompletableFuture<Configuration> removal = c.node(1).changeMembership(ConfigChange.remove(3));
        c.settle();
        assertFalse(removal.isDone());
        CompletableFuture<Configuration> retry = c.node(1).removeMember(3);
        assertEquals("the removal of node 3 is in node 1's log but not committed yet", failureOf(retry).getMessage());
        c.isolated.clear();
        c.tick();
        assertEquals(Set.of(1, 2), removal.join().members());
        assertEquals(Set.of(1, 2), c.node(1).removeMember(3).join().members(), "a retry after the removal committed");
    }

    // ---------------------------------------------------------------- stopping

    /** A node closed before it ever ran answers everything queued: a write, a read and a membership change. */
    @Test
    void aNodeClosedBeforeItRanAnswersEverythingQueued() {
        DrivenCluster c = new DrivenCluster(Set.of(1));
        RaftNode n = c.node(1);
        List<Object> answers = new ArrayList<>();
        Reply reply = noting(answers);
        n.propose(new byte[] {1}, reply);
        n.read("q", reply);
        CompletableFuture<Configuration> change = n.changeMembership(ConfigChange.addLearner(2));
        n.close();
        assertEquals(List.of("notLeader 0", "notLeader 0"), answers);
        assertInstanceOf(NotLeaderException.class, failureOf(change));
        assertTrue(n.stopped());
        assertFalse(n.status().alive());
        n.read("late", reply);
        assertEquals("notLeader 0", answers.get(2), "refused at once once stopped");
    }

    /** A leader that stops answers its pending writes, reads and changes: the client retries elsewhere. */
    @Test
    void aLeaderThatStopsAnswersWhatItHeld() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.isolated.add(2);
        c.isolated.add(3);
        List<Object> answers = new ArrayList<>();
        Reply reply = noting(answers);
        RaftNode leader = c.node(1);
        leader.propose(new byte[] {1}, reply);
        leader.read("q", reply);
        CompletableFuture<Configuration> change = leader.changeMembership(ConfigChange.addLearner(4));
        c.settle();
        assertEquals(List.of(), answers, "nothing can commit without a majority");
        leader.close();
        assertEquals(List.of("notLeader 0", "notLeader 0"), answers);
        assertInstanceOf(NotLeaderException.class, failureOf(change));
        assertFalse(leader.status().alive());
        assertEquals(c.storages.get(1).hardState().term(), leader.status().term(), "down, keeping its term");
    }

    /**
     * A client told its write is done may look at the node's status at once (a test waiting for a follower to
     * catch up does): the status already shows the write applied, not the pass before it.
     */
    @Test
    void aWriteIsAnsweredOnlyOnceTheStatusShowsItApplied() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        RaftNode leader = c.node(1);
        List<String> seen = new ArrayList<>();
        leader.propose(new byte[] {1}, new Reply() {
            @Override public void ok(Object result) {
                List<Long> applied = c.machines.get(1).appliedIndexes;
                seen.add("applied " + applied.get(applied.size() - 1) + ", status shows " + leader.status().appliedIndex());
            }
            @Override public void notLeader(int leaderHint) { seen.add("notLeader " + leaderHint); }
        });
        c.settle();
        long index = c.machines.get(1).appliedIndexes.get(c.machines.get(1).appliedIndexes.size() - 1);
        assertEquals(List.of("applied " + index + ", status shows " + index), seen);
    }

    // ---------------------------------------------------------------- leadership notices

    /** The owner hears of role, term and leader changes, not of every commit. */
    @Test
    void theOwnerIsToldOfLeadershipChangesOnlyNotOfCommits() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        int atElection = c.leadershipChanges.get(1).get();
        int followerAtElection = c.leadershipChanges.get(2).get();
        assertTrue(atElection > 0 && followerAtElection > 0);
        for (int i = 0; i < 5; i++) c.put(1, i);
        c.ticks(3);
        assertEquals(atElection, c.leadershipChanges.get(1).get(), "commits and heartbeats are no leadership change");
        assertEquals(followerAtElection, c.leadershipChanges.get(2).get());
        c.node(1).transferLeadership(2);
        c.settle();
        assertTrue(c.leadershipChanges.get(1).get() > atElection);
    }

    // ---------------------------------------------------------------- snapshots

    /** With a small log budget a node snapshots, keeps the policy's trailing entries, and a newcomer gets the snapshot in chunks. */
    @Test
    void nodesSnapshotCompactAndSendTheSnapshotToANewcomerInChunks() {
        DrivenCluster c = new DrivenCluster(THREE).policy(new SnapshotPolicy(64, 2, 8, 2));
        c.elect(1);
        long sum = 0;
        for (int i = 1; i <= 12; i++) {
            c.put(1, i);
            sum += i;
        }
        SnapshotStats stats = c.node(1).snapshotStats();
        assertTrue(stats.taken() > 0, stats.toString());
        assertTrue(c.storages.get(1).snapshot().isPresent());
        assertTrue(stats.logEntries() >= 2, "the trailing entries are kept: " + stats);
        assertEquals(stats.snapshotIndex(), c.storages.get(1).snapshot().get().index());
        long last = c.node(1).status().lastIndex();
        assertEquals(last - stats.snapshotIndex() + 2, stats.logEntries(), "the log starts two entries before the snapshot");
        assertEquals(25 * stats.logEntries(), stats.logBytes(), "one-byte commands, 24 bytes of entry each: " + stats);

        c.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, Duration.ofSeconds(5));
        for (int i = 0; i < 30 && !done.isDone(); i++) c.tick();
        assertEquals(Set.of(1, 2, 3, 4), done.join().voters());
        c.tick(); // the commit of the promotion reaches node 4 with a heartbeat
        assertEquals(sum, c.machines.get(4).sum, "the snapshot and the log after it");
        assertEquals(1, c.node(4).snapshotStats().installed());
        assertEquals(c.node(1).status().commitIndex(), c.node(4).status().appliedIndex());
    }

    /** A command the state machine throws on is that command's answer; the node goes on. */
    @Test
    void aCommandTheStateMachineRefusesIsAnsweredWithTheFailure() {
        DrivenCluster c = new DrivenCluster(Set.of(1));
        c.elect(1);
        Object answer = c.put(1, 'X');
        CommandFailure f = assertInstanceOf(CommandFailure.class, answer);
        assertEquals("X is refused", f.cause().getMessage());
        assertEquals(7L, c.put(1, 7));
    }

    // ---------------------------------------------------------------- construction and driving

    @Test
    void aNodeRefusesATickThatIsNotPositiveAndAThreadFactoryThatMakesNoThread() {
        RaftConfig cfg = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
        for (Duration bad : List.of(Duration.ZERO, Duration.ofMillis(-1))) {
            assertEquals("tickInterval must be positive, was " + bad, assertThrows(IllegalArgumentException.class,
                    () -> RaftNode.builder(cfg, new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> null).tickInterval(bad).build()).getMessage());
        }
        assertEquals("the thread factory made no thread for raftkv-node-1", assertThrows(IllegalStateException.class,
                () -> RaftNode.builder(cfg, new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> null).tickInterval(Duration.ofMillis(5)).threads(r -> null).build()).getMessage());
        List<Thread> made = new ArrayList<>();
        RaftNode.builder(cfg, new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> new Transport() {
            @Override public void send(io.raftkv.raft.Message m) { }
            @Override public void close() { }
        }).tickInterval(Duration.ofMillis(5)).threads(r -> {
            Thread t = Thread.ofPlatform().unstarted(r);
            made.add(t);
            return t;
        }).build();
        assertEquals(List.of("raftkv-node-1", "raftkv-ticker-1"), made.stream().map(Thread::getName).toList());
    }

    @Test
    void theBuilderChecksWhatItIsGivenAndBuildsANodeThatServes() throws Exception {
        RaftConfig cfg = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
        MemoryStorage storage = new MemoryStorage();
        DrivenCluster.Counter machine = new DrivenCluster.Counter(false);
        assertEquals("a node needs a transport: call transport(...) before build()", assertThrows(IllegalStateException.class,
                () -> RaftNode.builder(cfg, storage, machine).build()).getMessage());
        assertEquals("config", assertThrows(NullPointerException.class, () -> RaftNode.builder(null, storage, machine)).getMessage());
        assertEquals("storage", assertThrows(NullPointerException.class, () -> RaftNode.builder(cfg, null, machine)).getMessage());
        assertEquals("stateMachine", assertThrows(NullPointerException.class, () -> RaftNode.builder(cfg, storage, null)).getMessage());
        RaftNode.Builder b = RaftNode.builder(cfg, storage, machine);
        assertEquals("tickInterval must be positive, was PT0S",
                assertThrows(IllegalArgumentException.class, () -> b.tickInterval(Duration.ZERO)).getMessage());
        assertEquals("spinsBeforePark must be >= 0, was -1",
                assertThrows(IllegalArgumentException.class, () -> b.spinsBeforePark(-1)).getMessage());
        assertThrows(NullPointerException.class, () -> b.threads(null));
        assertThrows(NullPointerException.class, () -> b.snapshotPolicy(null));
        assertThrows(NullPointerException.class, () -> b.onLeadershipChange(null));

        // Defaults for the rest: a one-node cluster on virtual threads elects itself and applies a command.
        java.util.concurrent.atomic.AtomicInteger changes = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> made = new ArrayList<>();
        try (RaftNode node = b.transport(sink -> new Transport() {
                    @Override public void send(io.raftkv.raft.Message m) { }
                    @Override public void close() { }
                }).onLeadershipChange(changes::incrementAndGet).threads(r -> {
                    Thread t = Thread.ofVirtual().unstarted(r);
                    made.add(t);
                    return t;
                }).build()) {
            node.start();
            node.campaign();
            java.util.concurrent.CompletableFuture<Object> answer = new java.util.concurrent.CompletableFuture<>();
            io.raftkv.cluster.Await.until("node 1 leads", Duration.ofSeconds(5),
                    () -> node.status().role() == Role.LEADER, node::status);
            node.propose(new byte[] {7}, new Reply() {
                @Override public void ok(Object result) { answer.complete(result); }
                @Override public void notLeader(int hint) { answer.completeExceptionally(new AssertionError("not leader")); }
            });
            assertEquals(7L, answer.get(5, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(changes.get() >= 1, "told of its leadership");
            assertEquals(List.of("raftkv-node-1", "raftkv-ticker-1"), made.stream().map(Thread::getName).toList());
        }
    }

    @Test
    void aDrivenNodeStopsTakingStepsOnceClosedAndAStartedOneTakesNone() {
        DrivenCluster c = new DrivenCluster(Set.of(1));
        RaftNode n = c.node(1);
        assertTrue(n.step(true));
        n.close();
        assertFalse(n.step(true), "closed");

        RaftConfig cfg = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
        RaftNode started = RaftNode.builder(cfg, new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> new Transport() {
            @Override public void send(io.raftkv.raft.Message m) { }
            @Override public void close() { }
        }).tickInterval(Duration.ofMillis(5)).build();
        started.start();
        try {
            assertEquals("node 1 runs on its own thread", assertThrows(IllegalStateException.class, () -> started.step(false)).getMessage());
            assertEquals("node 1 has started", assertThrows(IllegalStateException.class,
                    () -> started.snapshotPolicy(SnapshotPolicy.defaults())).getMessage());
        } finally {
            started.close();
        }
    }

    @Test
    void aStateMachineThatCannotSnapshotIsNeverAskedTo() {
        DrivenCluster c = new DrivenCluster(Set.of(1));
        c.snapshots = false;
        c.nodes.clear();
        c.add(1);
        c.policy(new SnapshotPolicy(1, 0, 8, 2));
        c.elect(1);
        for (int i = 1; i <= 5; i++) assertEquals((long) (i * (i + 1) / 2), c.put(1, i));
        assertEquals(0, c.node(1).snapshotStats().taken());
        assertTrue(c.storages.get(1).snapshot().isEmpty());
    }

    /** A leader that loses its leadership answers the writes and reads it held: the client retries at the new leader. */
    @Test
    void aLeaderThatLosesItsLeadershipAnswersWhatItHeld() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.isolated.add(1);
        List<Object> answers = new ArrayList<>();
        Reply reply = new Reply() {
            @Override public void ok(Object result) { answers.add("ok " + result); }
            @Override public void notLeader(int leaderHint) { answers.add("notLeader"); }
        };
        c.node(1).propose(new byte[] {1}, reply);
        c.node(1).read("q", reply);
        c.settle();
        c.ticks(3 * DrivenCluster.ELECTION_TICKS); // CheckQuorum: node 1 steps down; 2 and 3 elect one of them
        c.isolated.clear();
        c.tick();
        assertEquals(List.of("notLeader", "notLeader"), answers);
        assertEquals(Role.FOLLOWER, c.node(1).status().role());
        assertTrue(Set.of(2, 3).contains(c.node(1).status().leader()), c.node(1).status().toString());
    }

    /**
     * A leader cut off steps down (CheckQuorum) and answers at once, still cut off, what only a leader finishes:
     * its write and its membership change, as well as its read.
     */
    @Test
    void aLeaderCutOffAnswersWhatItHeldAsItStepsDown() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.isolated.add(1);
        List<Object> answers = new ArrayList<>();
        Reply reply = noting(answers);
        c.node(1).propose(new byte[] {1}, reply);
        c.node(1).read("q", reply);
        CompletableFuture<Configuration> change = c.node(1).changeMembership(ConfigChange.remove(3));
        c.settle();
        assertEquals(List.of(), answers);
        assertFalse(change.isDone());
        for (int i = 0; i < 3 * DrivenCluster.ELECTION_TICKS && c.node(1).status().role() == Role.LEADER; i++) c.tick();
        assertEquals(Role.FOLLOWER, c.node(1).status().role());
        assertEquals(List.of("notLeader 0", "notLeader 0"), answers);
        assertInstanceOf(NotLeaderException.class, failureOf(change));
    }

    /**
     * As above with no read pending. CheckQuorum's step-down changes neither term nor vote and sends nothing: only
     * the role's change in the core's output tells the node, in the pass of the step-down, not at its first
     * campaign an election timeout later.
     */
    @Test
    void aLeaderCutOffWithNoReadPendingAnswersItsWriteAndItsChangeAsItStepsDown() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.isolated.add(1);
        List<Object> answers = new ArrayList<>();
        c.node(1).propose(new byte[] {1}, noting(answers));
        CompletableFuture<Configuration> change = c.node(1).changeMembership(ConfigChange.remove(3));
        c.settle();
        for (int i = 0; i < 3 * DrivenCluster.ELECTION_TICKS && c.node(1).status().role() == Role.LEADER; i++) c.tick();
        assertEquals(Role.FOLLOWER, c.node(1).status().role());
        assertEquals(List.of("notLeader 0"), answers);
        assertTrue(change.isCompletedExceptionally());
    }

    /** A follower that stops answering a snapshot is given up on, and sent the snapshot again once it answers. */
    @Test
    void aSnapshotTransferGivenUpOnIsStartedAgainWhenTheFollowerAnswers() {
        DrivenCluster c = new DrivenCluster(THREE).policy(new SnapshotPolicy(64, 0, 8, 2));
        c.elect(1);
        c.isolated.add(3);
        for (int i = 1; i <= 12; i++) c.put(1, i);
        assertTrue(c.node(1).snapshotStats().snapshotIndex() > 0);
        c.isolated.clear();
        c.drop = m -> m instanceof io.raftkv.raft.Message.SnapshotChunk;
        c.ticks(4 * DrivenCluster.ELECTION_TICKS * (SnapshotSender.MAX_RESENDS + 2));
        assertEquals(0, c.node(3).snapshotStats().installed(), "no chunk ever arrived");
        c.drop = m -> false;
        c.ticks(5);
        assertEquals(1, c.node(3).snapshotStats().installed());
        assertEquals(78L, c.machines.get(3).sum);
    }

    /**
     * A snapshot written off the node's thread that ends after a newer one came from the leader is dropped:
     * installed, it would take the store back behind the log the node holds.
     */
    @Test
    void aSnapshotWriteThatEndsAfterTheLeadersNewerSnapshotIsDropped() {
        DrivenCluster c = new DrivenCluster(Set.of(1, 2));
        c.nodes.clear();
        c.policy(new SnapshotPolicy(64, 0, 8, 2));
        c.add(1);
        c.add(2);
        c.deferredWriters.add(3);
        c.add(3);
        c.elect(1);
        CompletableFuture<Configuration> added = c.node(1).addVoter(3, Duration.ofSeconds(5));
        for (int i = 0; i < 20 && !added.isDone(); i++) c.tick();
        assertTrue(added.join().isVoter(3));
        long base = c.node(3).status().appliedIndex();
        for (int i = 1; i <= 3; i++) c.put(1, i); // past the budget: node 3 starts writing off its thread
        c.tick();
        assertEquals(1, c.pendingWrites.get(3).size(), "node 3's write is under way");
        long written = c.node(3).status().appliedIndex();
        assertTrue(written > base);

        long installedBefore = c.node(3).snapshotStats().installed();
        c.isolated.add(3);
        for (int i = 4; i <= 12; i++) c.put(1, i);
        long leaders = c.node(1).snapshotStats().snapshotIndex();
        assertTrue(leaders > written, "the leader snapshotted further and compacted: " + c.node(1).snapshotStats());
        c.isolated.clear();
        c.ticks(3);
        assertEquals(installedBefore + 1, c.node(3).snapshotStats().installed(), "node 3 installed the leader's snapshot");

        c.pendingWrites.get(3).poll().run(); // its own write ends only now
        c.settle();
        assertTrue(c.node(3).failure() == null, String.valueOf(c.node(3).failure()));
        assertEquals(leaders, c.storages.get(3).snapshot().orElseThrow().index(), "the older snapshot was not installed");
        assertEquals(0, c.node(3).snapshotStats().taken());
        assertEquals(78L, c.machines.get(3).sum);
    }

    /**
     * A follower that learns a new term from a snapshot stores the term before the snapshot: a store must never
     * hold a snapshot of a term newer than its current term, or a crash between the two writes leaves a node
     * that cannot start.
     */
    @Test
    void aSnapshotOfANewerTermIsInstalledOnlyAfterTheTermIsStored() {
        DrivenCluster c = new DrivenCluster(THREE).policy(new SnapshotPolicy(64, 0, 8, 2));
        c.elect(1);
        c.isolated.add(3);
        for (int i = 1; i <= 6; i++) c.put(1, i);
        c.node(1).transferLeadership(2);
        c.settle();
        assertEquals(Role.LEADER, c.node(2).status().role());
        for (int i = 7; i <= 12; i++) c.put(2, i);
        long term = c.node(2).status().term();
        assertTrue(c.node(2).snapshotStats().snapshotIndex() > 0);
        assertTrue(c.node(3).status().term() < term);
        c.storageCalls.get(3).clear();
        c.isolated.clear();
        c.ticks(3);
        List<String> calls = c.storageCalls.get(3);
        int install = calls.indexOf(calls.stream().filter(s -> s.startsWith("install")).findFirst().orElseThrow());
        assertTrue(calls.subList(0, install).contains("persist term " + term), calls.toString());
        assertEquals(78L, c.machines.get(3).sum);
    }

    @Test
    void argumentsAtTheEdgeOfWhatIsAllowedAreTakenAndOnePastIsRefused() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.node(1).transferLeadership(1); // to itself: nothing to do, no refusal
        assertEquals("node ids start at 1, not 0",
                assertThrows(IllegalArgumentException.class, () -> c.node(1).transferLeadership(0)).getMessage());
        CompletableFuture<Configuration> one = c.node(1).addVoter(1, Duration.ofSeconds(1));
        c.settle();
        c.tick();
        assertTrue(one.isDone(), "node 1 is a voter already: nothing to add");
        RaftConfig cfg = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
        assertEquals("spinsBeforePark must be >= 0, was -1", assertThrows(IllegalArgumentException.class,
                () -> RaftNode.builder(cfg, new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> null).tickInterval(Duration.ofMillis(5)).spinsBeforePark(-1).build()).getMessage());
    }

    @Test
    void aRemovalOfAMemberCompletesOnceCommitted() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        CompletableFuture<Configuration> removal = c.node(1).removeMember(3);
        c.settle();
        c.tick();
        assertEquals(Set.of(1, 2), removal.join().members());
    }

    /** A node built from a store shows the store's term before it takes a step. */
    @Test
    void aNodeShowsWhatItsStoreHoldsBeforeItRuns() {
        MemoryStorage storage = new MemoryStorage();
        storage.persist(new HardState(4, 2, 0), List.of());
        RaftConfig cfg = RaftConfig.builder(1, THREE, new SplittableRandom(1)).build();
        RaftNode n = RaftNode.builder(cfg, storage, new DrivenCluster.Counter(false)).transport(sink -> new Transport() {
            @Override public void send(io.raftkv.raft.Message m) { }
            @Override public void close() { }
        }).tickInterval(Duration.ofMillis(5)).build();
        NodeStatus s = n.status();
        assertEquals(new NodeStatus(1, true, Role.FOLLOWER, 4, 0, 0, 0, 0), s);
        n.close();
    }

    /** An Error from the state machine stops the node, which answers what it held and shows itself down. */
    @Test
    void anErrorFromTheStateMachineStopsTheNodeWhichAnswersWhatItHeld() {
        DrivenCluster c = new DrivenCluster(Set.of(1));
        c.elect(1);
        RaftNode n = c.node(1);
        List<Object> answers = new ArrayList<>();
        Reply reply = new Reply() {
            @Override public void ok(Object result) { answers.add("ok " + result); }
            @Override public void notLeader(int leaderHint) { answers.add("notLeader"); }
        };
        c.machines.get(1).failWith = new AssertionError("the machine is broken");
        n.read("q", reply);
        n.propose(new byte[] {1}, reply);
        for (int i = 0; i < 5 && n.step(false); i++) { }
        assertFalse(n.step(false), "stopped");
        assertEquals("the machine is broken", n.failure().getMessage());
        assertEquals(List.of("ok q=0", "notLeader"), answers, "the read came before the write that broke it");
        assertFalse(n.status().alive());
        assertTrue(n.stopped());
    }
}

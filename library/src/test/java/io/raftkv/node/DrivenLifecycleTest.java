package io.raftkv.node;

import io.raftkv.raft.ConfigChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.SnapshotChunk;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static io.raftkv.node.DrivenCluster.failureOf;
import static io.raftkv.node.DrivenCluster.noting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A node's life from construction to close, and the membership and leadership calls around it: mostly production
 * nodes driven pass by pass ({@link DrivenCluster}), as exact traces; the few tests of the node's own thread (its
 * wake-ups and its close) wait only on bounded conditions.
 */
class DrivenLifecycleTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Transport NO_TRANSPORT = new Transport() {
        @Override public void send(Message m) { }
        @Override public void close() { }
    };

    /** The failure a completed-exceptionally future holds. */
    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) fail("timed out after " + WAIT + " waiting until " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    // ---------------------------------------------------------------- construction

    /** A node shows, alive, the term its store holds from the moment it is built, before any pass. */
    @Test
    void aNewNodeShowsItselfAliveAtItsStoredTermBeforeItsFirstPass() {
        MemoryStorage storage = new MemoryStorage();
        storage.persist(new HardState(7, 3, 0), List.of());
        RaftConfig cfg = RaftConfig.builder(2, THREE, new SplittableRandom(2)).build();
        RaftNode n = RaftNode.builder(cfg, storage, new DrivenCluster.Counter(false)).transport(sink -> NO_TRANSPORT).tickInterval(Duration.ofMillis(5)).build();
        assertEquals(new NodeStatus(2, true, Role.FOLLOWER, 7, 0, 0, 0, 0), n.status());
        n.close();
        assertEquals(new NodeStatus(2, false, Role.FOLLOWER, 7, 0, 0, 0, 0), n.status(), "closed: down, keeping its term");
        assertEquals("spinsBeforePark must be >= 0, was -1", assertThrows(IllegalArgumentException.class,
                () -> RaftNode.builder(cfg, new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> NO_TRANSPORT).tickInterval(Duration.ofMillis(5)).spinsBeforePark(-1).build()).getMessage());
    }

    // ---------------------------------------------------------------- node 1 is a node like any other

    @Test
    void leadershipCanBeHandedToNodeOne() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(2);
        c.node(2).transferLeadership(1);
        c.settle();
        assertEquals(Role.LEADER, c.node(1).status().role());
        assertEquals(1, c.node(2).status().leader());
        assertEquals("node ids start at 1, not 0",
                assertThrows(IllegalArgumentException.class, () -> c.node(1).transferLeadership(0)).getMessage());
    }

    @Test
    void nodeOneCanBeAddedAsAVoter() {
        DrivenCluster c = new DrivenCluster(Set.of(2, 3));
        c.add(1);
        c.elect(2);
        CompletableFuture<Configuration> done = c.node(2).addVoter(1, Duration.ofSeconds(5));
        for (int i = 0; i < 20 && !done.isDone(); i++) c.tick();
        assertEquals(Set.of(1, 2, 3), done.join().voters());
        assertEquals("node id must be >= 1, was 0",
                assertThrows(IllegalArgumentException.class, () -> c.node(2).addVoter(0, Duration.ofSeconds(5))).getMessage());
    }

    // ---------------------------------------------------------------- adding a voter, step by step

    /** The learner's entry is on disk in the very pass that takes the request, not a pass later. */
    @Test
    void theLearnerEntryIsPersistedInThePassThatTakesTheAddition() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.add(4);
        c.node(1).addVoter(4, Duration.ofSeconds(5));
        assertTrue(c.node(1).step(false));
        List<Entry> log = c.storages.get(1).entries();
        Entry last = log.get(log.size() - 1);
        assertEquals(Entry.Kind.CONFIG, last.kind());
        assertEquals(Set.of(4), Configuration.decode(last.data()).learners());
    }

    /**
     * The catch-up deadline is inclusive: with no time to catch up the learner is still added, and the
     * addition times out only once the clock has moved past the deadline.
     */
    @Test
    void anAdditionWithNoTimeToCatchUpAddsTheLearnerAndTimesOutOnceTheClockMoves() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.add(4);
        c.isolated.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, Duration.ZERO);
        c.settle();
        assertFalse(done.isDone(), "the deadline is now, not passed");
        assertTrue(c.node(1).committedConfiguration().isLearner(4));
        c.tick();
        Throwable t = failureOf(done);
        assertInstanceOf(TimeoutException.class, t);
        assertEquals("node 4 did not catch up with the leader's log in time; it stays a learner", t.getMessage());
    }

    /** A learner that has caught up with nothing is not promoted, whatever the clock reads (here it starts at zero). */
    @Test
    void aLearnerThatNeverCaughtUpIsNotPromotedOnAClockThatStartsAtZero() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.now = 0;
        c.elect(1);
        c.add(4);
        c.isolated.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, DrivenCluster.TICK.multipliedBy(5));
        c.settle();
        assertTrue(c.node(1).committedConfiguration().isLearner(4));
        for (int i = 0; i < 10 && !done.isDone(); i++) c.tick();
        assertInstanceOf(TimeoutException.class, failureOf(done));
        assertTrue(c.node(1).configuration().isLearner(4), "still a learner: " + c.node(1).configuration());
    }

    /**
     * A learner that reaches the round's target exactly one election timeout after the round began has kept up:
     * it is promoted in the very pass that sees it caught up, without waiting for another word from it (its later
     * acknowledgements are lost here), and the promotion commits within that same tick.
     */
    @Test
    void aLearnerThatCatchesUpExactlyOneElectionTimeoutIntoTheRoundIsPromotedAtOnce() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        assertEquals(5L, c.put(1, 5));
        c.add(4);
        c.isolated.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, Duration.ofSeconds(5));
        c.settle();
        assertTrue(c.node(1).committedConfiguration().isLearner(4), "the first round starts now");
        long roundStart = c.now;
        c.ticks(DrivenCluster.ELECTION_TICKS - 1);
        assertFalse(done.isDone());
        c.isolated.clear();
        boolean[] caughtUp = {false};
        c.drop = m -> {
            if (!(m instanceof Message.AppendResponse r) || r.from() != 4 || !r.success()) return false;
            if (caughtUp[0]) return true;
            caughtUp[0] = true;
            return false;
        };
        c.tick();
        assertTrue(caughtUp[0]);
        assertEquals(roundStart + DrivenCluster.TICK.toNanos() * DrivenCluster.ELECTION_TICKS, c.now);
        assertTrue(done.isDone(), "promoted and committed in the tick it caught up");
        assertEquals(Set.of(1, 2, 3, 4), done.join().voters());
        assertEquals(5L, c.machines.get(4).sum);
    }

    /** A leader cut off from its followers steps down (CheckQuorum) and fails the addition under way; it goes on. */
    @Test
    void aLeaderThatStepsDownOnItsOwnFailsTheAdditionAndGoesOn() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.add(4);
        c.isolated.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, Duration.ofSeconds(5));
        c.settle();
        assertTrue(c.node(1).committedConfiguration().isLearner(4));
        c.isolated.add(1);
        for (int i = 0; i < 3 * DrivenCluster.ELECTION_TICKS && c.node(1).status().role() == Role.LEADER; i++) c.tick();
        assertEquals(Role.FOLLOWER, c.node(1).status().role());
        NotLeaderException e = assertInstanceOf(NotLeaderException.class, failureOf(done));
        assertEquals(0, e.leaderHint());
        c.tick();
        assertNull(c.node(1).failure());
        assertTrue(c.node(1).status().alive());
    }

    /** A leader closed while a voter is being added fails the addition: nobody else would. */
    @Test
    void aLeaderClosedWhileAddingAVoterFailsTheAddition() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.add(4);
        c.isolated.add(4);
        CompletableFuture<Configuration> done = c.node(1).addVoter(4, Duration.ofSeconds(5));
        c.settle();
        c.tick();
        assertFalse(done.isDone());
        c.node(1).close();
        assertEquals(0, assertInstanceOf(NotLeaderException.class, failureOf(done)).leaderHint());
    }

    // ---------------------------------------------------------------- a closed node

    /** Once closed, a node refuses every membership call at once, with a future that says so. */
    @Test
    void aClosedNodeRefusesMembershipCallsAtOnce() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        RaftNode n = c.node(1);
        n.close();
        assertInstanceOf(NotLeaderException.class, failureOf(n.changeMembership(ConfigChange.remove(3))));
        assertInstanceOf(NotLeaderException.class, failureOf(n.addVoter(4, Duration.ofSeconds(5))));
        CompletableFuture<Configuration> removal = n.removeMember(3);
        assertInstanceOf(NotLeaderException.class, failureOf(removal), "3 is a member: the removal goes to the (stopped) node");
    }

    /** A node stopped by an Error answers what it held, shows itself down with how far it had come, and tells its owner. */
    @Test
    void aDrivenNodeStoppedByAnErrorAnswersWhatItHeldAndShowsItselfDown() {
        DrivenCluster c = new DrivenCluster(Set.of(1));
        c.elect(1);
        RaftNode n = c.node(1);
        NodeStatus before = n.status();
        int notices = c.leadershipChanges.get(1).get();
        List<Object> answers = new ArrayList<>();
        c.machines.get(1).failWith = new AssertionError("broken");
        n.propose(new byte[] {1}, noting(answers));
        assertFalse(n.step(false), "the command's apply stopped it");
        assertEquals("broken", n.failure().getMessage());
        assertEquals(List.of("notLeader 0"), answers);
        assertTrue(n.stopped());
        assertEquals(new NodeStatus(1, false, Role.FOLLOWER, before.term(), 0, before.lastIndex(), before.commitIndex(),
                before.appliedIndex()), n.status());
        assertEquals(notices + 1, c.leadershipChanges.get(1).get());
        assertFalse(n.step(false));
    }

    // ---------------------------------------------------------------- snapshot transfers at the end of a role

    /** A leader that steps down stops streaming its snapshot and releases it. */
    @Test
    void aLeaderThatStepsDownStopsStreamingItsSnapshotAndReleasesIt() {
        DrivenCluster c = new DrivenCluster(THREE).policy(new SnapshotPolicy(64, 0, 8, 2));
        c.elect(1);
        c.isolated.add(3);
        for (int i = 1; i <= 12; i++) c.put(1, i);
        assertTrue(c.node(1).snapshotStats().snapshotIndex() > 0);
        List<Integer> chunkSenders = new ArrayList<>();
        c.drop = m -> {
            if (!(m instanceof SnapshotChunk)) return false;
            chunkSenders.add(m.from());
            return true;
        };
        c.isolated.clear();
        for (int i = 0; i < 50 && !chunkSenders.contains(1); i++) c.tick();
        assertEquals(1, c.openSnapshotHandles(1), "node 1 streams its snapshot to node 3");
        c.node(1).transferLeadership(2);
        c.settle();
        assertEquals(Role.LEADER, c.node(2).status().role());
        assertEquals(0, c.openSnapshotHandles(1), "released when it stepped down");
        chunkSenders.clear();
        c.ticks(3 * 2 * DrivenCluster.ELECTION_TICKS); // several of the sender's quiet spells
        assertFalse(chunkSenders.contains(1), "a follower streams no snapshot: " + chunkSenders);
        assertNull(c.node(1).failure());
        assertTrue(c.node(1).status().alive());
    }

    /** A follower closed halfway through receiving a snapshot releases the part it holds. */
    @Test
    void aFollowerClosedHalfwayThroughASnapshotReleasesIt() {
        DrivenCluster c = new DrivenCluster(THREE).policy(new SnapshotPolicy(64, 0, 8, 2));
        c.elect(1);
        c.isolated.add(3);
        for (int i = 1; i <= 12; i++) c.put(1, i);
        c.drop = m -> m instanceof SnapshotChunk ch && ch.offset() > 0;
        c.isolated.clear();
        for (int i = 0; i < 50 && c.openSnapshotHandles(3) == 0; i++) c.tick();
        assertEquals(1, c.openSnapshotHandles(3), "node 3 holds the first chunk");
        assertEquals(0, c.node(3).snapshotStats().installed());
        c.node(3).close();
        assertEquals(0, c.openSnapshotHandles(3));
    }

    // ---------------------------------------------------------------- published figures

    /** After a compaction the published log figures are the log's: its entries from before the snapshot on, and their bytes. */
    @Test
    void theLogFiguresArePublishedAfterACompaction() {
        DrivenCluster c = new DrivenCluster(Set.of(1)).policy(new SnapshotPolicy(64, 2, 8, 2));
        c.elect(1);
        c.put(1, 1);
        assertEquals(2, c.node(1).snapshotStats().logEntries(), "the no-op and one command");
        assertEquals(24 + 25, c.node(1).snapshotStats().logBytes());
        for (int i = 2; i <= 12; i++) c.put(1, i);
        SnapshotStats stats = c.node(1).snapshotStats();
        assertTrue(stats.taken() > 0, stats.toString());
        long last = c.node(1).status().lastIndex();
        assertEquals(last - stats.snapshotIndex() + 2, stats.logEntries(), "two trailing entries before the snapshot: " + stats);
        assertEquals(25 * stats.logEntries(), stats.logBytes(), stats.toString());
    }

    // ---------------------------------------------------------------- the node's own thread

    /** Threads made as virtual threads and remembered, in the order the node asks: its thread, then its ticker. */
    private static final class Threads implements ThreadFactory {
        final List<Thread> made = new CopyOnWriteArrayList<>();

        @Override public Thread newThread(Runnable r) {
            Thread t = Thread.ofVirtual().unstarted(r);
            made.add(t);
            return t;
        }
    }

    /**
     * A parked node wakes for a request at once, not at its next tick (an hour away here); and closing it does not
     * wait for that tick either.
     */
    @Test
    void aParkedNodeWakesForARequestAndClosesWithoutWaitingForItsTick() {
        Threads threads = new Threads();
        RaftConfig cfg = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
        RaftNode n = RaftNode.builder(cfg, new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> NO_TRANSPORT).tickInterval(Duration.ofHours(1)).threads(threads).build();
        n.start();
        try {
            Thread nodeThread = threads.made.get(0);
            await("the node's thread parks with nothing to do", () -> nodeThread.getState() == Thread.State.WAITING);
            n.campaign();
            await("the woken node leads and commits its no-op", () -> n.status().role() == Role.LEADER && n.status().appliedIndex() == 1);
        } finally {
            n.close();
        }
        assertTrue(n.stopped());
        assertFalse(threads.made.get(1).isAlive(), "the ticker has ended");
    }

    /**
     * A started node's ticks come no sooner than its interval: its first election, on a clock of its own, takes at
     * least as many whole intervals as the same node driven by hand takes ticks.
     */
    @Test
    void aStartedNodesFirstElectionTakesAtLeastItsElectionTicksInWholeIntervals() {
        // Few ticks of a long interval: the test is short, and a tick early by part of an interval shows.
        Duration tick = Duration.ofMillis(100);
        java.util.function.Supplier<RaftConfig> cfg = () -> RaftConfig.builder(1, Set.of(1), new SplittableRandom(1))
                .electionTicks(2).build();
        RaftNode twin = RaftNode.builder(cfg.get(), new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> NO_TRANSPORT).tickInterval(tick).threads(Thread.ofPlatform()::unstarted).clock(() -> 0L).snapshotWriters(Runnable::run).build();
        int ticks = 0;
        while (twin.status().role() != Role.LEADER) {
            assertTrue(twin.step(true));
            assertTrue(++ticks < 1000, "the driven twin never campaigned");
        }
        twin.close();

        long start = System.nanoTime();
        RaftNode n = RaftNode.builder(cfg.get(), new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> NO_TRANSPORT).tickInterval(tick).build();
        n.start();
        try {
            await("the node elects itself on its own ticks", () -> n.status().role() == Role.LEADER);
            long took = System.nanoTime() - start;
            assertTrue(took >= ticks * tick.toNanos(), "elected after " + took + " ns, sooner than " + ticks + " ticks of " + tick);
        } finally {
            n.close();
        }
    }

    /**
     * close() returns only once the ticker's thread has ended too: here the factory's ticker thread lingers after its
     * task until the transport is closed (or a while has passed), and the transport is closed only after it ended.
     */
    @Test
    void closeWaitsForTheTickerThreadToEndBeforeItClosesTheTransport() {
        CountDownLatch transportClosed = new CountDownLatch(1);
        List<Thread> made = new CopyOnWriteArrayList<>();
        ThreadFactory lingering = r -> {
            boolean ticker = made.size() == 1;
            Thread t = Thread.ofVirtual().unstarted(() -> {
                r.run();
                if (ticker) {
                    try {
                        transportClosed.await(200, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            made.add(t);
            return t;
        };
        List<Boolean> tickerAliveAtTransportClose = new CopyOnWriteArrayList<>();
        Transport transport = new Transport() {
            @Override public void send(Message m) { }
            @Override public void close() {
                tickerAliveAtTransportClose.add(made.get(1).isAlive());
                transportClosed.countDown();
            }
        };
        RaftConfig cfg = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
        RaftNode n = RaftNode.builder(cfg, new MemoryStorage(), new DrivenCluster.Counter(false)).transport(sink -> transport).tickInterval(Duration.ofMillis(5)).threads(lingering).build();
        n.start();
        n.close();
        assertEquals(List.of(false), tickerAliveAtTransportClose);
        assertTrue(n.stopped());
    }

    /** A counter whose commands wait in apply until the test lets them go. */
    private static final class HeldCounter implements StateMachine {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        long count;

        @Override public Object apply(long index, byte[] command) {
            entered.countDown();
            try {
                if (!release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) throw new IllegalStateException("never released");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return ++count;
        }

        @Override public Object query(Object query) { return count; }
    }

    /**
     * Closing on an interrupted thread fails and keeps the interrupt; the node is stopping by then, so a request is
     * refused at once even though its thread is still busy with a command; the command is still answered.
     */
    @Test
    void anInterruptedCloseKeepsTheInterruptAndTheStoppingNodeRefusesNewRequestsAtOnce() throws Exception {
        HeldCounter machine = new HeldCounter();
        RaftConfig cfg = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
        RaftNode n = RaftNode.builder(cfg, new MemoryStorage(), machine).transport(sink -> NO_TRANSPORT).tickInterval(Duration.ofHours(1)).build();
        n.start();
        try {
            n.campaign();
            await("it leads", () -> n.status().role() == Role.LEADER);
            List<Object> first = new CopyOnWriteArrayList<>();
            n.propose(new byte[] {1}, noting(first));
            assertTrue(machine.entered.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the command reached the state machine");

            Thread.currentThread().interrupt();
            IllegalStateException e = assertThrows(IllegalStateException.class, n::close);
            assertEquals("interrupted while stopping node 1", e.getMessage());
            assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");

            List<Object> late = new ArrayList<>();
            n.propose(new byte[] {2}, noting(late));
            assertEquals(List.of("notLeader 0"), late, "refused at once by a stopping node");
            assertTrue(first.isEmpty(), "the first command is still being applied");

            machine.release.countDown();
            await("the first command is answered", () -> !first.isEmpty());
            assertEquals(List.of("ok 1"), first);
        } finally {
            machine.release.countDown();
            n.close();
        }
        assertTrue(n.stopped());
    }
}

package io.raftkv.node;

import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Role;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.transport.InMemoryNetwork;
import io.raftkv.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A node at run time: its thread, the order persist / reply / apply, reads, and stopping. One node
 * alone (voters {1}) with a transport that only records, and three nodes on an in-memory network.
 */
class RaftNodeTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeEverything() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) toClose.get(i).close();
    }

    /** Counts the commands it applies; a query answers the count. Remembers what it applied, in order. */
    static final class CountingStateMachine implements StateMachine {
        final List<Long> appliedIndexes = new CopyOnWriteArrayList<>();
        final List<String> appliedCommands = new CopyOnWriteArrayList<>();

        @Override
        public Object apply(long index, byte[] command) {
            appliedIndexes.add(index);
            appliedCommands.add(new String(command, StandardCharsets.UTF_8));
            return (long) appliedIndexes.size();
        }

        @Override
        public Object query(Object query) {
            return "count of " + query + " = " + appliedIndexes.size();
        }
    }

    /** Records what the node sends; delivers nothing. */
    static final class RecordingTransport implements Transport {
        final List<Message> sent = new CopyOnWriteArrayList<>();
        volatile boolean closed;

        @Override
        public void send(Message message) {
            sent.add(message);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** What a {@link Reply} was told, as a future: the result of ok, or {@link NotLeader}. */
    record NotLeader(int hint) {}

    record Unavailable(String reason) {}

    static final class FutureReply implements Reply {
        final CompletableFuture<Object> answer = new CompletableFuture<>();
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public void ok(Object result) {
            calls.incrementAndGet();
            answer.complete(result);
        }

        @Override
        public void notLeader(int leaderHint) {
            calls.incrementAndGet();
            answer.complete(new NotLeader(leaderHint));
        }

        @Override
        public void unavailable(String reason) {
            calls.incrementAndGet();
            answer.complete(new Unavailable(reason));
        }

        Object get() {
            try {
                return answer.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                throw new AssertionError("no answer within " + WAIT, e);
            }
        }
    }

    static void await(String what, BooleanSupplier condition, Supplier<?> state) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) fail("timed out after " + WAIT + " waiting until " + what + "; last seen: " + state.get());
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- one node alone

    private final MemoryStorage storage = new MemoryStorage();
    private final RecordingTransport transport = new RecordingTransport();
    private final CountingStateMachine counter = new CountingStateMachine();
    private final AtomicInteger leadershipChanges = new AtomicInteger();

    /** Node 1 of {1}; long ticks (50 ms, election after 10-20), so only campaign() makes it lead soon. */
    private RaftNode loneNode() {
        RaftConfig config = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).electionTicks(10).build();
        RaftNode node = RaftNode.builder(config, storage, counter).transport(sink -> transport).tickInterval(Duration.ofMillis(50)).onLeadershipChange(leadershipChanges::incrementAndGet).build();
        toClose.add(node);
        node.start();
        return node;
    }

    private RaftNode loneLeader() {
        RaftNode node = loneNode();
        node.campaign();
        await("node 1 leads", () -> node.status().role() == Role.LEADER, node::status);
        return node;
    }

    @Test
    void aLoneNodeBecomesLeaderAfterCampaign() {
        RaftNode node = loneNode();
        assertEquals(1, node.id());
        node.campaign();
        await("node 1 leads", () -> node.status().role() == Role.LEADER, node::status);

        NodeStatus s = node.status();
        assertTrue(s.alive());
        assertEquals(1, s.leader());
        assertTrue(s.term() >= 1, s.toString());
        assertEquals(s.term(), storage.hardState().term(), "the term it leads in is persisted");
        assertEquals(1, storage.hardState().votedFor(), "its vote for itself is persisted");
        // The status is published just before the callback runs, so wait for it rather than assert at once.
        await("the leadership change is announced", () -> leadershipChanges.get() >= 1, leadershipChanges::get);
        assertTrue(transport.sent.isEmpty(), "a lone node has no one to send to: " + transport.sent);
        assertNull(node.failure());
    }

    @Test
    void aLoneLeaderCommitsItsNoOpAndPublishesCommitAndAppliedIndexes() {
        RaftNode node = loneLeader();
        await("the no-op is applied", () -> node.status().appliedIndex() >= 1, node::status);
        assertEquals(1, storage.lastIndex());
        assertEquals(Entry.Kind.NOOP, storage.entries().get(0).kind());
        assertTrue(counter.appliedIndexes.isEmpty(), "a no-op is not handed to the state machine");
    }

    @Test
    void aProposalBeforeTheNodeLeadsIsAnsweredNotLeader() {
        RaftNode node = loneNode();
        FutureReply reply = new FutureReply();
        node.propose(bytes("x"), reply);
        assertEquals(new NotLeader(0), reply.get());
        FutureReply read = new FutureReply();
        node.read("k", read);
        assertEquals(new NotLeader(0), read.get());
        assertTrue(counter.appliedIndexes.isEmpty());
    }

    @Test
    void aProposalIsAnsweredWithWhatTheStateMachineReturned() {
        RaftNode node = loneLeader();
        List<FutureReply> replies = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            FutureReply r = new FutureReply();
            node.propose(bytes("c" + i), r);
            replies.add(r);
        }
        for (int i = 1; i <= 3; i++) assertEquals((long) i, replies.get(i - 1).get(), "reply " + i);
        assertEquals(List.of("c1", "c2", "c3"), counter.appliedCommands);
        assertEquals(List.of(2L, 3L, 4L), counter.appliedIndexes, "entry 1 is the leader's no-op");
        for (FutureReply r : replies) assertEquals(1, r.calls.get(), "a reply is answered once");
    }

    @Test
    void anEntryIsInStorageBeforeItsProposerIsAnswered() {
        RaftNode node = loneLeader();
        byte[] command = bytes("durable");
        CompletableFuture<String> seen = new CompletableFuture<>();
        node.propose(command, new Reply() {
            @Override
            public void ok(Object result) {
                // Runs on the node's thread, after persist: the entry must already be stored.
                long index = counter.appliedIndexes.get(0);
                List<Entry> stored = storage.entries();
                if (storage.lastIndex() < index) {
                    seen.complete("lastIndex " + storage.lastIndex() + " < applied index " + index);
                } else if (!Arrays.equals(stored.get((int) index - 1).data(), command)) {
                    seen.complete("entry " + index + " in storage is " + stored.get((int) index - 1));
                } else if (storage.hardState().commit() > index) {
                    seen.complete("hard state commit " + storage.hardState().commit() + " beyond " + index);
                } else {
                    seen.complete("stored");
                }
            }

            @Override
            public void notLeader(int leaderHint) {
                seen.complete("notLeader(" + leaderHint + ")");
            }
        });
        assertEquals("stored", seen.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join());
    }

    @Test
    void aReadIsAnsweredWithTheQueryResultAfterEarlierWritesAreApplied() {
        RaftNode node = loneLeader();
        List<FutureReply> writes = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            FutureReply r = new FutureReply();
            node.propose(bytes("w" + i), r);
            writes.add(r);
        }
        for (FutureReply w : writes) w.get();

        FutureReply read = new FutureReply();
        node.read("k", read);
        assertEquals("count of k = 5", read.get());
        assertEquals(1, read.calls.get());
    }

    @Test
    void aReadRightAfterElectionWaitsForTheNoOpAndIsServed() {
        RaftNode node = loneNode();
        node.campaign();
        FutureReply read = new FutureReply();
        // Queued behind the campaign: by the time it is taken the node leads.
        node.read("k", read);
        assertEquals("count of k = 0", read.get());
    }

    @Test
    void closeStopsTheNodeAndLaterRequestsAreAnsweredNotLeaderAtOnce() {
        RaftNode node = loneLeader();
        FutureReply write = new FutureReply();
        node.propose(bytes("before"), write);
        assertEquals(1L, write.get());
        int changesBefore = leadershipChanges.get();

        node.close();

        NodeStatus s = node.status();
        assertFalse(s.alive(), s.toString());
        assertEquals(Role.FOLLOWER, s.role());
        assertEquals(0, s.leader());
        assertTrue(transport.closed, "close() closes the transport");
        assertTrue(leadershipChanges.get() > changesBefore, "stopping is announced as a leadership change");
        assertNull(node.failure(), "a requested stop is not a failure");

        // Answered on the caller's thread before propose returns: nothing left to wait for.
        FutureReply after = new FutureReply();
        node.propose(bytes("after"), after);
        assertTrue(after.answer.isDone(), "a proposal after close must be answered at once");
        assertEquals(new NotLeader(0), after.answer.join());
        FutureReply read = new FutureReply();
        node.read("k", read);
        assertTrue(read.answer.isDone());
        assertEquals(new NotLeader(0), read.answer.join());

        assertEquals(List.of("before"), counter.appliedCommands);
        assertEquals(2, storage.lastIndex(), "what was persisted stays in storage");
    }

    @Test
    void everyProposalRacingWithCloseIsAnswered() throws Exception {
        long budget = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        SplittableRandom random = new SplittableRandom();
        for (int cycle = 0; System.nanoTime() - budget < 0; cycle++) {
            RaftConfig config = RaftConfig.builder(1, Set.of(1), new SplittableRandom(cycle)).electionTicks(10).build();
            // A follower that never campaigns answers each proposal notLeader at once: many proposals in flight.
            RaftNode node = RaftNode.builder(config, new MemoryStorage(), new CountingStateMachine()).transport(sink -> new RecordingTransport()).tickInterval(Duration.ofSeconds(1)).build();
            node.start();
            List<FutureReply> replies = new CopyOnWriteArrayList<>();
            AtomicBoolean go = new AtomicBoolean(true);
            List<Thread> producers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                producers.add(Thread.ofPlatform().start(() -> {
                    Semaphore window = new Semaphore(32);
                    while (go.get()) {
                        try {
                            // Wait for a free slot rather than spin: the node answers within microseconds.
                            if (!window.tryAcquire(1, TimeUnit.MILLISECONDS)) continue;
                        } catch (InterruptedException e) {
                            return;
                        }
                        FutureReply r = new FutureReply();
                        r.answer.whenComplete((v, x) -> window.release());
                        replies.add(r);
                        node.propose(bytes("p"), r);
                        if (r.answer.isDone() && !node.status().alive()) break;
                    }
                }));
            }
            LockSupport.parkNanos(random.nextLong(50_000, 300_000));
            node.close();
            go.set(false);
            for (Thread t : producers) t.join();
            // close() has joined the node's thread, and every producer has returned from propose():
            // a reply not answered now never will be.
            long unanswered = replies.stream().filter(r -> !r.answer.isDone()).count();
            assertEquals(0, unanswered, "close cycle " + cycle + ": " + unanswered + " of " + replies.size()
                    + " proposals were never answered");
        }
    }

    @Test
    void closingTwiceIsHarmless() {
        RaftNode node = loneLeader();
        node.close();
        node.close();
        assertFalse(node.status().alive());
    }

    @Test
    void aRestartedNodeKeepsItsTermAndLogAndLeadsAgain() {
        RaftNode first = loneLeader();
        FutureReply w = new FutureReply();
        first.propose(bytes("kept"), w);
        w.get();
        long term = first.status().term();
        first.close();

        CountingStateMachine again = new CountingStateMachine();
        RaftConfig config = RaftConfig.builder(1, Set.of(1), new SplittableRandom(2)).electionTicks(10).build();
        RaftNode second = RaftNode.builder(config, storage, again).transport(sink -> new RecordingTransport()).tickInterval(Duration.ofMillis(50)).build();
        toClose.add(second);
        second.start();
        second.campaign();
        await("node 1 leads again", () -> second.status().role() == Role.LEADER, second::status);
        assertTrue(second.status().term() > term, "a new term: " + second.status() + " after " + term);
        await("the old command is applied again", () -> again.appliedCommands.contains("kept"), () -> again.appliedCommands);
    }

    // ---------------------------------------------------------------- three nodes

    /** Nodes 1 to 3 (at 1..3 of the array) over an in-memory network, started; node 1 campaigns and leads. */
    private <M extends StateMachine> RaftNode[] threeNodesLedByNode1(MemoryStorage[] storages, M[] machines, Supplier<M> machine) {
        return threeNodesLedByNode1(new InMemoryNetwork(42), storages, machines, machine);
    }

    private <M extends StateMachine> RaftNode[] threeNodesLedByNode1(InMemoryNetwork network, MemoryStorage[] storages,
                                                                    M[] machines, Supplier<M> machine) {
        return threeNodesLedByNode1(network, storages, machines, machine, b -> b);
    }

    /** As above, over {@code network}; fills {@code storages} and {@code machines} (new ones) at 1..3. */
    private <M extends StateMachine> RaftNode[] threeNodesLedByNode1(InMemoryNetwork network, MemoryStorage[] storages,
                                                                    M[] machines, Supplier<M> machine,
                                                                    java.util.function.UnaryOperator<RaftConfig.Builder> tweak) {
        for (int id = 1; id <= 3; id++) {
            storages[id] = new MemoryStorage();
            machines[id] = machine.get();
        }
        toClose.add(network);
        RaftNode[] nodes = new RaftNode[4];
        for (int id = 1; id <= 3; id++) {
            // 10 ms ticks, elections after 30-60 ticks: node 1's campaign wins long before anyone times out.
            RaftConfig config = tweak.apply(RaftConfig.builder(id, Set.of(1, 2, 3), new SplittableRandom(id)).electionTicks(30)).build();
            int nodeId = id;
            nodes[id] = RaftNode.builder(config, storages[id], machines[id]).transport(sink -> network.connect(nodeId, sink)).tickInterval(Duration.ofMillis(10)).build();
            toClose.add(nodes[id]);
        }
        for (int id = 1; id <= 3; id++) nodes[id].start();
        nodes[1].campaign();
        Supplier<String> statuses = () -> nodes[1].status() + " " + nodes[2].status() + " " + nodes[3].status();
        await("node 1 leads and the others follow it", () -> nodes[1].status().role() == Role.LEADER
                && nodes[2].status().leader() == 1 && nodes[3].status().leader() == 1, statuses);
        return nodes;
    }

    @Test
    void aLeaderWhoseFollowersAreCutOffTurnsProposalsAwayOnceItsBacklogIsFullAndTakesThemWhenTheyReturn() {
        MemoryStorage[] storages = new MemoryStorage[4];
        CountingStateMachine[] machines = new CountingStateMachine[4];
        InMemoryNetwork network = new InMemoryNetwork(42);
        // Election timeouts of 30-60 ticks of 10 ms and no CheckQuorum: node 1 keeps leading while cut off.
        RaftNode[] nodes = threeNodesLedByNode1(network, storages, machines, CountingStateMachine::new,
                b -> b.maxUncommittedBytes(1_000).checkQuorum(false));
        FutureReply first = new FutureReply();
        nodes[1].propose(bytes("first"), first);
        assertInstanceOf(Long.class, first.get(), "committed, and the leader's no-op with it: nothing is uncommitted");
        long base = nodes[1].status().lastIndex();
        network.isolate(1);
        List<FutureReply> waiting = new ArrayList<>();
        Object answer = null;
        for (int i = 0; i < 20 && answer == null; i++) {
            FutureReply r = new FutureReply();
            nodes[1].propose(new byte[76], r); // 100 bytes an entry
            // An entry taken waits for its commit; one turned away is answered at once.
            long expectedLast = base + waiting.size() + 1;
            await("proposal " + i + " is in the log or answered", () -> r.answer.isDone()
                    || nodes[1].status().lastIndex() >= expectedLast, nodes[1]::status);
            if (r.answer.isDone()) answer = r.get(); else waiting.add(r);
        }
        Unavailable busy = assertInstanceOf(Unavailable.class, answer, "turned away, not left waiting");
        assertTrue(busy.reason().contains("maxUncommittedBytes"), busy.reason());
        assertEquals(10, waiting.size(), "ten commands of 100 bytes fill the bound of 1,000");
        for (FutureReply r : waiting) assertFalse(r.answer.isDone(), "still waiting for its commit");

        network.heal();
        for (FutureReply r : waiting) assertInstanceOf(Long.class, r.get(), "committed once the followers are back");
        FutureReply after = new FutureReply();
        nodes[1].propose(bytes("after"), after);
        assertInstanceOf(Long.class, after.get(), "taken again");
    }

    @Test
    void aRemovalIsReportedDoneOnlyOnceItIsCommitted() throws Exception {
        MemoryStorage[] storages = new MemoryStorage[4];
        CountingStateMachine[] machines = new CountingStateMachine[4];
        InMemoryNetwork network = new InMemoryNetwork(42);
        RaftNode[] nodes = threeNodesLedByNode1(network, storages, machines, CountingStateMachine::new);
        // The leader alone: its removal of node 3 goes into its log (the configuration in force lacks node 3)
        // but cannot commit.
        network.isolate(1);
        CompletableFuture<io.raftkv.raft.Configuration> first = nodes[1].changeMembership(io.raftkv.raft.ConfigChange.remove(3));
        await("the removal is in node 1's log", () -> !nodes[1].configuration().contains(3), nodes[1]::configuration);
        assertFalse(first.isDone(), "not committed");
        assertTrue(nodes[1].committedConfiguration().contains(3), "committed: still a member");
        // A retry (its first answer lost) must not be told that the removal is done: it may yet be rolled back.
        CompletableFuture<io.raftkv.raft.Configuration> retry = nodes[1].removeMember(3);
        java.util.concurrent.ExecutionException notYet = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, () -> retry.get(5, TimeUnit.SECONDS));
        assertEquals("the removal of node 3 is in node 1's log but not committed yet", notYet.getCause().getMessage());
        assertInstanceOf(IllegalStateException.class, notYet.getCause());
        // Reconnected, the leader commits it; then a retry is answered at once with the committed configuration.
        network.heal();
        assertEquals(Set.of(1, 2), first.get(5, TimeUnit.SECONDS).voters());
        await("node 1 publishes the committed removal", () -> !nodes[1].committedConfiguration().contains(3),
                nodes[1]::committedConfiguration);
        assertEquals(Set.of(1, 2), nodes[1].removeMember(3).get(0, TimeUnit.SECONDS).voters());
    }

    /** Applies commands as strings; throws on "boom", leaving its state as it was. */
    static final class FussyStateMachine implements StateMachine {
        final List<String> applied = new CopyOnWriteArrayList<>();

        @Override
        public Object apply(long index, byte[] command) {
            String c = new String(command, StandardCharsets.UTF_8);
            if (c.equals("boom")) throw new IllegalArgumentException("no boom here");
            applied.add(c);
            return (long) applied.size();
        }

        @Override
        public Object query(Object query) {
            return applied.size();
        }
    }

    @Test
    void aCommandTheStateMachineThrowsOnIsAnsweredWithTheFailureAndEveryReplicaGoesOn() {
        MemoryStorage[] storages = new MemoryStorage[4];
        FussyStateMachine[] machines = new FussyStateMachine[4];
        RaftNode[] nodes = threeNodesLedByNode1(storages, machines, FussyStateMachine::new);

        FutureReply boom = new FutureReply();
        nodes[1].propose(bytes("boom"), boom);
        CommandFailure failure = assertInstanceOf(CommandFailure.class, boom.get(), "the proposer learns what apply threw");
        assertEquals("no boom here", assertInstanceOf(IllegalArgumentException.class, failure.cause()).getMessage());
        assertEquals(2, failure.index(), "after the leader's no-op");

        FutureReply after = new FutureReply();
        nodes[1].propose(bytes("after"), after);
        assertEquals(1L, after.get(), "the next command applies, on a state the failed one left alone");
        for (int id = 1; id <= 3; id++) {
            FussyStateMachine m = machines[id];
            RaftNode n = nodes[id];
            await("node " + id + " applies the command after the failed one", () -> m.applied.contains("after"), () -> m.applied);
            assertEquals(List.of("after"), m.applied, "node " + id);
            assertFalse(n.stopped(), "node " + id + " runs on");
            assertNull(n.failure(), "node " + id);
            assertEquals(3, n.status().appliedIndex(), "node " + id + " applied past the failed command");
        }
    }

    @Test
    void threeNodesElectTheCampaignerAndReplicateAProposalToEveryStorage() {
        MemoryStorage[] storages = new MemoryStorage[4];
        CountingStateMachine[] machines = new CountingStateMachine[4];
        RaftNode[] nodes = threeNodesLedByNode1(storages, machines, CountingStateMachine::new);
        long term = nodes[1].status().term();

        byte[] command = bytes("replicated");
        FutureReply reply = new FutureReply();
        nodes[1].propose(command, reply);
        assertEquals(1L, reply.get(), "the leader's state machine answered");

        for (int id = 1; id <= 3; id++) {
            MemoryStorage s = storages[id];
            int nodeId = id;
            await("node " + id + " stores the command", () -> s.entries().stream()
                    .anyMatch(e -> e.kind() == Entry.Kind.COMMAND && Arrays.equals(e.data(), command)), s::entries);
            await("node " + id + " applies the command", () -> machines[nodeId].appliedCommands.contains("replicated"),
                    () -> machines[nodeId].appliedCommands);
        }
        // Same log everywhere: the leader's no-op, then the command, both of the leader's term.
        for (int id = 1; id <= 3; id++) {
            List<Entry> log = storages[id].entries();
            assertEquals(2, log.size(), "node " + id + ": " + log);
            assertEquals(Entry.Kind.NOOP, log.get(0).kind());
            assertEquals(storages[1].entries(), log, "node " + id);
            assertEquals(term, log.get(1).term());
            assertEquals(List.of(2L), machines[id].appliedIndexes, "node " + id);
        }

        // A follower does not take proposals; it points at the leader.
        FutureReply redirected = new FutureReply();
        nodes[2].propose(bytes("to a follower"), redirected);
        assertEquals(new NotLeader(1), redirected.get());
    }

    @Test
    void badArgumentsAreRefusedOnTheCallersThreadAndTheNodeLivesOn() {
        RaftConfig cfg = RaftConfig.builder(1, java.util.Set.of(1), new java.util.SplittableRandom(1)).build();
        RaftNode node = RaftNode.builder(cfg, new MemoryStorage(), new CountingStateMachine()).transport(sink -> new RecordingTransport()).tickInterval(java.time.Duration.ofMillis(5)).build();
        node.start();
        try {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> node.transferLeadership(0));
            node.transferLeadership(7); // not a voter (now): the leader does nothing
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> node.deliver(new io.raftkv.raft.Message.Heartbeat(2, 3, 1, 0, 0)));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> node.deliver(new io.raftkv.raft.Message.Heartbeat(1, 1, 1, 0, 0)));
            node.campaign();
            java.util.concurrent.CompletableFuture<Object> done = new java.util.concurrent.CompletableFuture<>();
            node.propose(new byte[] {1}, new Reply() {
                @Override public void ok(Object result) { done.complete(result); }
                @Override public void notLeader(int hint) { done.complete("notLeader"); }
            });
            Object r = org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> done.get(5, java.util.concurrent.TimeUnit.SECONDS));
            org.junit.jupiter.api.Assertions.assertTrue(node.status().alive(), "still alive after refusing bad input: " + r);
        } finally {
            node.close();
        }
    }

    @Test
    void closingANodeThatNeverStartedAnswersWhatWasQueued() throws Exception {
        RaftConfig cfg = RaftConfig.builder(1, java.util.Set.of(1), new java.util.SplittableRandom(1)).build();
        RaftNode node = RaftNode.builder(cfg, new MemoryStorage(), new CountingStateMachine()).transport(sink -> new RecordingTransport()).tickInterval(java.time.Duration.ofMillis(5)).build();
        java.util.concurrent.CompletableFuture<String> answer = new java.util.concurrent.CompletableFuture<>();
        node.propose(new byte[] {1}, new Reply() {
            @Override public void ok(Object r) { answer.complete("ok"); }
            @Override public void notLeader(int h) { answer.complete("notLeader"); }
        });
        node.close();
        org.junit.jupiter.api.Assertions.assertEquals("notLeader", answer.get(2, java.util.concurrent.TimeUnit.SECONDS));
        org.junit.jupiter.api.Assertions.assertTrue(node.stopped());
    }
}

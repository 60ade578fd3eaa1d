package io.raftkv.raft;

import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.VoteRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import static io.raftkv.raft.RaftElectionTest.sent;
import static io.raftkv.raft.TestNetwork.cmd;
import static io.raftkv.raft.TestNetwork.logOfTerms;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input is refused with a specific exception whose message says what was wrong, and changes nothing. */
class RaftInputValidationTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);

    private static void assertRefused(Class<? extends RuntimeException> type, Executable call, String... mustMention) {
        RuntimeException e = assertThrows(type, call);
        for (String s : mustMention) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(s),
                    "message \"" + e.getMessage() + "\" should mention \"" + s + "\"");
        }
    }

    private static RaftConfig.Builder builder() {
        return RaftConfig.builder(1, THREE, new SplittableRandom(1));
    }

    private static RaftCore leader() {
        RaftCore c = new RaftCore(RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build(), HardState.INITIAL, List.of());
        while (c.role() != Role.LEADER) c.tick();
        return c;
    }

    // ---------------------------------------------------------------- RaftCore inputs

    @Test
    void proposeOfNullIsRefused() {
        RaftCore c = leader();
        long last = c.log().lastIndex();
        assertRefused(NullPointerException.class, () -> c.propose(null), "command");
        assertEquals(last, c.log().lastIndex());
    }

    @Test
    void stepOfAMessageFromItselfIsRefused() {
        RaftCore c = leader();
        assertRefused(IllegalArgumentException.class,
                () -> c.step(new Heartbeat(1, 1, c.term(), 0, 0)), "from itself");
    }

    @Test
    void stepOfNullIsRefused() {
        assertRefused(NullPointerException.class, () -> leader().step(null), "message");
    }

    @Test
    void stepOfAMessageAddressedToAnotherNodeIsRefusedAndChangesNothing() {
        RaftCore c = new RaftCore(builder().build(), HardState.INITIAL, List.of());
        assertRefused(IllegalArgumentException.class, () -> c.step(new Heartbeat(2, 3, 7, 0, 0)), "node 3", "node 1");
        assertEquals(0, c.term(), "its higher term was not taken");
        assertTrue(sent(c.ready()).isEmpty());
    }

    @Test
    void transferToAServerThatIsNotAVoterIsRefused() {
        // Whether a node votes changes with the configuration, so this is an answer, not an exception.
        RaftCore leader = leader();
        assertFalse(leader.transferLeadership(4));
        assertEquals(Role.LEADER, leader.role());
        assertTrue(sent(leader.ready()).stream().noneMatch(m -> m instanceof Message.TimeoutNow));
    }

    @Test
    void startFromAnInconsistentPersistedStateIsRefused() {
        RaftConfig config = builder().build();
        assertRefused(NullPointerException.class, () -> new RaftCore(null, HardState.INITIAL, List.of()), "config");
        assertRefused(NullPointerException.class, () -> new RaftCore(config, null, List.of()), "hard state");
        assertRefused(NullPointerException.class, () -> new RaftCore(config, HardState.INITIAL, null), "log");
        assertRefused(IllegalArgumentException.class,
                () -> new RaftCore(config, new HardState(2, 0, 0), List.of(cmd(1, 1), cmd(3, 1))), "not contiguous", "3");
        assertRefused(IllegalArgumentException.class,
                () -> new RaftCore(config, new HardState(2, 0, 0), List.of(cmd(1, 2), cmd(2, 1))), "term going back");
        assertRefused(IllegalArgumentException.class,
                () -> new RaftCore(config, new HardState(1, 0, 0), logOfTerms(1, 2)), "term 2", "current term is only 1");
    }

    @Test
    void aPersistedCommitIndexAheadOfTheLogIsCutToItsEndAsAWriteTornAfterTheHardStateLeavesIt() {
        RaftCore c = new RaftCore(builder().build(), new HardState(1, 0, 3), logOfTerms(1, 1));
        assertEquals(2, c.commitIndex());
    }

    @Test
    void malformedRecordsAreRefused() {
        assertRefused(IllegalArgumentException.class, () -> new HardState(-1, 0, 0), "term", "-1");
        assertRefused(IllegalArgumentException.class, () -> new HardState(1, -2, 0), "votedFor", "-2");
        assertRefused(IllegalArgumentException.class, () -> new HardState(1, 0, -3), "commit", "-3");
        assertRefused(IllegalArgumentException.class, () -> new Entry(0, 1, Entry.Kind.COMMAND, new byte[0]), "index", "0");
        assertRefused(IllegalArgumentException.class, () -> new Entry(1, 0, Entry.Kind.COMMAND, new byte[0]), "term", "0");
        assertRefused(NullPointerException.class, () -> new Entry(1, 1, Entry.Kind.COMMAND, null), "data");
        assertRefused(NullPointerException.class, () -> new Entry(1, 1, null, new byte[0]), "kind");
    }

    // ---------------------------------------------------------------- RaftConfig

    @Test
    void configWithAnInvalidIdentityIsRefused() {
        SplittableRandom r = new SplittableRandom(1);
        assertRefused(IllegalArgumentException.class, () -> RaftConfig.builder(0, THREE, r), "node id", ">= 1", "0");
        assertRefused(IllegalArgumentException.class, () -> RaftConfig.builder(1, Set.of(), r), "voters", "empty");
        assertRefused(IllegalArgumentException.class, () -> RaftConfig.builder(1, Set.of(1, -2), r), "voter ids", "-2");
        assertRefused(NullPointerException.class, () -> RaftConfig.builder(1, null, r), "voters");
        assertRefused(NullPointerException.class, () -> RaftConfig.builder(1, THREE, null), "random");
        Set<Integer> withNull = new HashSet<>(THREE);
        withNull.add(null);
        assertRefused(NullPointerException.class, () -> RaftConfig.builder(1, withNull, r), "voters", "null");
    }

    @Test
    void configWithInvalidLimitsIsRefused() {
        List<Object[]> cases = new ArrayList<>();
        cases.add(new Object[] {(UnaryOperator<RaftConfig.Builder>) b -> b.electionTicks(1), "electionTicks must be >= 2, was 1"});
        cases.add(new Object[] {(UnaryOperator<RaftConfig.Builder>) b -> b.heartbeatTicks(0), "heartbeatTicks must be >= 1, was 0"});
        cases.add(new Object[] {(UnaryOperator<RaftConfig.Builder>) b -> b.maxEntriesPerMessage(0), "maxEntriesPerMessage must be >= 1, was 0"});
        cases.add(new Object[] {(UnaryOperator<RaftConfig.Builder>) b -> b.maxBytesPerMessage(-5), "maxBytesPerMessage must be >= 1, was -5"});
        cases.add(new Object[] {(UnaryOperator<RaftConfig.Builder>) b -> b.maxInflightMessages(0), "maxInflightMessages must be >= 1, was 0"});
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            UnaryOperator<RaftConfig.Builder> set = (UnaryOperator<RaftConfig.Builder>) c[0];
            assertRefused(IllegalArgumentException.class, () -> set.apply(builder()), (String) c[1]);
        }
        assertRefused(IllegalArgumentException.class, () -> builder().electionTicks(5).heartbeatTicks(5).build(),
                "heartbeatTicks (5)", "smaller than electionTicks (5)");
        assertRefused(NullPointerException.class, () -> builder().defectForTesting(null), "defect");
    }

    @Test
    void configKeepsTheVotersItWasGivenNotLaterChangesToTheSet() {
        Set<Integer> voters = new HashSet<>(THREE);
        RaftConfig.Builder b = RaftConfig.builder(1, voters, new SplittableRandom(1));
        voters.add(-7);
        assertEquals(THREE, b.build().voters());
    }

    @Test
    void votersIterateInAscendingIdOrderSoThatEveryRunSendsTheSameMessages() {
        // The JDK's immutable sets iterate in an order that changes from one JVM run to the next.
        Set<Integer> voters = Set.of(7, 3, 5, 1, 6, 2, 4);
        RaftConfig config = RaftConfig.builder(4, voters, new SplittableRandom(1)).preVote(false).build();
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), List.copyOf(config.voters()));

        RaftCore c = new RaftCore(config, HardState.INITIAL, List.of());
        while (c.role() == Role.FOLLOWER) c.tick();
        assertEquals(List.of(1, 2, 3, 5, 6, 7), sent(c.ready(), VoteRequest.class).stream().map(VoteRequest::to).toList());
    }

    @Test
    void maxUncommittedBytesBelowOneIsRefused() {
        assertRefused(IllegalArgumentException.class, () -> builder().maxUncommittedBytes(0), "maxUncommittedBytes", "0");
    }
}

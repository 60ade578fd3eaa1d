package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static io.raftkv.raft.RaftElectionTest.sent;
import static io.raftkv.raft.TestNetwork.cmd;
import static io.raftkv.raft.TestNetwork.logOfTerms;
import static io.raftkv.raft.TestNetwork.lone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Log replication and the commitment rules (Raft §5.3, §5.4.2, Figure 8; thesis §3.5, §10.2.1), one
 * test per rule.
 */
class RaftLogReplicationTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static TestNetwork stableCluster(int size, UnaryOperator<RaftConfig.Builder> tweak) {
        TestNetwork net = TestNetwork.of(size, tweak);
        net.elect(1);
        return net;
    }

    /** A follower of term {@code term} in {1, 2, 3} holding {@code log}, nothing committed. */
    static RaftCore follower(long term, List<Entry> log) {
        return lone(2, THREE, b -> b, new HardState(term, RaftCore.NONE, 0), log);
    }

    // ---------------------------------------------------------------- the leader's log (§5.3, §5.4.2)

    @Test
    void leaderAppendsANoOpEntryOfItsTermWhenElected() {
        TestNetwork net = stableCluster(3, b -> b);
        Entry noop = net.core(1).log().entry(1);
        assertEquals(Entry.Kind.NOOP, noop.kind());
        assertEquals(1, noop.term());
        for (int id : net.ids()) {
            assertEquals(1, net.core(id).commitIndex(), "node " + id);
            assertEquals(List.of(noop), net.node(id).applied, "node " + id);
        }
    }

    @Test
    void leaderReplicatesACommandAndEveryServerAppliesItOnceAMajorityStoresIt() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(3);
        long index = net.core(1).propose(bytes("x"));
        net.deliverAll();

        assertEquals(2, index);
        assertEquals(2, net.core(1).commitIndex(), "nodes 1 and 2 are a majority");
        assertEquals(1, net.node(2).applied.size(), "a commit index alone is not sent: it rides on the next message");
        net.heartbeatFrom(1);
        assertEquals(2, net.node(2).applied.size());
        assertEquals("x", new String(net.node(1).applied.get(1).data(), StandardCharsets.UTF_8));

        net.heal();
        net.run(3);
        assertEquals(net.node(1).applied, net.node(3).applied, "the lagging follower catches up");
    }

    @Test
    void aNewCommitIndexRidesOnTheNextAppendInsteadOfAMessageOfItsOwn() {
        TestNetwork net = stableCluster(3, b -> b);
        net.core(1).propose(bytes("x"));
        net.deliverAll();
        assertEquals(2, net.core(1).commitIndex());
        assertTrue(net.queued().isEmpty(), "committing sent nothing: " + net.queued());
        assertEquals(1, net.core(2).commitIndex());

        net.core(1).propose(bytes("y"));
        net.takeReady(1);
        List<AppendRequest> appends = net.queued(AppendRequest.class);
        assertEquals(2, appends.size());
        appends.forEach(a -> assertEquals(2, a.leaderCommit(), a.toString()));
        net.deliverAll();
        assertEquals(2, net.core(2).commitIndex(), "the follower learned index 2 from the append of 3");
    }

    @Test
    void leaderDoesNotCommitWhatOnlyAMinorityStores() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(2);
        net.isolate(3);
        net.core(1).propose(bytes("x"));
        net.deliverAll();
        assertEquals(1, net.core(1).commitIndex());
        assertEquals(1, net.node(1).applied.size());
    }

    // ---------------------------------------------------------------- the follower's log (§5.3)

    @ParameterizedTest(name = "prev {0}@{1}: success={2}")
    @CsvSource({"0, 0, true", "1, 1, true", "2, 2, true", "2, 1, false", "3, 2, false", "1, 2, false"})
    void followerRejectsAnAppendWhosePreviousEntryItDoesNotHold(long prevIndex, long prevTerm, boolean success) {
        RaftCore c = follower(2, logOfTerms(1, 2));
        c.step(new AppendRequest(1, 2, 2, prevIndex, prevTerm, List.of(), 0));
        AppendResponse r = sent(c.ready(), AppendResponse.class).get(0);
        assertEquals(success, r.success());
        assertEquals(prevIndex, r.index());
        assertEquals(2, c.log().lastIndex(), "an empty append changes no log");
    }

    @Test
    void followerDeletesAConflictingEntryAndAllThatFollowIt() {
        RaftCore c = follower(1, logOfTerms(1, 1, 1));
        c.step(new AppendRequest(1, 2, 2, 1, 1, List.of(cmd(2, 2)), 0));
        Ready r = c.ready();

        assertEquals(2, c.log().lastIndex());
        assertEquals(2, c.log().term(2));
        assertEquals(List.of(cmd(2, 2)), r.entries(), "storage drops from index 2 and appends the leader's entry");
        assertEquals(List.of(new AppendResponse(2, 1, 2, true, 2, 0, 0)), r.messagesAfterPersist());
    }

    @Test
    void followerKeepsItsEntriesThatFollowAnAppendItAlreadyHolds() {
        RaftCore c = follower(2, logOfTerms(1, 2, 2));
        c.step(new AppendRequest(1, 2, 2, 1, 1, List.of(cmd(2, 2)), 0));
        Ready r = c.ready();

        assertEquals(3, c.log().lastIndex(), "a late or duplicated append must not cut off newer entries");
        assertTrue(r.entries().isEmpty());
        assertEquals(2, sent(r, AppendResponse.class).get(0).index());
    }

    @Test
    void followerCommitsUpToTheLeadersCommitIndexButNoFurtherThanItsLastNewEntry() {
        RaftCore c = follower(1, logOfTerms(1, 1, 1, 1));
        c.step(new AppendRequest(1, 2, 1, 1, 1, List.of(cmd(2, 1)), 4));
        assertEquals(2, c.commitIndex(), "entries 3 and 4 are not known to match the leader's");
        c.step(new AppendRequest(1, 2, 1, 2, 1, List.of(cmd(3, 1)), 1));
        assertEquals(2, c.commitIndex(), "the commit index never goes back");
    }

    @Test
    void appendAcknowledgementIsReleasedOnlyAfterTheEntriesAreDurable() {
        RaftCore c = follower(1, List.of());
        c.step(new AppendRequest(1, 2, 1, 0, 0, List.of(cmd(1, 1)), 0));
        Ready r = c.ready();
        assertEquals(List.of(cmd(1, 1)), r.entries());
        assertTrue(r.messages().isEmpty());
        assertEquals(List.of(new AppendResponse(2, 1, 1, true, 1, 0, 0)), r.messagesAfterPersist());
    }

    static Stream<Arguments> divergentLogs() {
        return Stream.of(
                Arguments.of("follower far behind", terms(1, 2, 99), logOfTerms(1)),
                Arguments.of("follower with a long suffix of a term the leader never saw",
                        concat(terms(1, 3, 49), terms(5, 50)), terms(1, 2, 299)),
                Arguments.of("follower with a longer log of an older term",
                        logOfTerms(1, 2, 2, 4, 4, 4, 4), logOfTerms(1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3)),
                Arguments.of("interleaved terms",
                        concat(terms(1, 2, 40), concat(terms(4, 40), terms(6, 40))),
                        concat(terms(1, 3, 60), terms(5, 60))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("divergentLogs")
    void leaderFindsWhereADivergentFollowersLogMatchesInAboutOneRoundTripPerTerm(String name, List<Entry> leaderLog,
                                                                                  List<Entry> followerLog) {
        long term = Math.max(leaderLog.get(leaderLog.size() - 1).term(), followerLog.get(followerLog.size() - 1).term());
        HardState hs = new HardState(term, RaftCore.NONE, 1);
        TestNetwork net = TestNetwork.restoredFrom(b -> b, List.of(hs, hs, hs), List.of(leaderLog, leaderLog, followerLog));
        net.elect(1);

        long rejections = net.delivered(AppendResponse.class).stream().filter(r -> r.from() == 3 && !r.success()).count();
        long terms = Stream.concat(leaderLog.stream(), followerLog.stream()).mapToLong(Entry::term).distinct().count();
        assertTrue(rejections <= terms, name + ": " + rejections + " rejected probes for logs of " + terms + " terms");
        // Once matched, the missing entries stream in full messages; one entry at a time would take hundreds.
        long appends = net.delivered(AppendRequest.class).stream().filter(a -> a.to() == 3).count();
        assertTrue(appends <= rejections + 3, name + ": " + appends + " appends to the follower");
        assertEquals(net.node(1).disk, net.node(3).disk, "the follower's log now is the leader's");
        assertEquals(net.core(1).log().lastIndex(), net.core(3).commitIndex());
    }

    private static List<Entry> terms(long first, long term, int count) {
        return Stream.concat(Stream.of(cmd(1, first)), LongStream.rangeClosed(2, count + 1).mapToObj(i -> cmd(i, term))).toList();
    }

    private static List<Entry> terms(long term, int count) {
        return LongStream.rangeClosed(1, count).mapToObj(i -> cmd(i, term)).toList();
    }

    /** {@code head} followed by {@code tail}'s terms, renumbered to follow it. */
    private static List<Entry> concat(List<Entry> head, List<Entry> tail) {
        long next = head.size() + 1;
        Stream<Entry> moved = tail.stream().map(e -> cmd(next + e.index() - 1, e.term()));
        return Stream.concat(head.stream(), moved).toList();
    }

    // ---------------------------------------------------------------- what is committed (§5.4.2, Figure 8)

    /**
     * The paper's Figure 8 with S1..S5 as nodes 1..5, from the state of its picture (b): S1 holds 2@2,
     * which it wrote as leader of term 2 and got only onto S2; S5 holds 2@3 from its short reign in
     * term 3. S1 is elected in term 4 by S2 and S3 while S4 and S5 are down, and replicates 2@2 to S3,
     * one entry per message, so that a majority holds it before its own no-op reaches anyone but S2.
     * Returns at that moment, with S3 cut off from S1 so that it never learns more from S1.
     */
    private static TestNetwork figure8(RaftConfig.Defect defect) {
        UnaryOperator<RaftConfig.Builder> classic = b -> b.preVote(false).checkQuorum(false)
                .maxEntriesPerMessage(1).defectForTesting(defect);
        TestNetwork net = TestNetwork.restoredFrom(classic,
                List.of(new HardState(3, RaftCore.NONE, 1), new HardState(3, RaftCore.NONE, 1),
                        new HardState(3, 5, 1), new HardState(3, 5, 1), new HardState(3, 5, 1)),
                List.of(logOfTerms(1, 2), logOfTerms(1, 2), logOfTerms(1), logOfTerms(1), logOfTerms(1, 3)));
        net.isolate(4);
        net.isolate(5);
        net.tickUntilCampaign(1);
        net.deliverUntil(() -> net.core(1).role() == Role.LEADER && net.core(1).progress(3).match() == 2);
        net.cut(1, 3);
        net.process(1);

        assertEquals(4, net.core(1).term());
        assertEquals(3, net.core(1).progress(2).match());
        assertEquals(2, net.core(1).progress(3).match(), "S1, S2 and S3 (a majority) store 2@2");
        return net;
    }

    /** Figure 8 (d): S1 and S2 crash; S5 is elected by S3 and S4 and makes its 2@3 the entry at index 2. */
    private static void figure8S5TakesOver(TestNetwork net) {
        net.heal();
        net.isolate(1);
        net.isolate(2);
        for (int t = 0; t < 10 * TestNetwork.ELECTION_TICKS && net.core(5).role() != Role.LEADER; t++) {
            net.tick(5);
            net.deliverAll();
        }
        assertEquals(Role.LEADER, net.core(5).role());
        for (int id : List.of(3, 4, 5)) assertEquals(cmd(2, 3), net.core(id).log().entry(2), "node " + id);
        assertEquals(3, net.core(5).commitIndex());
    }

    /** Indexes at which two servers applied different entries: State Machine Safety says there are none. */
    private static Map<Long, Set<Entry>> conflictingApplies(TestNetwork net) {
        Map<Long, Entry> first = new HashMap<>();
        Map<Long, Set<Entry>> conflicts = new HashMap<>();
        for (int id : net.ids()) {
            for (Entry e : net.node(id).applied) {
                Entry seen = first.putIfAbsent(e.index(), e);
                if (seen != null && !seen.equals(e)) conflicts.put(e.index(), Set.of(seen, e));
            }
        }
        return conflicts;
    }

    @Test
    void leaderDoesNotCommitAnEntryOfAnEarlierTermByCountingReplicas() {
        TestNetwork net = figure8(RaftConfig.Defect.NONE);
        assertEquals(1, net.core(1).commitIndex(), "2@2 is on a majority, but it is not of S1's term");
        assertTrue(net.node(1).applied.stream().noneMatch(e -> e.index() == 2));

        figure8S5TakesOver(net);
        assertEquals(Map.of(), conflictingApplies(net), "overwriting 2@2 was safe: it was never committed");
    }

    @Test
    void withTheFigure8DefectCommittingAnEarlierTermEntryByCountingLosesACommittedEntry() {
        TestNetwork net = figure8(RaftConfig.Defect.COMMIT_EARLIER_TERM_BY_COUNTING);
        assertEquals(2, net.core(1).commitIndex(), "the defect commits 2@2 by counting replicas");
        assertEquals(cmd(2, 2), net.node(1).applied.get(1), "and S1 applies it");

        figure8S5TakesOver(net);
        assertEquals(Map.of(2L, Set.of(cmd(2, 2), cmd(2, 3))), conflictingApplies(net),
                "S1 and S5 applied different entries at index 2");
    }

    @Test
    void leaderCommitsAnEarlierTermEntryOnceAnEntryOfItsOwnTermIsCommitted() {
        TestNetwork net = figure8(RaftConfig.Defect.NONE);
        net.heal();
        net.isolate(4);
        net.isolate(5);
        net.run(2);

        assertEquals(3, net.core(1).commitIndex(), "S1's no-op 3@4 is on a majority, and with it 2@2");
        assertEquals(List.of(cmd(1, 1), cmd(2, 2), Entry.noop(3, 4)), net.node(1).applied);
    }

    // ---------------------------------------------------------------- the leader's own write (thesis §10.2.1)

    @Test
    void singleServerLeaderCommitsNothingUntilItsOwnWriteIsDurable() {
        RaftCore c = lone(1, Set.of(1), b -> b, HardState.INITIAL, List.of());
        while (c.role() != Role.LEADER) c.tick();

        Ready first = c.ready();
        assertEquals(List.of(Entry.noop(1, 1)), first.entries());
        assertEquals(0, c.commitIndex(), "the only copy is not on disk yet");
        c.advance(first);
        assertEquals(1, c.commitIndex());
        assertEquals(List.of(Entry.noop(1, 1)), c.ready().committedEntries());

        long index = c.propose(bytes("x"));
        Ready second = c.ready();
        assertEquals(1, c.commitIndex());
        assertTrue(second.committedEntries().isEmpty());
        c.advance(second);
        assertEquals(index, c.commitIndex());
        assertEquals(index, c.ready().committedEntries().get(0).index());
    }

    @Test
    void leaderCommitsOnAcknowledgementsFromTwoFollowersBeforeItsOwnWriteIsDurable() {
        TestNetwork net = stableCluster(3, b -> b);
        net.hold(1);
        long index = net.core(1).propose(bytes("x"));
        Ready unwritten = net.takeReady(1);
        assertEquals(1, unwritten.messages().stream().filter(m -> m instanceof AppendRequest a && a.to() == 2).count(),
                "the appends go out before the leader's own write");
        net.deliverAll();

        assertEquals(index, net.core(1).commitIndex(), "two of three servers have it on disk");
        assertTrue(net.core(1).log().stable() < index, "the leader's own copy is not durable yet");
        net.finish(1, unwritten);
        net.release(1);
    }

    @Test
    void leaderCountsItselfTowardsAMajorityOnlyOnceItsWriteIsDurable() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(3);
        net.hold(1);
        long index = net.core(1).propose(bytes("x"));
        Ready unwritten = net.takeReady(1);
        net.deliverAll();
        assertNotEquals(index, net.core(1).commitIndex(), "one follower's copy alone is not a majority");

        net.finish(1, unwritten);
        assertEquals(index, net.core(1).commitIndex(), "with the leader's durable copy it is");
    }
}

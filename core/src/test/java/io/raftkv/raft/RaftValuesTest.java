package io.raftkv.raft;

import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The core's values: what each refuses (by its message, so that the check under test is the one that
 * refused), how each compares, and what the output lists keep. Written where mutation testing showed that no
 * other test noticed a change.
 */
class RaftValuesTest {
    private static final Configuration THREE = Configuration.ofVoters(Set.of(1, 2, 3));

    private static String refusal(Class<? extends Throwable> type, org.junit.jupiter.api.function.Executable call) {
        return assertThrows(type, call).getMessage();
    }

    // ---------------------------------------------------------------- configurations and changes

    @Test
    void eachRefusedChangeSaysWhy() {
        assertEquals("only a learner can be promoted to voter; node 2 is already a voter in voters [1, 2, 3]",
                refusal(IllegalArgumentException.class, () -> THREE.apply(ConfigChange.promote(2))));
        assertEquals("only a learner can be promoted to voter; node 7 is not a member in voters [1, 2, 3]",
                refusal(IllegalArgumentException.class, () -> THREE.apply(ConfigChange.promote(7))));
        assertEquals("node 7 is not a member of voters [1, 2, 3]",
                refusal(IllegalArgumentException.class, () -> THREE.apply(ConfigChange.remove(7))));
        Configuration one = Configuration.ofVoters(Set.of(1));
        assertEquals("cannot remove node 1, the last voter",
                refusal(IllegalArgumentException.class, () -> one.apply(ConfigChange.remove(1))));
        // The last voter with a learner beside it: still the last voter.
        Configuration oneAndLearner = one.apply(ConfigChange.addLearner(2));
        assertEquals("cannot remove node 1, the last voter",
                refusal(IllegalArgumentException.class, () -> oneAndLearner.apply(ConfigChange.remove(1))));
        assertEquals(Set.of(1), oneAndLearner.apply(ConfigChange.remove(2)).members(), "a learner beside the last voter can go");
        assertEquals("voters [1, 2] learners [3]", Configuration.ofVoters(Set.of(1, 2)).apply(ConfigChange.addLearner(3)).toString());
    }

    @Test
    void nodeIdsBelowOneAreRefusedWherePeopleTypeThem() {
        assertEquals("voters must be node ids >= 1, got 0",
                refusal(IllegalArgumentException.class, () -> Configuration.ofVoters(Set.of(1, 0))));
        TreeSet<Integer> withNull = new TreeSet<>(Comparator.nullsFirst(Comparator.<Integer>naturalOrder()));
        withNull.addAll(Arrays.asList(1, null));
        assertEquals("voters must not contain null",
                refusal(NullPointerException.class, () -> new Configuration(withNull, new TreeSet<>())));
        assertEquals("node id must be >= 1, was 0",
                refusal(IllegalArgumentException.class, () -> new ConfigChange(ConfigChange.Kind.REMOVE, 0)));
        assertEquals(1, new ConfigChange(ConfigChange.Kind.REMOVE, 1).node());
        assertEquals("snapshot index must be >= 1, was 0", refusal(IllegalArgumentException.class, () -> new SnapshotMeta(0, 1, THREE)));
        assertEquals("snapshot term must be >= 1, was 0", refusal(IllegalArgumentException.class, () -> new SnapshotMeta(1, 0, THREE)));
        assertEquals("snapshot 1@1 (voters [1, 2, 3])", new SnapshotMeta(1, 1, THREE).toString());
    }

    @Test
    void aDamagedConfigurationSaysHowManyBytesItHasLeft() {
        byte[] bytes = THREE.encode();
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
        assertEquals("a configuration of " + longer.length + " bytes has 3 bytes after its end",
                refusal(IllegalArgumentException.class, () -> Configuration.decode(longer)));
        byte[] tooMany = bytes.clone();
        tooMany[4] = 5; // five voters claimed, three written
        assertEquals("a configuration claims 5 voters in 16 bytes",
                refusal(IllegalArgumentException.class, () -> Configuration.decode(tooMany)));
    }

    // ---------------------------------------------------------------- RaftConfig

    @Test
    void theBuilderKeepsWhatItIsGivenAndTakesTheSmallestLegalValues() {
        RaftConfig c = RaftConfig.builder(2, Set.of(1, 2, 3), new SplittableRandom(1))
                .electionTicks(2).heartbeatTicks(1).maxEntriesPerMessage(1).maxBytesPerMessage(1)
                .maxInflightMessages(1).maxUncommittedBytes(1).preVote(false).checkQuorum(false).build();
        assertEquals(2, c.id());
        assertEquals(Set.of(1, 2, 3), c.voters());
        assertEquals(2, c.electionTicks());
        assertEquals(1, c.heartbeatTicks());
        assertEquals(1, c.maxEntriesPerMessage());
        assertEquals(1, c.maxBytesPerMessage());
        assertEquals(1, c.maxInflightMessages());
        assertEquals(1, c.maxUncommittedBytes());
        assertFalse(c.preVote());
        assertFalse(c.checkQuorum());
        assertEquals(RaftConfig.Defect.NONE, c.defect());

        RaftConfig other = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1))
                .electionTicks(7).heartbeatTicks(3).maxEntriesPerMessage(9).maxBytesPerMessage(11)
                .maxInflightMessages(13).maxUncommittedBytes(17).preVote(true).checkQuorum(true)
                .defectForTesting(RaftConfig.Defect.VOTE_FOR_STALE_LOGS).build();
        assertEquals(List.of(7, 3, 9, 11, 13), List.of(other.electionTicks(), other.heartbeatTicks(), other.maxEntriesPerMessage(),
                other.maxBytesPerMessage(), other.maxInflightMessages()));
        assertEquals(17, other.maxUncommittedBytes());
        assertTrue(other.preVote());
        assertTrue(other.checkQuorum());
        assertEquals(RaftConfig.Defect.VOTE_FOR_STALE_LOGS, other.defect());

        RaftConfig.Builder b = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1));
        assertEquals("electionTicks must be >= 2, was 1", refusal(IllegalArgumentException.class, () -> b.electionTicks(1)));
        assertEquals("maxBytesPerMessage must be >= 1, was 0", refusal(IllegalArgumentException.class, () -> b.maxBytesPerMessage(0)));
        assertEquals("maxUncommittedBytes must be >= 1, was 0", refusal(IllegalArgumentException.class, () -> b.maxUncommittedBytes(0)));
    }

    // ---------------------------------------------------------------- entries and messages

    @Test
    void equalEntriesHashAlikeAndDifferentOnesApart() {
        Entry a = new Entry(3, 2, Entry.Kind.COMMAND, "x".getBytes());
        Entry b = new Entry(3, 2, Entry.Kind.COMMAND, "x".getBytes());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        Set<Integer> hashes = new HashSet<>();
        for (long i = 1; i <= 4; i++) {
            for (long t = 1; t <= 4; t++) hashes.add(new Entry(i, t, Entry.Kind.COMMAND, "x".getBytes()).hashCode());
        }
        hashes.add(new Entry(3, 2, Entry.Kind.COMMAND, "y".getBytes()).hashCode());
        assertEquals(17, hashes.size(), "index, term and data each change the hash");
    }

    @Test
    void snapshotChunksCompareByEveryFieldAndDescribeTheirBytes() {
        SnapshotMeta snap = new SnapshotMeta(9, 2, THREE);
        SnapshotChunk c = new SnapshotChunk(1, 2, 3, snap, 10, 4, new byte[] {1, 2, 3}, 77);
        assertEquals(c, new SnapshotChunk(1, 2, 3, snap, 10, 4, new byte[] {1, 2, 3}, 77));
        assertEquals(c.hashCode(), new SnapshotChunk(1, 2, 3, snap, 10, 4, new byte[] {1, 2, 3}, 77).hashCode());
        List<SnapshotChunk> others = List.of(
                new SnapshotChunk(3, 2, 3, snap, 10, 4, new byte[] {1, 2, 3}, 77),
                new SnapshotChunk(1, 3, 3, snap, 10, 4, new byte[] {1, 2, 3}, 77),
                new SnapshotChunk(1, 2, 4, snap, 10, 4, new byte[] {1, 2, 3}, 77),
                new SnapshotChunk(1, 2, 3, new SnapshotMeta(9, 3, THREE), 10, 4, new byte[] {1, 2, 3}, 77),
                new SnapshotChunk(1, 2, 3, snap, 11, 4, new byte[] {1, 2, 3}, 77),
                new SnapshotChunk(1, 2, 3, snap, 10, 5, new byte[] {1, 2, 3}, 77),
                new SnapshotChunk(1, 2, 3, snap, 10, 4, new byte[] {1, 2, 3}, 78),
                new SnapshotChunk(1, 2, 3, snap, 10, 4, new byte[] {1, 2, 4}, 77));
        for (SnapshotChunk o : others) {
            assertNotEquals(c, o);
            assertNotEquals(c.hashCode(), o.hashCode(), o.toString());
        }
        assertNotEquals(c, "a chunk");
        assertEquals("SnapshotChunk[1->2 term 3 snapshot 9@2 (voters [1, 2, 3]) bytes 4..7 of 10]", c.toString());
        assertFalse(c.last());
        assertTrue(new SnapshotChunk(1, 2, 3, snap, 7, 4, new byte[] {1, 2, 3}, 77).last());
    }

    @Test
    void theCoreRefusesSnapshotChunksWhichItsRuntimeStreams() {
        RaftCore core = TestNetwork.lone(1, Set.of(1, 2), b -> b, HardState.INITIAL, List.of());
        SnapshotMeta snap = new SnapshotMeta(9, 1, THREE);
        SnapshotChunk chunk = new SnapshotChunk(2, 1, 1, snap, 3, 0, new byte[] {1, 2, 3}, 0);
        assertEquals("snapshot chunks are the runtime's to stream, not the core's: " + chunk,
                refusal(IllegalArgumentException.class, () -> core.step(chunk)));
        SnapshotChunkAck ack = new SnapshotChunkAck(2, 1, 1, 9, 3);
        assertEquals("snapshot chunks are the runtime's to stream, not the core's: " + ack,
                refusal(IllegalArgumentException.class, () -> core.step(ack)));
        assertEquals(0, core.term());
    }

    // ---------------------------------------------------------------- Ready and its lists

    @Test
    void aReadyMustBePersistedForAHardStateASnapshotOrEntriesAndNothingElse() {
        List<Message> msg = List.of(new Heartbeat(1, 2, 1, 0, 1));
        Ready nothing = new Ready();
        nothing.fill(null, null, List.of(), msg, List.of(), List.of(), List.of(), List.of(), Role.LEADER, 4, 1);
        assertFalse(nothing.mustPersist());
        assertEquals(1, nothing.leader());
        assertEquals(4, nothing.term());
        Ready hardState = new Ready();
        hardState.fill(new HardState(4, 1, 0), null, List.of(), List.of(), List.of(), List.of(), List.of(), List.of(),
                Role.FOLLOWER, 4, 3);
        assertTrue(hardState.mustPersist());
        assertEquals(3, hardState.leader());
        Ready snapshot = new Ready();
        snapshot.fill(null, new SnapshotMeta(9, 2, THREE), List.of(), List.of(), List.of(), List.of(), List.of(), List.of(),
                Role.FOLLOWER, 4, 3);
        assertTrue(snapshot.mustPersist());
        Ready entries = new Ready();
        entries.fill(null, null, List.of(TestNetwork.cmd(1, 1)), List.of(), List.of(), List.of(), List.of(), List.of(),
                Role.FOLLOWER, 4, 3);
        assertTrue(entries.mustPersist());
        assertNull(entries.snapshot());
        assertEquals("Ready[hardState=null, snapshot=null, entries=[], messages=" + msg + ", messagesAfterPersist=[],"
                + " committedEntries=[], readStates=[], droppedReads=[], role=LEADER, term=4, leader=1]", nothing.toString());
    }

    /** An output list keeps no reference once emptied, and gives a burst's large array back. */
    @Test
    void anEmptiedOutListHoldsNoEntryAndNoLargeArray() throws ReflectiveOperationException {
        Field items = OutList.class.getDeclaredField("items");
        items.setAccessible(true);
        OutList<Object> list = new OutList<>();
        for (int i = 0; i < 40; i++) list.append("item " + i);
        assertEquals(40, list.size());
        assertArrayEquals(new ArrayList<>(list).toArray(), list.toArray());
        list.reset();
        assertTrue(list.isEmpty());
        Object[] kept = (Object[]) items.get(list);
        assertTrue(kept.length >= 40, "a small array is kept for the next pass");
        assertTrue(Arrays.stream(kept).allMatch(o -> o == null), "no reference left behind");

        for (int i = 0; i < OutList.KEEP_CAPACITY + 1; i++) list.append(i);
        list.reset();
        assertEquals(0, ((Object[]) items.get(list)).length, "a burst's array is let go");
        assertEquals("a Ready's lists are read-only", refusal(UnsupportedOperationException.class, list::clear));
    }

    /** A run of entries is copied once into an array and shared; one entry or none needs no array. */
    @Test
    void entrySlicesCopyOnceAndOnlyWhenThereIsMoreThanOneEntry() {
        List<Entry> log = TestNetwork.logOfTerms(1, 1, 1, 1);
        List<Entry> run = EntrySlice.copyOf(log, 1, 4);
        assertEquals(log.subList(1, 4), run);
        assertTrue(run instanceof EntrySlice);
        assertSame(run, EntrySlice.immutable(run), "a slice is immutable already: not copied again");
        assertArrayEquals(log.subList(1, 4).toArray(), run.toArray());
        assertEquals(Object[].class, run.toArray().getClass());
        List<Entry> one = EntrySlice.copyOf(log, 2, 3);
        assertEquals(List.of(log.get(2)), one);
        assertFalse(one instanceof EntrySlice, "one entry, no array");
        List<Entry> none = EntrySlice.copyOf(log, 2, 2);
        assertTrue(none.isEmpty());
        assertFalse(none instanceof EntrySlice);
        List<Entry> mutable = new ArrayList<>(log);
        List<Entry> copy = EntrySlice.immutable(mutable);
        mutable.clear();
        assertEquals(log, copy, "anything else is copied");
    }

    @Test
    void theSmallestWellFormedConfigurationIsRefusedForItsMissingVoterNotItsLength() {
        byte[] noVoters = {1, 0, 0, 0, 0, 0, 0, 0, 0};
        assertEquals("a configuration needs at least one voter",
                refusal(IllegalArgumentException.class, () -> Configuration.decode(noVoters)));
        assertEquals("a configuration cut short: 8 bytes",
                refusal(IllegalArgumentException.class, () -> Configuration.decode(Arrays.copyOf(noVoters, 8))));
    }

    @Test
    void aChunkMustLieInsideItsSnapshot() {
        SnapshotMeta snap = new SnapshotMeta(9, 2, THREE);
        assertTrue(new SnapshotChunk(1, 2, 3, snap, 10, 7, new byte[3], 0).last(), "the last three bytes fit exactly");
        assertFalse(new SnapshotChunk(1, 2, 3, snap, 10, 0, new byte[3], 0).last(), "the first chunk");
        assertTrue(new SnapshotChunk(1, 2, 3, snap, 0, 0, new byte[0], 0).last(), "an empty snapshot: one empty chunk");
        assertEquals("a chunk of 3 bytes at offset 8 does not fit a snapshot of 10 bytes",
                refusal(IllegalArgumentException.class, () -> new SnapshotChunk(1, 2, 3, snap, 10, 8, new byte[3], 0)));
        assertThrows(IllegalArgumentException.class, () -> new SnapshotChunk(1, 2, 3, snap, 10, -1, new byte[1], 0));
        assertThrows(IllegalArgumentException.class, () -> new SnapshotChunk(1, 2, 3, snap, -1, 0, new byte[0], 0));
    }

    @Test
    void aQuorumOfMoreVotersThanMatchIndexesIsRefused() {
        assertEquals("need 1..3 voters, got 4", refusal(IllegalArgumentException.class, () -> Quorum.committedIndex(new long[3], 4)));
        assertEquals("need 1..3 voters, got 0", refusal(IllegalArgumentException.class, () -> Quorum.committedIndex(new long[3], 0)));
        assertEquals(5, Quorum.committedIndex(new long[] {7, 5, 1}, 3));
    }
}

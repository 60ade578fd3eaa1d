package io.raftkv.kv;

import io.raftkv.node.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replicated key-value map and its client sessions, driven entry by entry as the log would
 * drive it: no threads, no node.
 */
class KvStateMachineTest {

    private static byte[] register() {
        return KvCommand.register().encode();
    }

    private static byte[] put(long client, long seq, String key, String value) {
        return new KvCommand(KvCommand.Op.PUT, client, seq, key, value).encode();
    }

    private static byte[] replace(long client, long seq, String key, String value) {
        return new KvCommand(KvCommand.Op.REPLACE, client, seq, key, value).encode();
    }

    private static byte[] delete(long client, long seq, String key) {
        return new KvCommand(KvCommand.Op.DELETE, client, seq, key, "").encode();
    }

    /** A CAS of {@code key} from {@code expected} (null: absent) to {@code value}. */
    private static byte[] cas(long client, long seq, String key, String expected, String value) {
        return new KvCommand(KvCommand.Op.CAS, client, seq, key, value, expected).encode();
    }

    // ---------------------------------------------------------------- sessions

    @Test
    void registrationOpensASessionWhoseIdIsTheIndexOfItsEntry() {
        KvStateMachine sm = new KvStateMachine();
        assertEquals(new KvResult.Registered(7), sm.apply(7, register()));
        assertEquals(1, sm.sessionCount());
        assertEquals(KvResult.WRITTEN, sm.apply(8, put(7, 1, "a", "1")));
        assertEquals("1", sm.query("a"));
    }

    @Test
    void twoRegistrationsOpenTwoSessionsWithTheirOwnIds() {
        KvStateMachine sm = new KvStateMachine();
        assertEquals(new KvResult.Registered(3), sm.apply(3, register()));
        assertEquals(new KvResult.Registered(4), sm.apply(4, register()));
        assertEquals(2, sm.sessionCount());
        // Sequence numbers are per session: both clients may use seq 1.
        assertEquals(KvResult.WRITTEN, sm.apply(5, put(3, 1, "a", "from 3")));
        assertEquals(KvResult.WRITTEN, sm.apply(6, put(4, 1, "b", "from 4")));
        assertEquals("from 3", sm.query("a"));
        assertEquals("from 4", sm.query("b"));
    }

    @Test
    void aWriteUnderAnUnknownSessionIsAnsweredSessionExpiredAndAppliesNothing() {
        KvStateMachine sm = new KvStateMachine();
        assertEquals(KvResult.SESSION_EXPIRED, sm.apply(1, put(99, 1, "a", "1")));
        assertEquals(KvResult.SESSION_EXPIRED, sm.apply(2, replace(99, 2, "a", "2")));
        assertEquals(0, sm.size());
        assertNull(sm.query("a"));
        assertEquals(0, sm.sessionCount(), "an unknown id must not open a session");
    }

    @Test
    void maxSessionsBelowOneIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KvStateMachine(0));
        assertEquals("maxSessions must be >= 1, was 0", e.getMessage());
    }

    // ---------------------------------------------------------------- PUT, REPLACE, GET

    @Test
    void putSetsAKeyAndOverwritesIt() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        assertEquals(KvResult.WRITTEN, sm.apply(2, put(1, 1, "a", "1")));
        assertEquals(KvResult.WRITTEN, sm.apply(3, put(1, 2, "a", "2")));
        assertEquals("2", sm.query("a"));
        assertEquals(1, sm.size());
    }

    @Test
    void valuesOutsideAsciiComeBackAsTheyWereWritten() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        String value = "grüße, 日本, \uD83D\uDE00, \uFFFD";
        sm.apply(2, put(1, 1, "ключ", value));
        assertEquals(value, sm.query("ключ"));
    }

    @Test
    void aValueThatIsNotUtf8IsRefusedWhenAppliedAndChangesNothing() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, put(1, 1, "k", "v"));
        byte[] bad = put(1, 2, "k", "xy");
        bad[bad.length - 1] = (byte) 0x80; // a continuation byte with no lead
        assertThrows(IllegalArgumentException.class, () -> sm.apply(3, bad));
        assertEquals("v", sm.query("k"));
    }

    @Test
    void aGetOfAnAbsentKeyAnswersNull() {
        assertNull(new KvStateMachine().query("nothing here"));
    }

    @Test
    void replaceOfAnAbsentKeySaysSoAndDoesNotCreateIt() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        assertEquals(KvResult.NOT_APPLIED, sm.apply(2, replace(1, 1, "a", "1")));
        assertNull(sm.query("a"));
        assertEquals(0, sm.size());
    }

    @Test
    void replaceOfAnExistingKeySetsItAndSaysSo() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, put(1, 1, "a", "1"));
        assertEquals(KvResult.APPLIED, sm.apply(3, replace(1, 2, "a", "2")));
        assertEquals("2", sm.query("a"));
    }

    @Test
    void emptyKeysAndValuesAreOrdinaryKeysAndValues() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, put(1, 1, "", ""));
        assertEquals("", sm.query(""));
        assertEquals(KvResult.APPLIED, sm.apply(3, replace(1, 2, "", "x")));
        assertEquals("x", sm.query(""));
    }

    @Test
    void deleteRemovesAKeyAndSaysWhetherThereWasOne() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, put(1, 1, "a", "1"));
        assertEquals(KvResult.APPLIED, sm.apply(3, delete(1, 2, "a")));
        assertNull(sm.query("a"));
        assertEquals(0, sm.size());
        assertEquals(KvResult.NOT_APPLIED, sm.apply(4, delete(1, 3, "a")), "nothing left to delete");
        assertEquals(KvResult.NOT_APPLIED, sm.apply(5, delete(1, 4, "never")));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(6, replace(1, 5, "a", "x")), "a deleted key is absent to REPLACE");
        assertEquals(KvResult.WRITTEN, sm.apply(7, put(1, 6, "a", "again")));
        assertEquals("again", sm.query("a"));
    }

    @Test
    void casSetsOnlyWhenTheKeyHoldsExactlyTheExpectedValue() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, put(1, 1, "a", "1"));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(3, cas(1, 2, "a", "2", "x")));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(4, cas(1, 3, "a", "1 ", "x")), "a prefix or a longer value is another value");
        assertEquals(KvResult.NOT_APPLIED, sm.apply(5, cas(1, 4, "a", "", "x")));
        assertEquals("1", sm.query("a"));
        assertEquals(KvResult.APPLIED, sm.apply(6, cas(1, 5, "a", "1", "2")));
        assertEquals("2", sm.query("a"));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(7, cas(1, 6, "b", "1", "x")), "an absent key holds no value to match");
        assertNull(sm.query("b"));
    }

    @Test
    void casExpectingNoValueCreatesAnAbsentKeyAndLeavesAPresentOneAlone() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        assertEquals(KvResult.APPLIED, sm.apply(2, cas(1, 1, "a", null, "first")));
        assertEquals("first", sm.query("a"));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(3, cas(1, 2, "a", null, "second")));
        assertEquals("first", sm.query("a"));
        sm.apply(4, put(1, 3, "e", ""));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(5, cas(1, 4, "e", null, "x")), "an empty value is a value, not absence");
        assertEquals(KvResult.APPLIED, sm.apply(6, cas(1, 5, "e", "", "x")));
        assertEquals("x", sm.query("e"));
        sm.apply(7, delete(1, 6, "a"));
        assertEquals(KvResult.APPLIED, sm.apply(8, cas(1, 7, "a", null, "reborn")), "a deleted key is absent");
        assertEquals("reborn", sm.query("a"));
    }

    @Test
    void casAndDeleteOfKeysAndValuesOutsideAsciiCompareTheirUtf8() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, put(1, 1, "ключ", "значение ✓"));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(3, cas(1, 2, "ключ", "значение ✗", "x")));
        assertEquals(KvResult.APPLIED, sm.apply(4, cas(1, 3, "ключ", "значение ✓", "日本")));
        assertEquals("日本", sm.query("ключ"));
        assertEquals(KvResult.APPLIED, sm.apply(5, delete(1, 4, "ключ")));
        assertNull(sm.query("ключ"));
    }

    // ---------------------------------------------------------------- at most once

    @Test
    void aRetryOfTheLatestWriteGetsTheFirstAnswerAndIsNotAppliedAgain() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, register());
        assertEquals(KvResult.WRITTEN, sm.apply(3, put(1, 1, "a", "1")));
        assertEquals(KvResult.WRITTEN, sm.apply(4, put(1, 2, "a", "2")));
        assertEquals(KvResult.WRITTEN, sm.apply(5, put(2, 1, "a", "other")));

        assertEquals(KvResult.WRITTEN, sm.apply(6, put(1, 2, "a", "2")), "a retry gets the first answer");
        assertEquals("other", sm.query("a"), "a retry must not overwrite a later write of another client");
    }

    @Test
    void aRetryOfAnOlderWriteIsStaleAndNotApplied() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, put(1, 1, "a", "1"));
        sm.apply(3, put(1, 2, "a", "2"));

        assertEquals(KvResult.STALE, sm.apply(4, put(1, 1, "a", "1")));
        assertEquals("2", sm.query("a"));
        // The stale retry did not disturb what the session remembers about seq 2.
        assertEquals(KvResult.WRITTEN, sm.apply(5, put(1, 2, "a", "2")));
        assertEquals("2", sm.query("a"));
    }

    @Test
    void aRetriedReplaceThatReplacedStillSaysTrueWithoutReplacingAgain() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, register());
        sm.apply(3, put(1, 1, "a", "0"));
        assertEquals(KvResult.APPLIED, sm.apply(4, replace(1, 2, "a", "mine")));
        sm.apply(5, put(2, 1, "a", "theirs"));

        assertEquals(KvResult.APPLIED, sm.apply(6, replace(1, 2, "a", "mine")));
        assertEquals("theirs", sm.query("a"));
    }

    @Test
    void aRetriedReplaceThatFoundNoKeyStillSaysFalseAfterTheKeyAppears() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, register());
        assertEquals(KvResult.NOT_APPLIED, sm.apply(3, replace(1, 1, "a", "mine")));
        sm.apply(4, put(2, 1, "a", "theirs"));

        // Had it applied again it would now replace; the first answer stands.
        assertEquals(KvResult.NOT_APPLIED, sm.apply(5, replace(1, 1, "a", "mine")));
        assertEquals("theirs", sm.query("a"));
    }

    /**
     * A CAS whose answer was lost and whose retry arrives after the value moved back to what it expected: the
     * retry gets the first answer (true), and sets nothing again. Evaluated afresh it would set the key a second
     * time, over another client's write that came in between.
     */
    @Test
    void aRetriedCasGetsItsFirstAnswerAndIsNotEvaluatedAgain() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, register());
        sm.apply(3, put(1, 1, "a", "old"));
        assertEquals(KvResult.APPLIED, sm.apply(4, cas(1, 2, "a", "old", "mine")));
        sm.apply(5, put(2, 1, "a", "old")); // back to what the CAS expected
        assertEquals(KvResult.APPLIED, sm.apply(6, cas(1, 2, "a", "old", "mine")));
        assertEquals("old", sm.query("a"), "the retry set nothing");

        // And one that failed still fails on its retry, though it would now succeed.
        sm.apply(7, put(2, 2, "b", "other"));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(8, cas(1, 3, "b", "expected", "mine")));
        sm.apply(9, put(2, 3, "b", "expected"));
        assertEquals(KvResult.NOT_APPLIED, sm.apply(10, cas(1, 3, "b", "expected", "mine")));
        assertEquals("expected", sm.query("b"));
    }

    @Test
    void aRetriedDeleteGetsItsFirstAnswerAndDeletesNothingWrittenSince() {
        KvStateMachine sm = new KvStateMachine();
        sm.apply(1, register());
        sm.apply(2, register());
        sm.apply(3, put(1, 1, "a", "1"));
        assertEquals(KvResult.APPLIED, sm.apply(4, delete(1, 2, "a")));
        sm.apply(5, put(2, 1, "a", "theirs"));
        assertEquals(KvResult.APPLIED, sm.apply(6, delete(1, 2, "a")), "the first answer");
        assertEquals("theirs", sm.query("a"), "the retry must not delete a later write");
    }

    // ---------------------------------------------------------------- expiry

    @Test
    void beyondMaxSessionsTheLeastRecentlyUsedSessionIsEvicted() {
        KvStateMachine sm = new KvStateMachine(2);
        sm.apply(1, register());                 // session 1
        sm.apply(2, register());                 // session 2
        sm.apply(3, put(1, 1, "a", "1"));        // session 1 used: session 2 is now the least recent
        assertEquals(new KvResult.Registered(4), sm.apply(4, register()));
        assertEquals(2, sm.sessionCount());

        assertEquals(KvResult.SESSION_EXPIRED, sm.apply(5, put(2, 1, "b", "lost")));
        assertNull(sm.query("b"), "an evicted client's write must not apply");
        assertEquals(KvResult.WRITTEN, sm.apply(6, put(1, 2, "a", "2")));
        assertEquals(KvResult.WRITTEN, sm.apply(7, put(4, 1, "c", "3")));
    }

    @Test
    void anEvictedClientsRetryIsNotAppliedEvenIfItWasNeverSeen() {
        KvStateMachine sm = new KvStateMachine(1);
        sm.apply(1, register());
        sm.apply(2, put(1, 1, "a", "1"));
        sm.apply(3, register()); // evicts session 1
        assertEquals(KvResult.SESSION_EXPIRED, sm.apply(4, put(1, 1, "a", "1")));
        assertEquals(KvResult.SESSION_EXPIRED, sm.apply(5, put(1, 2, "a", "2")));
        assertEquals("1", sm.query("a"));
    }

    @Test
    void twoStateMachinesFedTheSameLogEvictTheSameSessionsAndGiveTheSameAnswers() {
        long seed = new SplittableRandom().nextLong();
        System.out.println("KvStateMachineTest eviction seed " + seed);
        List<byte[]> log = randomLog(new SplittableRandom(seed), 2_000);

        KvStateMachine a = new KvStateMachine(5);
        KvStateMachine b = new KvStateMachine(5);
        List<Object> answersA = new ArrayList<>();
        List<Object> answersB = new ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            answersA.add(a.apply(i + 1, log.get(i)));
            answersB.add(b.apply(i + 1, log.get(i)));
        }
        assertEquals(answersA, answersB, "seed " + seed);
        assertTrue(answersA.contains(KvResult.SESSION_EXPIRED), "seed " + seed + ": the log should evict someone");
        assertEquals(a.sessionCount(), b.sessionCount(), "seed " + seed);
        assertEquals(5, a.sessionCount(), "seed " + seed);
        for (int k = 0; k < 10; k++) assertEquals(a.query("k" + k), b.query("k" + k), "seed " + seed + ", key k" + k);
    }

    /** Registrations and writes of up to 12 clients (ids are the registrations' indexes), with retries. */
    private static List<byte[]> randomLog(SplittableRandom random, int length) {
        List<byte[]> log = new ArrayList<>();
        List<Long> clients = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        for (int index = 1; index <= length; index++) {
            if (clients.size() < 12 && (clients.isEmpty() || random.nextInt(10) == 0)) {
                log.add(register());
                clients.add((long) index);
                seqs.add(0L);
                continue;
            }
            int c = random.nextInt(clients.size());
            long seq = seqs.get(c);
            if (seq == 0 || random.nextInt(5) != 0) seqs.set(c, ++seq); // else a retry of the last one
            String key = "k" + random.nextInt(10);
            String value = "v" + index;
            log.add(switch (random.nextInt(4)) {
                case 0 -> put(clients.get(c), seq, key, value);
                case 1 -> replace(clients.get(c), seq, key, value);
                case 2 -> delete(clients.get(c), seq, key);
                default -> cas(clients.get(c), seq, key, random.nextBoolean() ? null : "v" + (index - 1 - random.nextInt(4)), value);
            });
        }
        return log;
    }

    @Test
    void aRetriedRegistrationGetsTheSessionItsFirstTryOpenedWhileThatSessionLives() {
        KvStateMachine m = new KvStateMachine(2);
        assertEquals(new KvResult.Registered(1), m.apply(1, KvCommand.register(42).encode()));
        assertEquals(new KvResult.Registered(2), m.apply(2, KvCommand.register(43).encode()));
        assertEquals(new KvResult.Registered(1), m.apply(3, KvCommand.register(42).encode()), "a retry of the first");
        assertEquals(2, m.sessionCount(), "no orphan session pushed session 2 out");
        // The retry used session 1, so session 2 is now the least recently used: a third client evicts it.
        assertEquals(new KvResult.Registered(4), m.apply(4, KvCommand.register(44).encode()));
        assertEquals(new KvResult.Registered(5), m.apply(5, KvCommand.register(43).encode()),
                "once its session is evicted, a registration with that nonce opens a new one");
        assertEquals(2, m.sessionCount());
    }

    @Test
    void aRegistrationWithoutANonceIsNeverDeduplicated() {
        KvStateMachine m = new KvStateMachine(10);
        assertEquals(new KvResult.Registered(1), m.apply(1, KvCommand.register().encode()));
        assertEquals(new KvResult.Registered(2), m.apply(2, KvCommand.register().encode()));
        assertEquals(2, m.sessionCount());
    }

    // ---------------------------------------------------------------- snapshots

    /**
     * freeze() hands the node a copy to write on another thread while apply goes on: the snapshot is the
     * state at the freeze, byte for byte what snapshot() gave then, whatever is applied before it is written.
     * Without a frozen copy the node would write every snapshot on its own thread, stalling commits for the
     * length of the write; with a copy that shared the slots, a snapshot would mix two states, and a follower
     * installing it would hold a map no replica ever had.
     */
    @Test
    void aFrozenStateWritesTheStateAtTheFreezeWhileApplyGoesOn() throws IOException {
        KvStateMachine sm = new KvStateMachine(2);
        sm.apply(1, KvCommand.register(41).encode());
        sm.apply(2, put(1, 1, "a", "1"));
        sm.apply(3, put(1, 2, "b", "2"));
        ByteArrayOutputStream atFreeze = new ByteArrayOutputStream();
        sm.snapshot(atFreeze);

        assertTrue(sm.canSnapshot(), "without snapshots the log would grow for good");
        StateMachine.Frozen frozen = sm.freeze();
        assertNotNull(frozen, "the KV state machine snapshots off the node's thread");
        sm.apply(4, put(1, 3, "a", "changed"));
        sm.apply(5, put(1, 4, "c", "new key"));
        sm.apply(6, KvCommand.register(42).encode());
        sm.apply(7, KvCommand.register(43).encode()); // evicts session 1

        ByteArrayOutputStream written = new ByteArrayOutputStream();
        frozen.writeTo(written);
        assertArrayEquals(atFreeze.toByteArray(), written.toByteArray());
        KvStateMachine restored = new KvStateMachine(2);
        restored.restore(new ByteArrayInputStream(written.toByteArray()));
        assertEquals("1", restored.query("a"));
        assertEquals("2", restored.query("b"));
        assertNull(restored.query("c"));
        assertEquals(KvResult.WRITTEN, restored.apply(8, put(1, 2, "b", "2")), "session 1 as it was: seq 2 answered");
    }

    /**
     * A restore replaces the sessions as it replaces the map: a follower that installs a snapshot must hold
     * the leader's sessions and no others. A session of its own kept beside them would answer a write the
     * leader refuses as expired, and count against the bound, so the two would evict different sessions.
     */
    @Test
    void aRestoreReplacesTheSessionsAndKeepsNoneOfItsOwn() throws IOException {
        KvStateMachine leader = new KvStateMachine(10);
        leader.apply(1, register());
        leader.apply(2, put(1, 1, "a", "1"));
        ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
        leader.snapshot(snapshot);

        KvStateMachine follower = new KvStateMachine(10);
        follower.apply(7, register());
        follower.apply(8, register());
        follower.apply(9, put(7, 1, "mine", "x"));
        follower.restore(new ByteArrayInputStream(snapshot.toByteArray()));
        assertEquals(1, follower.sessionCount());
        assertEquals(1, follower.size());
        assertEquals(KvResult.SESSION_EXPIRED, follower.apply(10, put(7, 2, "a", "lost")));
        assertEquals(KvResult.SESSION_EXPIRED, follower.apply(11, put(8, 1, "a", "lost")));
        assertEquals(KvResult.WRITTEN, follower.apply(12, put(1, 2, "a", "2")));
        assertEquals("2", follower.query("a"));
        assertNull(follower.query("mine"));
    }
}

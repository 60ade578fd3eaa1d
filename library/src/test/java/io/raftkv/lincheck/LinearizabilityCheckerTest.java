package io.raftkv.lincheck;

import static io.raftkv.lincheck.Operation.cas;
import static io.raftkv.lincheck.Operation.delete;
import static io.raftkv.lincheck.Operation.get;
import static io.raftkv.lincheck.Operation.pendingCas;
import static io.raftkv.lincheck.Operation.pendingDelete;
import static io.raftkv.lincheck.Operation.pendingGet;
import static io.raftkv.lincheck.Operation.pendingPut;
import static io.raftkv.lincheck.Operation.pendingReplace;
import static io.raftkv.lincheck.Operation.put;
import static io.raftkv.lincheck.Operation.replace;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {

    private static void assertLinearizable(List<Operation> history) {
        CheckResult result = LinearizabilityChecker.check(history);
        assertEquals(CheckResult.Verdict.LINEARIZABLE, result.verdict(), result.explanation());
        assertTrue(result.ok());
        assertNull(result.key());
    }

    private static CheckResult assertNotLinearizable(List<Operation> history, String key) {
        CheckResult result = LinearizabilityChecker.check(history);
        assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, result.verdict(), result.explanation());
        assertFalse(result.ok());
        assertEquals(key, result.key());
        assertTrue(result.explanation().contains('"' + key + '"'), result.explanation());
        return result;
    }

    @Test
    void anEmptyHistoryIsLinearizable() {
        assertLinearizable(List.of());
    }

    @Test
    void aSequentialHistoryIsLinearizable() {
        assertLinearizable(List.of(
                get(1, 0, 1, "k", null),
                put(1, 2, 3, "k", "a"),
                get(2, 4, 5, "k", "a"),
                replace(1, 6, 7, "k", "b", true),
                get(2, 8, 9, "k", "b"),
                put(3, 10, 11, "k", "c"),
                get(1, 12, 13, "k", "c")));
    }

    @Test
    void aGetConcurrentWithAPutMaySeeEitherValue() {
        assertLinearizable(List.of(
                put(1, 0, 10, "k", "old"),
                put(1, 20, 40, "k", "new"),
                get(2, 25, 30, "k", "old")));
        assertLinearizable(List.of(
                put(1, 0, 10, "k", "old"),
                put(1, 20, 40, "k", "new"),
                get(2, 25, 30, "k", "new")));
    }

    @Test
    void aGetBeforeAnyPutCompletesMaySeeTheKeyAbsent() {
        assertLinearizable(List.of(
                put(1, 0, 100, "k", "a"),
                get(2, 10, 20, "k", null),
                get(3, 30, 40, "k", "a")));
    }

    @Test
    void operationsThatTouchAtAnInstantAreConcurrent() {
        assertLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                get(2, 10, 20, "k", null)));
    }

    @Test
    void replaceOnAMissingKeyReturnsFalseAndChangesNothing() {
        assertLinearizable(List.of(
                replace(1, 0, 1, "k", "a", false),
                get(1, 2, 3, "k", null),
                put(1, 4, 5, "k", "b"),
                replace(2, 6, 7, "k", "c", true),
                get(2, 8, 9, "k", "c")));
    }

    @Test
    void aPendingPutMayHaveHappened() {
        assertLinearizable(List.of(
                pendingPut(1, 0, "k", "a"),
                get(2, 10, 20, "k", null),
                get(2, 30, 40, "k", "a"),
                get(2, 50, 60, "k", "a")));
    }

    @Test
    void aPendingPutMayNeverHaveHappened() {
        assertLinearizable(List.of(
                put(1, 0, 5, "k", "x"),
                pendingPut(1, 10, "k", "a"),
                get(2, 20, 30, "k", "x"),
                get(2, 1000, 1010, "k", "x")));
    }

    @Test
    void aPendingReplaceMayLandLongAfterItsCall() {
        assertLinearizable(List.of(
                pendingReplace(1, 0, "k", "r"),
                get(2, 10, 20, "k", null),
                put(2, 30, 40, "k", "a"),
                get(2, 50, 60, "k", "a"),
                get(2, 70, 80, "k", "r")));
    }

    @Test
    void aPendingGetIsIgnored() {
        assertLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                pendingGet(2, 20, "k"),
                get(3, 30, 40, "k", "a")));
    }

    @Test
    void aPendingPutCannotBeUndoneOnceSeen() {
        assertNotLinearizable(List.of(
                pendingPut(1, 0, "k", "a"),
                get(2, 10, 20, "k", "a"),
                get(2, 30, 40, "k", null)), "k");
    }

    @Test
    void aPendingPutCannotTakeEffectBeforeItsCall() {
        assertNotLinearizable(List.of(
                get(2, 0, 10, "k", "a"),
                pendingPut(1, 20, "k", "a")), "k");
    }

    /** Forty writes that timed out early, then fifty sequential put-get pairs. */
    private static List<Operation> manyPendingWritesThenPairs() {
        List<Operation> history = new ArrayList<>();
        for (int c = 0; c < 40; c++) {
            history.add(pendingPut(c, c, "k", "lost" + c));
        }
        for (int i = 0; i < 50; i++) {
            history.add(put(100, 100 + 20 * i, 110 + 20 * i, "k", "v" + i));
            history.add(get(101, 100 + 20 * i, 115 + 20 * i, "k", "v" + i));
        }
        return history;
    }

    @Test
    void pendingWritesThatNobodySeesCostNothing() {
        List<Operation> history = manyPendingWritesThenPairs();
        history.add(get(102, 5000, 5010, "k", "lost7"));
        assertTrue(LinearizabilityChecker.check(history, 2_000).ok());
        history.add(get(102, 6000, 6010, "k", "v3"));
        CheckResult result = LinearizabilityChecker.check(history, 2_000);
        assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, result.verdict(), result.explanation());
        assertTrue(result.explanation().contains("39 pending writes nobody could have seen left out"),
                result.explanation());
    }

    @Test
    void pendingWritesSeenOnlyAtTheEndDoNotMakeTheSearchExponential() {
        // Every lost write is read at the end, so each may land anywhere before: tried in every
        // combination, that is 2^40 states before the stale read at the very end is found out.
        List<Operation> history = manyPendingWritesThenPairs();
        for (int c = 0; c < 40; c++) {
            history.add(get(102, 5000 + 20 * c, 5010 + 20 * c, "k", "lost" + c));
        }
        assertTrue(LinearizabilityChecker.check(history, 2_000_000).ok());
        history.add(get(102, 6000, 6010, "k", "v3"));
        CheckResult result = LinearizabilityChecker.check(history, 2_000_000);
        assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, result.verdict(), result.explanation());
    }

    // ---------------------------------------------------------------- DELETE and CAS

    @Test
    void deleteAndCasFollowTheModelInASequentialHistory() {
        assertLinearizable(List.of(
                cas(1, 0, 1, "k", "a", "x", false),
                cas(1, 2, 3, "k", null, "a", true),
                cas(2, 4, 5, "k", null, "b", false),
                cas(2, 6, 7, "k", "a", "b", true),
                get(1, 8, 9, "k", "b"),
                delete(1, 10, 11, "k", true),
                delete(2, 12, 13, "k", false),
                get(2, 14, 15, "k", null),
                replace(1, 16, 17, "k", "c", false),
                cas(1, 18, 19, "k", null, "c", true),
                get(2, 20, 21, "k", "c")));
    }

    /**
     * Two clients that both read "a" and both CAS it to their own value, both told they won: only one can
     * have found "a" there. The checker must reject it; it is the lost update a CAS exists to prevent.
     */
    @Test
    void twoCasesThatBothWinTheSameExpectedValueAreNotLinearizable() {
        CheckResult result = assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                cas(2, 20, 40, "k", "a", "b", true),
                cas(3, 20, 40, "k", "a", "c", true)), "k");
        assertTrue(result.explanation().contains("cannot: it returned true expecting \"a\", but the value is"),
                result.explanation());
        // One of them losing is fine, whichever it is.
        assertLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                cas(2, 20, 40, "k", "a", "b", true),
                cas(3, 20, 40, "k", "a", "c", false),
                get(1, 50, 60, "k", "b")));
    }

    @Test
    void aCasThatFailsAgainstTheValueItExpectedIsNotLinearizable() {
        assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                cas(2, 20, 30, "k", "a", "b", false)), "k");
        assertNotLinearizable(List.of(
                get(1, 0, 10, "k", null),
                cas(2, 20, 30, "k", null, "b", false)), "k");
    }

    @Test
    void aCasThatSucceedsOnAnAbsentKeyExpectingAValueIsNotLinearizable() {
        CheckResult result = assertNotLinearizable(List.of(
                delete(1, 0, 10, "k", false),
                cas(2, 20, 30, "k", "a", "b", true)), "k");
        assertTrue(result.explanation().contains("but the key is absent"), result.explanation());
    }

    @Test
    void aReadAfterASuccessfulCasMustSeeItsValue() {
        assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                cas(2, 20, 30, "k", "a", "b", true),
                get(3, 40, 50, "k", "a")), "k");
    }

    @Test
    void deleteThatFindsAKeyAbsentAfterACompletedPutIsNotLinearizable() {
        assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                delete(2, 20, 30, "k", false)), "k");
        assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                delete(2, 20, 30, "k", true),
                get(3, 40, 50, "k", "a")), "k");
    }

    @Test
    void pendingDeletesAndCasesMayHaveHappenedOrNot() {
        assertLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                pendingDelete(2, 20, "k"),
                get(3, 30, 40, "k", "a"),
                get(3, 50, 60, "k", null)));
        assertLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                pendingDelete(2, 20, "k"),
                get(3, 30, 40, "k", "a")));
        assertLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                pendingCas(2, 20, "k", "a", "b"),
                cas(3, 30, 40, "k", "b", "c", true),
                get(3, 50, 60, "k", "c")));
        assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                pendingCas(2, 20, "k", "x", "b"),
                get(3, 30, 40, "k", "b")), "k");
    }

    /**
     * Many writes that timed out early, each followed only by CASes that fail whatever the key holds or by
     * reads of other values: none can be seen, so they cost the search nothing, and a stale read at the end
     * is still found at once.
     */
    @Test
    void pendingWritesFollowedByFailingCasesDoNotMakeTheSearchExponential() {
        List<Operation> history = new ArrayList<>();
        for (int c = 0; c < 40; c++) {
            history.add(pendingPut(c, c, "k", "lost" + c));
            history.add(pendingCas(c + 100, c, "k", "v" + c, "lostcas" + c));
        }
        for (int i = 0; i < 50; i++) {
            history.add(put(200, 100 + 20 * i, 110 + 20 * i, "k", "v" + i));
            history.add(cas(201, 100 + 20 * i, 115 + 20 * i, "k", "never", "x", false));
            history.add(get(202, 100 + 20 * i, 115 + 20 * i, "k", "v" + i));
        }
        assertTrue(LinearizabilityChecker.check(history, 200_000).ok());
        history.add(get(202, 6000, 6010, "k", "v3"));
        CheckResult result = LinearizabilityChecker.check(history, 200_000);
        assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, result.verdict(), result.explanation());
    }

    @Test
    void aStaleReadAfterACompletedPutIsNotLinearizable() {
        CheckResult result = assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                put(1, 20, 30, "k", "b"),
                get(2, 40, 50, "k", "a")), "k");
        String why = result.explanation();
        assertTrue(why.contains("Longest linearizable prefix found: 2 of 3"), why);
        assertTrue(why.contains("After it the value is \"b\""), why);
        assertTrue(why.contains("get(\"k\") -> \"a\""), why);
        assertTrue(why.contains("cannot: it read \"a\", but the value is \"b\""), why);
    }

    @Test
    void aReadOfAValueNeverWrittenIsNotLinearizable() {
        assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                put(2, 5, 15, "k", "b"),
                get(3, 0, 20, "k", "ghost")), "k");
    }

    @Test
    void replaceReturningTrueOnAKeyNeverWrittenIsNotLinearizable() {
        CheckResult result = assertNotLinearizable(List.of(
                get(1, 0, 10, "k", null),
                replace(2, 20, 30, "k", "a", true)), "k");
        assertTrue(result.explanation().contains("cannot: it returned true, but the key is absent"),
                result.explanation());
    }

    @Test
    void replaceReturningFalseOnAPresentKeyIsNotLinearizable() {
        assertNotLinearizable(List.of(
                put(1, 0, 10, "k", "a"),
                replace(2, 20, 30, "k", "b", false)), "k");
    }

    @Test
    void twoReadersThatSeeTwoWritesInOppositeOrdersAreNotLinearizable() {
        // Both writes overlap everything, so only the readers' own real-time order constrains them.
        assertNotLinearizable(List.of(
                put(1, 0, 100, "k", "a"),
                put(2, 0, 100, "k", "b"),
                get(3, 10, 20, "k", "a"),
                get(3, 30, 40, "k", "b"),
                get(4, 10, 20, "k", "b"),
                get(4, 30, 40, "k", "a")), "k");
    }

    @Test
    void twoReadersThatAgreeOnTheOrderOfTwoWritesAreLinearizable() {
        assertLinearizable(List.of(
                put(1, 0, 100, "k", "a"),
                put(2, 0, 100, "k", "b"),
                get(3, 10, 20, "k", "a"),
                get(3, 30, 40, "k", "b"),
                get(4, 10, 20, "k", "a"),
                get(4, 30, 40, "k", "b")));
    }

    @Test
    void theOrderOfTheHistoryListDoesNotMatter() {
        List<Operation> history = new ArrayList<>(HistoryGenerator.linearizable(new Random(7), 300, 5, 8));
        Collections.shuffle(history, new Random(8));
        assertLinearizable(history);
    }

    @Test
    void aViolationOnOneKeyAmongManyIsFoundAndNamed() {
        List<Operation> history = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String key = "key-" + i;
            history.add(put(i, 0, 10, key, "a" + i));
            history.add(put(i + 100, 5, 25, key, "b" + i));
            history.add(get(i + 200, 30, 40, key, "b" + i));
        }
        history.add(get(999, 50, 60, "key-7", "a7"));
        CheckResult result = assertNotLinearizable(history, "key-7");
        assertFalse(result.explanation().contains("key-6"), result.explanation());
    }

    @Test
    void aViolationWinsOverAKeyWhoseBudgetRanOut() {
        List<Operation> history = new ArrayList<>();
        for (int c = 0; c < 30; c++) {
            history.add(put(c, 0, 100, "busy", "v" + c));
        }
        history.add(put(40, 0, 10, "broken", "a"));
        history.add(get(41, 20, 30, "broken", null));
        CheckResult result = LinearizabilityChecker.check(history, 20);
        assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, result.verdict(), result.explanation());
        assertEquals("broken", result.key());
    }

    @Test
    void anExhaustedBudgetGivesUnknownNamingTheKey() {
        List<Operation> history = new ArrayList<>();
        for (int c = 0; c < 10; c++) {
            history.add(put(c, 0, 100, "busy", "v" + c));
        }
        CheckResult result = LinearizabilityChecker.check(history, 5);
        assertEquals(CheckResult.Verdict.UNKNOWN, result.verdict(), result.explanation());
        assertEquals("busy", result.key());
        assertFalse(result.ok());
        assertTrue(LinearizabilityChecker.check(history).ok());
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(NullPointerException.class, () -> LinearizabilityChecker.check(null));
        assertThrows(IllegalArgumentException.class, () -> LinearizabilityChecker.check(List.of(), 0));
        List<Operation> withNull = new ArrayList<>();
        withNull.add(null);
        assertThrows(NullPointerException.class, () -> LinearizabilityChecker.check(withNull));
    }
}

package io.raftkv.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OperationTest {

    @Test
    void factoriesFillInTheModelsOutputs() {
        assertEquals("ok", Operation.put(1, 0, 1, "k", "v").output());
        assertEquals("true", Operation.replace(1, 0, 1, "k", "v", true).output());
        assertEquals("false", Operation.replace(1, 0, 1, "k", "v", false).output());
        assertNull(Operation.get(1, 0, 1, "k", null).output());
        assertNull(Operation.get(1, 0, 1, "k", null).input());
        assertEquals("true", Operation.delete(1, 0, 1, "k", true).output());
        assertNull(Operation.delete(1, 0, 1, "k", true).input());
        Operation cas = Operation.cas(1, 0, 1, "k", "old", "new", false);
        assertEquals("false", cas.output());
        assertEquals("new", cas.input());
        assertEquals("old", cas.expected());
        assertNull(Operation.pendingCas(1, 0, "k", null, "new").expected());
        assertNull(Operation.put(1, 0, 1, "k", "v").expected());
    }

    @Test
    void pendingOperationsReturnAtInfinity() {
        Operation put = Operation.pendingPut(1, 5, "k", "v");
        assertTrue(put.pending());
        assertEquals(Operation.PENDING, put.returnTime());
        assertTrue(Operation.pendingGet(1, 5, "k").pending());
        assertTrue(Operation.pendingReplace(1, 5, "k", "v").pending());
        assertFalse(Operation.put(1, 5, 6, "k", "v").pending());
        // A pending operation's output is ignored, whatever it is.
        assertTrue(new Operation(1, 5, Operation.PENDING, OpKind.PUT, "k", "v", "anything").pending());
    }

    @Test
    void anOperationCannotReturnBeforeItIsCalled() {
        assertThrows(IllegalArgumentException.class, () -> Operation.put(1, 10, 9, "k", "v"));
        assertThrows(IllegalArgumentException.class,
                () -> new Operation(1, Operation.PENDING, Operation.PENDING, OpKind.PUT, "k", "v", null));
        Operation instant = Operation.get(1, 10, 10, "k", null);
        assertEquals(10, instant.returnTime());
    }

    @Test
    void malformedOperationsAreRejected() {
        assertThrows(NullPointerException.class, () -> Operation.put(1, 0, 1, null, "v"));
        assertThrows(NullPointerException.class, () -> new Operation(1, 0, 1, null, "k", "v", "ok"));
        assertThrows(IllegalArgumentException.class, () -> Operation.put(1, 0, 1, "k", null));
        assertThrows(IllegalArgumentException.class, () -> Operation.pendingReplace(1, 0, "k", null));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.GET, "k", "v", null));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.PUT, "k", "v", "done"));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.REPLACE, "k", "v", "yes"));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.REPLACE, "k", "v", null));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.DELETE, "k", "v", "true"));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.DELETE, "k", null, "ok"));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.CAS, "k", null, "true", "e"));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.CAS, "k", "v", "ok", "e"));
        assertThrows(IllegalArgumentException.class, () -> new Operation(1, 0, 1, OpKind.PUT, "k", "v", "ok", "e"));
    }

    @Test
    void toStringReadsLikeACall() {
        assertEquals("client 3, 10..25: put(\"k\", \"v\") -> ok", Operation.put(3, 10, 25, "k", "v").toString());
        assertEquals("client 3, 10..25: get(\"k\") -> absent", Operation.get(3, 10, 25, "k", null).toString());
        assertEquals("client 3, 10..?: replace(\"k\", \"v\") -> ? (pending)",
                Operation.pendingReplace(3, 10, "k", "v").toString());
        assertEquals("client 3, 10..25: cas(\"k\", \"old\", \"new\") -> true", Operation.cas(3, 10, 25, "k", "old", "new", true).toString());
        assertEquals("client 3, 10..?: cas(\"k\", absent, \"new\") -> ? (pending)", Operation.pendingCas(3, 10, "k", null, "new").toString());
        assertEquals("client 3, 10..25: delete(\"k\") -> false", Operation.delete(3, 10, 25, "k", false).toString());
    }
}

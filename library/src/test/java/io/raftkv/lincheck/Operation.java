package io.raftkv.lincheck;

import java.util.Locale;
import java.util.Objects;

/**
 * One client operation: when it was called, when it returned, what it asked and what it was told.
 *
 * @param clientId   the client that issued it; informational, the checker does not use it
 * @param callTime   when the client issued it
 * @param returnTime when the client saw its outcome, or {@link #PENDING} if it never did
 * @param kind       what it did
 * @param key        the key it touched
 * @param input      the value written by {@link OpKind#PUT}, {@link OpKind#REPLACE} and {@link OpKind#CAS} (its new
 *                   value); null for {@link OpKind#GET} and {@link OpKind#DELETE}
 * @param output     {@link OpKind#GET}: the value read, or null if the key was absent;
 *                   {@link OpKind#REPLACE}, {@link OpKind#DELETE}, {@link OpKind#CAS}: "true" or "false";
 *                   {@link OpKind#PUT}: "ok"; ignored (and may be null) when the operation is pending
 * @param expected   {@link OpKind#CAS}: the value it expected, or null if it expected the key absent; null for
 *                   every other kind
 */
public record Operation(int clientId, long callTime, long returnTime, OpKind kind,
                        String key, String input, String output, String expected) {

    /**
     * The return time of an operation whose outcome is unknown: it may or may not have taken
     * effect, at any time after its call.
     */
    public static final long PENDING = Long.MAX_VALUE;

    /** The output of every completed {@link OpKind#PUT}. */
    public static final String OK = "ok";

    /** An operation of any kind but {@link OpKind#CAS} (whose expected value this makes absent). */
    public Operation(int clientId, long callTime, long returnTime, OpKind kind, String key, String input, String output) {
        this(clientId, callTime, returnTime, kind, key, input, output, null);
    }

    public Operation {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        if (callTime == PENDING) {
            throw new IllegalArgumentException("callTime must be a real time, not PENDING: " + describe(clientId, kind, key));
        }
        if (callTime > returnTime) {
            throw new IllegalArgumentException("callTime " + callTime + " is after returnTime " + returnTime
                    + ": " + describe(clientId, kind, key));
        }
        boolean takesInput = kind != OpKind.GET && kind != OpKind.DELETE;
        if (takesInput ? input == null : input != null) {
            throw new IllegalArgumentException((takesInput ? kind + " needs an input" : kind + " takes no input")
                    + ": " + describe(clientId, kind, key));
        }
        if (expected != null && kind != OpKind.CAS) {
            throw new IllegalArgumentException("only a CAS has an expected value: " + describe(clientId, kind, key));
        }
        // Outputs the model can never produce mean the recorder is broken, not the system under test.
        if (returnTime != PENDING) {
            if (kind == OpKind.PUT && !OK.equals(output)) {
                throw new IllegalArgumentException("a completed PUT outputs \"ok\", not " + HistoryJson.quote(output)
                        + ": " + describe(clientId, kind, key));
            }
            if ((kind == OpKind.REPLACE || kind == OpKind.DELETE || kind == OpKind.CAS)
                    && !"true".equals(output) && !"false".equals(output)) {
                throw new IllegalArgumentException("a completed " + kind + " outputs \"true\" or \"false\", not "
                        + HistoryJson.quote(output) + ": " + describe(clientId, kind, key));
            }
        }
    }

    /** A completed put of {@code value} under {@code key}. */
    public static Operation put(int clientId, long callTime, long returnTime, String key, String value) {
        return new Operation(clientId, callTime, returnTime, OpKind.PUT, key, value, OK);
    }

    /** A completed get of {@code key} that read {@code value}, or null if the key was absent. */
    public static Operation get(int clientId, long callTime, long returnTime, String key, String value) {
        return new Operation(clientId, callTime, returnTime, OpKind.GET, key, null, value);
    }

    /** A completed replace of {@code key} with {@code value} that reports whether it replaced. */
    public static Operation replace(int clientId, long callTime, long returnTime, String key, String value,
                                    boolean replaced) {
        return new Operation(clientId, callTime, returnTime, OpKind.REPLACE, key, value, Boolean.toString(replaced));
    }

    /** A completed delete of {@code key} that reports whether the key held a value. */
    public static Operation delete(int clientId, long callTime, long returnTime, String key, boolean deleted) {
        return new Operation(clientId, callTime, returnTime, OpKind.DELETE, key, null, Boolean.toString(deleted));
    }

    /**
     * A completed compare-and-set of {@code key} from {@code expected} (null: absent) to {@code value} that
     * reports whether it set it.
     */
    public static Operation cas(int clientId, long callTime, long returnTime, String key, String expected, String value,
                                boolean set) {
        return new Operation(clientId, callTime, returnTime, OpKind.CAS, key, value, Boolean.toString(set), expected);
    }

    /** A delete whose outcome the client never learned. */
    public static Operation pendingDelete(int clientId, long callTime, String key) {
        return new Operation(clientId, callTime, PENDING, OpKind.DELETE, key, null, null);
    }

    /** A compare-and-set whose outcome the client never learned. */
    public static Operation pendingCas(int clientId, long callTime, String key, String expected, String value) {
        return new Operation(clientId, callTime, PENDING, OpKind.CAS, key, value, null, expected);
    }

    /** A put whose outcome the client never learned. */
    public static Operation pendingPut(int clientId, long callTime, String key, String value) {
        return new Operation(clientId, callTime, PENDING, OpKind.PUT, key, value, null);
    }

    /** A get whose outcome the client never learned. */
    public static Operation pendingGet(int clientId, long callTime, String key) {
        return new Operation(clientId, callTime, PENDING, OpKind.GET, key, null, null);
    }

    /** A replace whose outcome the client never learned. */
    public static Operation pendingReplace(int clientId, long callTime, String key, String value) {
        return new Operation(clientId, callTime, PENDING, OpKind.REPLACE, key, value, null);
    }

    /** Whether the outcome is unknown, that is, {@code returnTime == PENDING}. */
    public boolean pending() {
        return returnTime == PENDING;
    }

    /**
     * Reads like {@code client 3, 10..25: put("k", "v") -> ok}, or {@code cas("k", "old", "new") -> true} (the
     * expected value first, {@code absent} if none), for failure reports.
     */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder()
                .append("client ").append(clientId).append(", ").append(callTime).append("..")
                .append(pending() ? "?" : Long.toString(returnTime)).append(": ")
                .append(kind.name().toLowerCase(Locale.ROOT)).append('(').append(HistoryJson.quote(key));
        if (kind == OpKind.CAS) {
            b.append(", ").append(expected == null ? "absent" : HistoryJson.quote(expected));
        }
        if (input != null) {
            b.append(", ").append(HistoryJson.quote(input));
        }
        b.append(") -> ");
        if (pending()) {
            b.append("? (pending)");
        } else if (kind == OpKind.GET) {
            b.append(output == null ? "absent" : HistoryJson.quote(output));
        } else {
            b.append(output);
        }
        return b.toString();
    }

    private static String describe(int clientId, OpKind kind, String key) {
        return "client " + clientId + " " + kind + " " + HistoryJson.quote(key);
    }
}

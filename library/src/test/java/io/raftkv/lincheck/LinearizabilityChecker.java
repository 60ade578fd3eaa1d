package io.raftkv.lincheck;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Decides whether a key-value history is linearizable.
 *
 * <p>Each key is an independent register, so the history is split per key and each part is
 * searched on its own (linearizability is compositional); the search is Wing and Gong's with
 * Lowe's memoization, as in Porcupine. Operations whose intervals touch at one instant (one
 * returns when the other is called) count as concurrent. A pending GET is dropped; a pending
 * PUT or REPLACE may take effect at any time after its call, or never.
 */
public final class LinearizabilityChecker {

    /**
     * The search budget {@link #check(List)} grants each key, a few tenths of a second at most:
     * far above the two or three steps per operation that real histories take.
     */
    public static final long DEFAULT_MAX_SEARCH_STEPS = 2_000_000L;

    private LinearizabilityChecker() {
    }

    /** Checks {@code history} with {@link #DEFAULT_MAX_SEARCH_STEPS}. */
    public static CheckResult check(List<Operation> history) {
        return check(history, DEFAULT_MAX_SEARCH_STEPS);
    }

    /**
     * Checks {@code history}, spending at most {@code maxSearchSteps} search steps on any one key.
     *
     * <p>A violation on any key wins over a key whose budget ran out, because it is conclusive.
     */
    public static CheckResult check(List<Operation> history, long maxSearchSteps) {
        Objects.requireNonNull(history, "history");
        if (maxSearchSteps <= 0) {
            throw new IllegalArgumentException("maxSearchSteps must be positive: " + maxSearchSteps);
        }
        Map<String, List<Operation>> byKey = new LinkedHashMap<>();
        int kept = 0;
        for (Operation op : history) {
            Objects.requireNonNull(op, "history holds a null operation");
            // A read nobody saw constrains nothing.
            if (op.pending() && op.kind() == OpKind.GET) {
                continue;
            }
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            kept++;
        }
        CheckResult unknown = null;
        for (Map.Entry<String, List<Operation>> part : byKey.entrySet()) {
            CheckResult unwritten = readOfAValueNeverWritten(part.getKey(), part.getValue());
            if (unwritten != null) {
                return unwritten;
            }
        }
        for (Map.Entry<String, List<Operation>> part : byKey.entrySet()) {
            CheckResult result = new KeySearch(part.getKey(), part.getValue()).run(maxSearchSteps);
            if (result.verdict() == CheckResult.Verdict.NOT_LINEARIZABLE) {
                return result;
            }
            if (result.verdict() == CheckResult.Verdict.UNKNOWN && unknown == null) {
                unknown = result;
            }
        }
        if (unknown != null) {
            return unknown;
        }
        return new CheckResult(CheckResult.Verdict.LINEARIZABLE, null,
                "linearizable: " + kept + " operations on " + byKey.size() + " keys"
                        + (kept == history.size() ? "" : " (" + (history.size() - kept) + " pending gets ignored)"));
    }

    /**
     * A completed GET of {@code key} that returned a value no operation on the key ever wrote, pending writes
     * included: no order of the operations explains it, so the search need not try them all (with many
     * pending writes it could spend its whole budget doing so). Null if every value read was written.
     */
    private static CheckResult readOfAValueNeverWritten(String key, List<Operation> ops) {
        Set<String> written = new HashSet<>();
        for (Operation op : ops) {
            if (op.input() != null) {
                written.add(op.input());
            }
        }
        for (Operation op : ops) {
            if (op.kind() == OpKind.GET && !op.pending() && op.output() != null && !written.contains(op.output())) {
                return new CheckResult(CheckResult.Verdict.NOT_LINEARIZABLE, key, "key " + HistoryJson.quote(key)
                        + ": " + op + " read " + HistoryJson.quote(op.output()) + ", a value no operation on the key wrote");
            }
        }
        return null;
    }
}

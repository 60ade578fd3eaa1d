package io.raftkv.lincheck;

import java.util.Objects;

/**
 * The verdict of a check.
 *
 * @param verdict     whether the history is linearizable, is not, or could not be decided
 * @param key         the key whose sub-history decided the verdict, or null when every key passed
 * @param explanation a human-readable account of the verdict
 */
public record CheckResult(Verdict verdict, String key, String explanation) {

    /** What a check concluded. */
    public enum Verdict {
        /** Some order of the operations respects real time and the key-value model. */
        LINEARIZABLE,
        /** No such order exists. */
        NOT_LINEARIZABLE,
        /** The search budget ran out before an answer was found. */
        UNKNOWN
    }

    public CheckResult {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(explanation, "explanation");
    }

    /** Whether the history was shown linearizable. */
    public boolean ok() {
        return verdict == Verdict.LINEARIZABLE;
    }
}

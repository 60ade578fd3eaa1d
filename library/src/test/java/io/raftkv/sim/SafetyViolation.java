package io.raftkv.sim;

/** A Raft safety or liveness property that a simulated run broke. */
final class SafetyViolation extends RuntimeException {
    final String property;

    SafetyViolation(String property, String detail) {
        super(property + ": " + detail);
        this.property = property;
    }
}

package io.raftkv.kv;

/** What applying a write to the key-value state machine answered. */
sealed interface KvResult {
    /** A PUT was applied. */
    record Written() implements KvResult {}

    /**
     * A conditional write was decided; {@code applied} says whether it changed the map: a REPLACE found the key,
     * a DELETE found a value to remove, a CAS found the value (or the absence) it expected. One answer for all
     * three: a session keeps only its last answer, to give it again to a retry of the same write.
     */
    record Conditional(boolean applied) implements KvResult {}

    /** A session was opened; its id is {@code clientId}. */
    record Registered(long clientId) implements KvResult {}

    /** The client's session is gone (evicted), so a retry could not be told from a new request. */
    record SessionExpired() implements KvResult {}

    /** An older request of a client that has since moved on; nobody waits for it. */
    record Stale() implements KvResult {}

    Written WRITTEN = new Written();
    SessionExpired SESSION_EXPIRED = new SessionExpired();
    Stale STALE = new Stale();
    Conditional APPLIED = new Conditional(true);
    Conditional NOT_APPLIED = new Conditional(false);
}

package io.raftkv.kv;

/** What applying a write to the key-value state machine answered. */
sealed interface KvResult {
    /** A PUT was applied. */
    record Written() implements KvResult {}

    /** A REPLACE was applied; {@code replaced} says whether the key existed. */
    record Replaced(boolean replaced) implements KvResult {}

    /** A session was opened; its id is {@code clientId}. */
    record Registered(long clientId) implements KvResult {}

    /** The client's session is gone (evicted), so a retry could not be told from a new request. */
    record SessionExpired() implements KvResult {}

    /** An older request of a client that has since moved on; nobody waits for it. */
    record Stale() implements KvResult {}

    Written WRITTEN = new Written();
    SessionExpired SESSION_EXPIRED = new SessionExpired();
    Stale STALE = new Stale();
    Replaced REPLACED = new Replaced(true);
    Replaced NOT_REPLACED = new Replaced(false);
}

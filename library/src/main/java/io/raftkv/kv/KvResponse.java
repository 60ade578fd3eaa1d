package io.raftkv.kv;

/** A node's answer to a {@link KvRequest}. */
public sealed interface KvResponse {
    /**
     * Done: {@code value} is the value read by a GET (null if absent); a Boolean for a REPLACE (whether it
     * replaced), a DELETE (whether the key held a value) and a CAS (whether it set the key); the new session
     * id of a REGISTER (a Long); or null for a PUT.
     */
    record Ok(Object value) implements KvResponse {
        /** The answer with no value (a PUT's, or a GET of a key that is absent), shared. */
        public static final Ok NONE = new Ok(null);
    }

    /** Not the leader; try {@code leaderHint} (0 if unknown). The request may still take effect. */
    record NotLeader(int leaderHint) implements KvResponse {}

    /** The node is down or stopping. */
    record Unavailable(String reason) implements KvResponse {}

    /** The request can never succeed as it is, for the reason given. */
    record Refused(String reason) implements KvResponse {}
}

package io.raftkv.lincheck;

/** The kinds of key-value operation a history records. */
public enum OpKind {
    /** Sets the key's value; answers "ok". */
    PUT,
    /** Reads the key's value; answers the value, or null if the key is absent. */
    GET,
    /** Sets the key's value only if the key is present; answers "true" if it did, "false" if not. */
    REPLACE
}

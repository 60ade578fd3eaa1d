package io.raftkv.lincheck;

/** The kinds of key-value operation a history records. */
public enum OpKind {
    /** Sets the key's value; answers "ok". */
    PUT,
    /** Reads the key's value; answers the value, or null if the key is absent. */
    GET,
    /** Sets the key's value only if the key is present; answers "true" if it did, "false" if not. */
    REPLACE,
    /** Removes the key; answers "true" if it held a value, "false" if it was absent. */
    DELETE,
    /**
     * Sets the key's value only if it holds the expected value (or, expecting none, only if it is absent);
     * answers "true" if it did, "false" if not.
     */
    CAS
}

package io.raftkv.kv;

/**
 * Size limits on keys and values, in UTF-8 bytes. Defaults: keys up to 1 KiB, values up to 1 MiB.
 */
public record KvLimits(int maxKeyBytes, int maxValueBytes) {
    public static final KvLimits DEFAULT = new KvLimits(1024, 1 << 20);

    public KvLimits {
        if (maxKeyBytes < 1) throw new IllegalArgumentException("maxKeyBytes must be >= 1, was " + maxKeyBytes);
        if (maxValueBytes < 0) throw new IllegalArgumentException("maxValueBytes must be >= 0, was " + maxValueBytes);
    }

    void checkKey(String key) {
        if (key == null) throw new NullPointerException("key must not be null");
        checkKeyBytes(encodableLength(key, "key"));
    }

    /** Checks a key of {@code n} UTF-8 bytes against the limit. */
    void checkKeyBytes(int n) {
        if (n > maxKeyBytes) {
            throw new IllegalArgumentException("key is " + n + " bytes in UTF-8; the limit is " + maxKeyBytes);
        }
    }

    private static int encodableLength(String s, String what) {
        int n = KvCommand.utf8Length(s);
        if (n < 0) {
            // UTF-8 cannot carry it: it would be stored as '?', and read back changed.
            throw new IllegalArgumentException(what + " has an unpaired surrogate at index " + (-1 - n)
                    + ", which is not valid Unicode");
        }
        return n;
    }

    void checkValue(String value) {
        if (value == null) throw new NullPointerException("value must not be null");
        checkValueBytes(encodableLength(value, "value"));
    }

    /** Checks a value of {@code n} UTF-8 bytes against the limit. */
    void checkValueBytes(int n) {
        if (n > maxValueBytes) {
            throw new IllegalArgumentException("value is " + n + " bytes in UTF-8; the limit is " + maxValueBytes);
        }
    }

    /**
     * Checks a CAS's expected value (not null: a null expects absence, and needs no check) against the value
     * limit: one longer than any value can be stored could never match, and is a mistake to say so.
     */
    void checkExpected(String expected) {
        checkExpectedBytes(encodableLength(expected, "expected value"));
    }

    /** Checks an expected value of {@code n} UTF-8 bytes against the value limit. */
    void checkExpectedBytes(int n) {
        if (n > maxValueBytes) {
            throw new IllegalArgumentException("expected value is " + n + " bytes in UTF-8; the limit on values is " + maxValueBytes);
        }
    }
}

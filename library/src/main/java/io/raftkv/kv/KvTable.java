package io.raftkv.kv;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The key-value map of a {@link KvStateMachine}: keys and values as UTF-8 bytes, looked up by a slice
 * of a command's array, so that applying a PUT to a key that exists allocates nothing (no key String,
 * no value object). A value is kept where it arrived: a slice of the command's array, which nobody
 * changes. Open addressing with linear probing over parallel arrays; a key's bytes are copied once,
 * when it is first stored. Not thread-safe: the node's thread owns it.
 */
final class KvTable {
    private static final int MIN_CAPACITY = 16;

    private byte[][] keys;
    private int[] hashes;
    private byte[][] valueArrays;
    private int[] valueOffsets;
    private int[] valueLengths;
    private int size;

    KvTable() {
        this(0);
    }

    /** A table with room for {@code expected} keys before it grows (a snapshot being read knows how many). */
    KvTable(int expected) {
        int capacity = MIN_CAPACITY;
        while (capacity * 3L < expected * 4L) capacity *= 2; // the same load factor as put keeps: at most 3/4
        keys = new byte[capacity][];
        hashes = new int[capacity];
        valueArrays = new byte[capacity][];
        valueOffsets = new int[capacity];
        valueLengths = new int[capacity];
    }

    int size() {
        return size;
    }

    /** Stores the value {@code value[vAt, vAt + vLen)} under the key {@code key[kAt, kAt + kLen)}; neither array may change afterwards. */
    void put(byte[] key, int kAt, int kLen, byte[] value, int vAt, int vLen) {
        int h = hash(key, kAt, kLen);
        int slot = find(h, key, kAt, kLen);
        if (keys[slot] == null) {
            if ((size + 1) * 4 > keys.length * 3) {
                grow();
                slot = find(h, key, kAt, kLen);
            }
            keys[slot] = Arrays.copyOfRange(key, kAt, kAt + kLen);
            hashes[slot] = h;
            size++;
        }
        valueArrays[slot] = value;
        valueOffsets[slot] = vAt;
        valueLengths[slot] = vLen;
    }

    /** As {@link #put}, unless the key is there already: then nothing changes, and this returns false. */
    boolean putIfAbsent(byte[] key, int kAt, int kLen, byte[] value, int vAt, int vLen) {
        int h = hash(key, kAt, kLen);
        if (keys[find(h, key, kAt, kLen)] != null) return false;
        put(key, kAt, kLen, value, vAt, vLen);
        return true;
    }

    /**
     * Stores the value {@code value[vAt, vAt + vLen)} under the key if the key holds exactly the value
     * {@code expected[eAt, eAt + eLen)}, or, if {@code expected} is null, if the key is absent; returns
     * whether it did. Neither stored array may change afterwards.
     */
    boolean compareAndPut(byte[] key, int kAt, int kLen, byte[] expected, int eAt, int eLen,
                          byte[] value, int vAt, int vLen) {
        if (expected == null) return putIfAbsent(key, kAt, kLen, value, vAt, vLen);
        int slot = find(hash(key, kAt, kLen), key, kAt, kLen);
        if (keys[slot] == null) return false;
        int at = valueOffsets[slot];
        if (!Arrays.equals(valueArrays[slot], at, at + valueLengths[slot], expected, eAt, eAt + eLen)) return false;
        valueArrays[slot] = value;
        valueOffsets[slot] = vAt;
        valueLengths[slot] = vLen;
        return true;
    }

    /**
     * Removes the key; returns whether it was there. The entries after it in its probe run move back into
     * the gap where they may (backward-shift deletion), so no lookup ever stops short at a hole and no
     * tombstones pile up.
     */
    boolean remove(byte[] key, int kAt, int kLen) {
        int hole = find(hash(key, kAt, kLen), key, kAt, kLen);
        if (keys[hole] == null) return false;
        int mask = keys.length - 1;
        for (int i = (hole + 1) & mask; keys[i] != null; i = (i + 1) & mask) {
            // The entry at i may fill the hole if the hole lies on its probe path: between its home slot and i.
            if (((i - hashes[i]) & mask) >= ((i - hole) & mask)) {
                keys[hole] = keys[i];
                hashes[hole] = hashes[i];
                valueArrays[hole] = valueArrays[i];
                valueOffsets[hole] = valueOffsets[i];
                valueLengths[hole] = valueLengths[i];
                hole = i;
            }
        }
        keys[hole] = null;
        hashes[hole] = 0;
        valueArrays[hole] = null; // the command's array may go
        valueOffsets[hole] = 0;
        valueLengths[hole] = 0;
        size--;
        return true;
    }

    boolean containsKey(byte[] key, int kAt, int kLen) {
        return keys[find(hash(key, kAt, kLen), key, kAt, kLen)] != null;
    }

    /** The value of {@code key}, or null. */
    String get(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int slot = find(hash(k, 0, k.length), k, 0, k.length);
        return keys[slot] == null ? null : new String(valueArrays[slot], valueOffsets[slot], valueLengths[slot], StandardCharsets.UTF_8);
    }

    /** A copy that shares the keys and values (neither ever changes) but not the slots. */
    KvTable copy() {
        KvTable c = new KvTable();
        c.keys = keys.clone();
        c.hashes = hashes.clone();
        c.valueArrays = valueArrays.clone();
        c.valueOffsets = valueOffsets.clone();
        c.valueLengths = valueLengths.clone();
        c.size = size;
        return c;
    }

    /** The keys, in no particular order, in an array of their own. */
    byte[][] keys() {
        byte[][] out = new byte[size][];
        int n = 0;
        for (byte[] k : keys) if (k != null) out[n++] = k;
        return out;
    }

    /** The slot of a key this table holds (one of {@link #keys()}), for {@link #valueArray} and its kin. */
    int slotOf(byte[] key) {
        int slot = find(hash(key, 0, key.length), key, 0, key.length);
        if (keys[slot] == null) throw new IllegalArgumentException("no such key");
        return slot;
    }

    byte[] valueArray(int slot) {
        return valueArrays[slot];
    }

    int valueOffset(int slot) {
        return valueOffsets[slot];
    }

    int valueLength(int slot) {
        return valueLengths[slot];
    }

    /** The slot holding the key, or the empty slot where it would go. */
    private int find(int h, byte[] key, int kAt, int kLen) {
        int mask = keys.length - 1;
        int i = h & mask;
        while (true) {
            byte[] k = keys[i];
            if (k == null || (hashes[i] == h && Arrays.equals(k, 0, k.length, key, kAt, kAt + kLen))) return i;
            i = (i + 1) & mask;
        }
    }

    private void grow() {
        byte[][] oldKeys = keys;
        int[] oldHashes = hashes;
        byte[][] oldArrays = valueArrays;
        int[] oldOffsets = valueOffsets;
        int[] oldLengths = valueLengths;
        int capacity = oldKeys.length * 2;
        keys = new byte[capacity][];
        hashes = new int[capacity];
        valueArrays = new byte[capacity][];
        valueOffsets = new int[capacity];
        valueLengths = new int[capacity];
        int mask = capacity - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] == null) continue;
            int i = oldHashes[j] & mask;
            while (keys[i] != null) i = (i + 1) & mask;
            keys[i] = oldKeys[j];
            hashes[i] = oldHashes[j];
            valueArrays[i] = oldArrays[j];
            valueOffsets[i] = oldOffsets[j];
            valueLengths[i] = oldLengths[j];
        }
    }

    private static int hash(byte[] b, int at, int n) {
        int h = 1;
        for (int i = at, end = at + n; i < end; i++) h = 31 * h + b[i];
        // Spread the bits: linear probing with a power-of-two table uses the low ones.
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}

package io.raftkv.storage;

import java.util.Arrays;

/**
 * What a store keeps in memory of each entry of a log: its term, and where its record is (the segment and the
 * byte offset in it), so that the entry can be read back by index ({@link LogReader}). Position i holds the entry
 * at the log's first index + i. Two primitive arrays, no object per entry: this exists so that the heap need not
 * hold the entries themselves.
 *
 * <p>A position is packed into one long: the segment number in the high 33 bits, the offset (below
 * {@link LogFormat#MAX_SEGMENT_FILE_BYTES}, so 31 bits) in the low ones. Along a log the packed positions only
 * grow: an entry's record was written in the same write as the one before it or in a later one, and later writes
 * go further into the current segment or into a newer one.
 */
final class LogIndex {
    private static final int OFFSET_BITS = 31;
    private static final long OFFSET_MASK = (1L << OFFSET_BITS) - 1;
    private static final long MAX_SEGMENT = (1L << (Long.SIZE - OFFSET_BITS)) - 1;
    private static final int INITIAL = 64;

    private long[] terms = new long[INITIAL];
    private long[] positions = new long[INITIAL];
    private int count;

    /** How many entries the index holds. */
    int count() {
        return count;
    }

    long term(int i) {
        return terms[check(i)];
    }

    /** The number of the segment that holds entry i's record. */
    long segment(int i) {
        return positions[check(i)] >>> OFFSET_BITS;
    }

    /** The byte offset of entry i's record in its segment. */
    long offset(int i) {
        return positions[check(i)] & OFFSET_MASK;
    }

    /** Adds an entry after the last one: its term, and the segment and offset of its record. */
    void add(long term, long segment, long offset) {
        if (segment < 1 || segment > MAX_SEGMENT || offset < 0 || offset > OFFSET_MASK) {
            throw new IllegalArgumentException("cannot index a record in segment " + segment + " at offset " + offset);
        }
        if (count == terms.length) {
            int grown = count * 2;
            terms = Arrays.copyOf(terms, grown);
            positions = Arrays.copyOf(positions, grown);
        }
        terms[count] = term;
        positions[count] = segment << OFFSET_BITS | offset;
        count++;
    }

    /** Keeps the first {@code keep} entries, dropping those after them (a write that replaces a suffix). */
    void truncate(int keep) {
        if (keep < 0 || keep > count) throw new IllegalArgumentException("cannot keep " + keep + " of " + count);
        count = keep;
    }

    /** Drops the first {@code n} entries (those a snapshot now covers); entry n becomes entry 0. */
    void dropFirst(int n) {
        if (n < 0 || n > count) throw new IllegalArgumentException("cannot drop " + n + " of " + count);
        count -= n;
        System.arraycopy(terms, n, terms, 0, count);
        System.arraycopy(positions, n, positions, 0, count);
        shrink();
    }

    void clear() {
        count = 0;
        shrink();
    }

    /** Gives back most of the arrays once they are mostly empty. */
    private void shrink() {
        if (terms.length > INITIAL && count < terms.length / 4) {
            int size = Math.max(INITIAL, count * 2);
            terms = Arrays.copyOf(terms, size);
            positions = Arrays.copyOf(positions, size);
        }
    }

    private int check(int i) {
        if (i < 0 || i >= count) throw new IndexOutOfBoundsException("entry " + i + " of " + count);
        return i;
    }
}

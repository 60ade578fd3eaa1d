package io.raftkv.raft;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One node's log in memory, with the marks that say how far it is persisted, committed and handed
 * out for applying. It may start after a snapshot: it knows the index and term just before its
 * first entry, and the configuration in force there. It tracks the configuration entries it holds, so
 * that the configuration in force (the last one in the log, committed or not) follows every append,
 * truncation and compaction.
 *
 * <p>Given a {@link LogSource} (its store, which can read entries back by index), it may also
 * {@linkplain #release release} entries from the heap once they are durable and applied, keeping their terms:
 * one run of indexes at a time, {@link #releasedFrom()} to {@link #releasedTo()}, read back from the source when
 * needed. The run lies after the store's newest snapshot: the entries a log keeps before that snapshot (for a
 * follower just behind) are in memory only, since the store dropped them. Released entries are committed, so no
 * conflicting append ever reaches them.
 */
public final class RaftLog {
    /** Answer of {@link #term} for an index this log does not hold. */
    public static final long UNKNOWN_TERM = -1;

    private long snapshotIndex;
    private long snapshotTerm;
    /** A slot per index after the snapshot: index {@code snapshotIndex + 1 + i} at i; null where released. */
    private final ArrayList<Entry> entries = new ArrayList<>();
    /**
     * Bytes ({@link Entry#size()}) of the log up to each slot, summed from some start: the bytes of indexes a..b are
     * {@code cumAt(b) - cumAt(a - 1)}, found without reading the entries, which releasing would otherwise walk
     * long after they left the CPU's caches.
     */
    private long[] cum = new long[64];
    /** The sum just before slot 0 (at the snapshot). */
    private long cumBase;
    /** The released run, {@code [relFrom, relTo)}; empty when equal. */
    private long relFrom = 1;
    private long relTo = 1;
    /**
     * The terms of the log after the snapshot, as runs of a term: run k starts at index runStart[k], of term
     * runTerm[k], and lasts until the next run. A released entry's term is read here.
     */
    private long[] runStart = new long[4];
    private long[] runTerm = new long[4];
    private int runs;
    /** Where released entries are read back; null if this log never releases any. */
    private LogSource source;
    /** The {@link Entry#size()} of the entries held in memory, kept as they come and go. */
    private long bytes;
    private long committed;
    private long applied;
    /** Last index known to be on stable storage. */
    private long stable;
    /** First index not yet handed to the application for persisting. */
    private long unstableFrom;
    /** The configuration in force at {@link #snapshotIndex}. */
    private Configuration baseConfig;
    /** The run {@link #slice} returned last, and the index it starts at; null once the log may differ there. */
    private List<Entry> lastSlice;
    private long lastSliceFrom;
    /** The configuration entries this log holds, by index. */
    private final TreeMap<Long, Configuration> configs = new TreeMap<>();

    RaftLog(long snapshotIndex, long snapshotTerm, Configuration baseConfig, List<Entry> persisted, long committed) {
        this.snapshotIndex = snapshotIndex;
        this.snapshotTerm = snapshotTerm;
        this.baseConfig = baseConfig;
        long expect = snapshotIndex + 1;
        long prevTerm = snapshotTerm;
        for (Entry e : persisted) {
            if (e.index() != expect) {
                throw new IllegalArgumentException("persisted log is not contiguous: expected index " + expect
                        + " but found " + e);
            }
            if (e.term() < prevTerm) {
                throw new IllegalArgumentException("persisted log has a term going back at " + e);
            }
            addSlot(e);
            expect++;
            prevTerm = e.term();
        }
        relFrom = relTo = snapshotIndex + 1;
        long last = lastIndex();
        // Commit is volatile state in Raft; what survives of it is a hint. The core persists no commit index
        // beyond the entries durable before the write that carries it (RaftCore.durableCommit), so even a
        // store that is not write-atomic (FileStorage is), keeping a torn write's hard state but losing its
        // entries, holds under the stored commit index only entries that were committed. A log that ends
        // before it (a store that lost forced entries) is cut to its end.
        this.committed = Math.max(Math.min(committed, last), snapshotIndex);
        this.applied = snapshotIndex;
        this.stable = last;
        this.unstableFrom = last + 1;
    }

    public long firstIndex() { return snapshotIndex + 1; }

    public long lastIndex() { return snapshotIndex + entries.size(); }

    /** The bytes of the entries this log holds in memory ({@link Entry#size()} each: payload plus 24). */
    public long bytes() { return bytes; }

    /** The first index of the run of entries released from memory; equal to {@link #releasedTo()} if none is. */
    public long releasedFrom() { return relFrom; }

    /** The index after the run of entries released from memory. */
    public long releasedTo() { return relTo; }

    /** Adds {@code e} at the end: its slot, its byte sum, its term's run, its configuration. */
    private void addSlot(Entry e) {
        int n = entries.size();
        if (n == cum.length) cum = Arrays.copyOf(cum, n * 2);
        cum[n] = (n == 0 ? cumBase : cum[n - 1]) + e.size();
        entries.add(e);
        bytes += e.size();
        if (runs == 0 || runTerm[runs - 1] != e.term()) addRun(e.index(), e.term());
        noteConfig(e);
    }

    /** The byte sum through {@code index} (at or after the snapshot). */
    private long cumAt(long index) {
        return index == snapshotIndex ? cumBase : cum[(int) (index - snapshotIndex - 1)];
    }

    /** The bytes of the entries {@code a} to {@code b}, released or not; 0 if {@code b < a}. */
    private long bytesOf(long a, long b) {
        return b < a ? 0 : cumAt(b) - cumAt(a - 1);
    }

    /** The bytes of the entries {@code a} to {@code b} that are in memory (not released). */
    private long memoryBytesOf(long a, long b) {
        return bytesOf(a, b) - (relFrom < relTo ? bytesOf(Math.max(a, relFrom), Math.min(b, relTo - 1)) : 0);
    }

    public long lastTerm() { return term(lastIndex()); }

    public long committed() { return committed; }

    public long applied() { return applied; }

    public long stable() { return stable; }

    /** The term of the entry at {@code index}, or {@link #UNKNOWN_TERM} if this log does not hold it. */
    public long term(long index) {
        if (index == snapshotIndex) return snapshotTerm;
        if (index < snapshotIndex || index > lastIndex()) return UNKNOWN_TERM;
        Entry e = entries.get((int) (index - snapshotIndex - 1));
        return e != null ? e.term() : runTermOf(index);
    }

    /** The term of {@code index}, after the snapshot, from the runs of terms. */
    private long runTermOf(long index) {
        int k = runs - 1;
        while (k > 0 && runStart[k] > index) k--;
        return runTerm[k];
    }

    /** The entry at {@code index}; a released one is read back from the source. */
    public Entry entry(long index) {
        if (index <= snapshotIndex || index > lastIndex()) {
            throw new IndexOutOfBoundsException("no entry " + index + " in log [" + firstIndex() + ", " + lastIndex() + "]");
        }
        Entry e = entries.get((int) (index - snapshotIndex - 1));
        return e != null ? e : readReleased(index, index + 1, 1).get(0);
    }

    boolean matchTerm(long index, long term) {
        return term(index) == term;
    }

    /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as this one? */
    boolean isUpToDate(long lastIndex, long lastTerm) {
        long myTerm = lastTerm();
        return lastTerm > myTerm || (lastTerm == myTerm && lastIndex >= lastIndex());
    }

    void append(Entry e) {
        if (e.index() != lastIndex() + 1) {
            throw new IllegalStateException("append of " + e + " after last index " + lastIndex());
        }
        addSlot(e);
    }

    private void noteConfig(Entry e) {
        if (e.kind() != Entry.Kind.CONFIG) return;
        try {
            configs.put(e.index(), Configuration.decode(e.data()));
        } catch (IllegalArgumentException bad) {
            throw new IllegalStateException("configuration entry " + e + " holds no configuration: " + bad.getMessage(), bad);
        }
    }

    /** The configuration in force: the last one in this log, committed or not (thesis §4.1). */
    public Configuration configuration() {
        return configs.isEmpty() ? baseConfig : configs.lastEntry().getValue();
    }

    /** The configuration in force once the log up to {@code index} is applied. */
    public Configuration configurationAt(long index) {
        if (index < snapshotIndex) throw new IllegalArgumentException("index " + index + " is before the log's snapshot at " + snapshotIndex);
        Map.Entry<Long, Configuration> e = configs.floorEntry(index);
        return e == null ? baseConfig : e.getValue();
    }

    /** The index of the last configuration entry this log holds, or its snapshot index if it holds none. */
    public long lastConfigIndex() {
        return configs.isEmpty() ? snapshotIndex : configs.lastKey();
    }

    /**
     * The follower side of AppendEntries: if the log matches at (prevIndex, prevTerm), drop any
     * conflicting suffix, append what is new and return the index of the last entry received;
     * otherwise return -1. {@code prevIndex} is at or past the commit index, so the entries come after the
     * snapshot (the core answers a probe below its commit index itself).
     */
    long maybeAppend(long prevIndex, long prevTerm, List<Entry> incoming) {
        if (!matchTerm(prevIndex, prevTerm)) return -1;
        long lastNew = prevIndex + incoming.size();
        for (int i = 0; i < incoming.size(); i++) {
            Entry e = incoming.get(i);
            if (matchTerm(e.index(), e.term())) continue;
            if (e.index() <= committed) {
                throw new IllegalStateException("entry " + e + " conflicts with committed entry "
                        + entry(e.index()) + " (commit index " + committed + ")");
            }
            truncateFrom(e.index());
            for (int j = i; j < incoming.size(); j++) addSlot(incoming.get(j));
            break;
        }
        return lastNew;
    }

    private void truncateFrom(long index) {
        if (index > lastIndex()) return; // an append at the end: nothing to drop (and no map views to make)
        if (relFrom < relTo && index < relTo) {
            throw new IllegalStateException("truncating from " + index + " would drop released entries, which are"
                    + " committed (released " + relFrom + ".." + (relTo - 1) + ")");
        }
        int keep = (int) (index - snapshotIndex - 1);
        bytes -= bytesOf(index, lastIndex());
        entries.subList(keep, entries.size()).clear();
        while (runs > 0 && runStart[runs - 1] >= index) runs--;
        lastSlice = null;
        if (!configs.isEmpty() && configs.lastKey() >= index) configs.tailMap(index, true).clear();
        stable = Math.min(stable, index - 1);
        unstableFrom = Math.min(unstableFrom, index);
    }

    void commitTo(long index) {
        if (index > committed) {
            if (index > lastIndex()) {
                throw new IllegalStateException("commit index " + index + " beyond last index " + lastIndex());
            }
            committed = index;
        }
    }

    /**
     * Entries from {@code from}, at most {@code maxCount} of them and about {@code maxBytes} (always at
     * least one if any exist).
     */
    List<Entry> slice(long from, int maxCount, int maxBytes) {
        long last = lastIndex();
        if (from > last) return List.of();
        if (from >= relFrom && from < relTo) return readReleased(from, Math.min(relTo, from + maxCount), maxBytes);
        int lo = (int) (from - snapshotIndex - 1);
        // Entries kept before a released run end where it begins.
        long upTo = from < relFrom && relFrom < relTo ? relFrom - 1 : last;
        int hi = (int) Math.min(upTo - snapshotIndex, (long) lo + maxCount);
        int bytes = 0;
        int end = lo;
        while (end < hi) {
            bytes += entries.get(end).size();
            if (end > lo && bytes > maxBytes) break;
            end++;
        }
        // The leader sends the same run to every follower that is caught up: copy it once.
        if (lastSlice != null && lastSliceFrom == from && lastSlice.size() == end - lo) return lastSlice;
        List<Entry> out = EntrySlice.copyOf(entries, lo, end); // immutable: an AppendRequest takes it without another copy
        lastSlice = out;
        lastSliceFrom = from;
        return out;
    }

    /** Released entries {@code from} to {@code to - 1} (as many as fit in {@code maxBytes}), read back from the source. */
    private List<Entry> readReleased(long from, long to, long maxBytes) {
        List<Entry> read = source.read(from, to, maxBytes);
        int n = read.size();
        if (n == 0 || n > to - from || read.get(0).index() != from || read.get(n - 1).index() != from + n - 1) {
            throw new IllegalStateException("the log source gave " + n + " entries "
                    + (n == 0 ? "" : read.get(0).index() + ".." + read.get(n - 1).index() + " ")
                    + "when asked for " + from + ".." + (to - 1));
        }
        for (Entry e : read) {
            if (e.term() != runTermOf(e.index())) {
                throw new IllegalStateException("the log source gave " + e + " where this log released an entry of term "
                        + runTermOf(e.index()));
            }
        }
        return List.copyOf(read);
    }

    /** Lets this log {@linkplain #release release} entries, which it then reads back from {@code source}. */
    void readFrom(LogSource source) {
        this.source = source;
    }

    /** Whether this log has a source, and so may release entries. */
    boolean hasSource() {
        return source != null;
    }

    /**
     * Releases from memory the entries up to {@code index}, keeping their terms: entries durable, applied and
     * after {@code storeSnapshot} (the store's newest snapshot, which dropped what precedes it), which extend the
     * released run (or start one). This log must have a {@link LogSource} to read them back from.
     *
     * @throws IllegalStateException if there is no source, or some entry up to {@code index} may not be released
     */
    void release(long index, long storeSnapshot) {
        if (source == null) throw new IllegalStateException("a log without a source cannot release entries");
        long from = relFrom < relTo ? relTo : Math.max(snapshotIndex, storeSnapshot) + 1;
        if (index < from) return;
        if (index > applied || index > stable || from <= storeSnapshot) {
            throw new IllegalStateException("cannot release the log up to index " + index + ": only entries applied"
                    + " (up to " + applied + "), persisted (up to " + stable + ") and after the store's snapshot ("
                    + storeSnapshot + ") can leave memory");
        }
        bytes -= bytesOf(from, index);
        // Only the slots are written: the entries themselves, long out of the CPU's caches, are not read.
        for (int at = (int) (from - snapshotIndex - 1), end = (int) (index - snapshotIndex - 1); at <= end; at++) {
            entries.set(at, null);
        }
        if (relFrom == relTo) relFrom = from;
        relTo = index + 1;
        lastSlice = null;
    }

    /**
     * Releases the oldest entries that may go until the entries in memory take at most {@code targetBytes}, or none
     * that may go is left; see {@link #release}.
     */
    void releaseDownTo(long targetBytes, long storeSnapshot) {
        long from = relFrom < relTo ? relTo : Math.max(snapshotIndex, storeSnapshot) + 1;
        if (from <= storeSnapshot) return; // a run from before the store's snapshot: compaction must take it first
        long limit = Math.min(applied, stable);
        long excess = bytes - targetBytes;
        if (excess <= 0 || limit < from) return;
        // The first index whose release brings the bytes within the target, by bisection on the byte sums.
        long lo = from;
        long hi = limit;
        long need = cumAt(from - 1) + excess;
        if (cumAt(hi) <= need) {
            lo = hi;
        } else {
            while (lo < hi) {
                long mid = (lo + hi) >>> 1;
                if (cumAt(mid) >= need) hi = mid;
                else lo = mid + 1;
            }
        }
        release(lo, storeSnapshot);
    }

    private void addRun(long start, long term) {
        if (runs == runStart.length) {
            runStart = Arrays.copyOf(runStart, runs * 2);
            runTerm = Arrays.copyOf(runTerm, runs * 2);
        }
        runStart[runs] = start;
        runTerm[runs] = term;
        runs++;
    }

    /**
     * The largest index at or below {@code index} whose term is at most {@code term}: where a leader
     * should probe next after a rejection, skipping a whole term's entries at once.
     */
    long findConflictByTerm(long index, long term) {
        long i = Math.min(index, lastIndex());
        while (i > snapshotIndex) {
            long t = term(i);
            if (t <= term) return i;
            i--;
        }
        return snapshotIndex;
    }

    /**
     * Drops the entries up to {@code index}, which a snapshot of the application now covers; the log then
     * starts after it, remembering its term. Only entries both applied and persisted may go.
     *
     * @throws IllegalArgumentException if {@code index} is beyond what is applied or persisted
     */
    void compact(long index) {
        compact(index, index);
    }

    /**
     * {@link #compact(long)}, the store's newest snapshot being at {@code storeSnapshot}: released entries at or before
     * it are compacted too (kept or not), since the store dropped them and they could not be read back.
     */
    void compact(long index, long storeSnapshot) {
        if (relFrom < relTo && relFrom <= storeSnapshot) index = Math.max(index, Math.min(relTo - 1, storeSnapshot));
        if (index <= snapshotIndex) return;
        if (index > applied || index > stable) {
            throw new IllegalArgumentException("cannot compact the log up to index " + index + ": only entries both"
                    + " applied (up to " + applied + ") and persisted (up to " + stable + ") can be dropped");
        }
        long t = term(index);
        baseConfig = configurationAt(index);
        configs.headMap(index, true).clear();
        int dropped = (int) (index - snapshotIndex);
        bytes -= memoryBytesOf(snapshotIndex + 1, index);
        long base = cumAt(index);
        entries.subList(0, dropped).clear();
        System.arraycopy(cum, dropped, cum, 0, entries.size());
        cumBase = base;
        snapshotIndex = index;
        snapshotTerm = t;
        if (relTo <= index + 1) relFrom = relTo = index + 1;
        else if (relFrom <= index) relFrom = index + 1;
        // The runs wholly at or before the new snapshot go; the one that goes on past it stays.
        int k = 0;
        while (k < runs && (k + 1 < runs ? runStart[k + 1] <= index + 1 : index >= lastIndex())) k++;
        if (k > 0) {
            System.arraycopy(runStart, k, runStart, 0, runs - k);
            System.arraycopy(runTerm, k, runTerm, 0, runs - k);
            runs -= k;
        }
    }

    /**
     * Replaces the whole log with {@code snapshot}, which is committed (a leader sent it) and which this log
     * does not hold: every entry goes, and the log starts after it.
     */
    void restore(SnapshotMeta snapshot) {
        if (snapshot.index() <= committed) {
            throw new IllegalStateException("restoring " + snapshot + " would move the commit index " + committed + " back");
        }
        entries.clear();
        bytes = 0;
        cumBase = 0;
        lastSlice = null;
        configs.clear();
        runs = 0;
        relFrom = relTo = snapshot.index() + 1;
        snapshotIndex = snapshot.index();
        snapshotTerm = snapshot.term();
        baseConfig = snapshot.configuration();
        committed = applied = stable = snapshotIndex;
        unstableFrom = snapshotIndex + 1;
    }

    boolean hasUnstable() { return unstableFrom <= lastIndex(); }

    /** Adds to {@code into} the entries not yet given for persisting. */
    void takeUnstable(OutList<Entry> into) {
        long last = lastIndex();
        if (unstableFrom > last) return;
        for (int i = (int) (unstableFrom - snapshotIndex - 1), n = entries.size(); i < n; i++) into.append(entries.get(i));
        unstableFrom = last + 1;
    }

    /** Records that entries up to (index, term) are durable, unless the log has changed there since. */
    void stableTo(long index, long term) {
        if (index > stable && index < unstableFrom && matchTerm(index, term)) stable = index;
    }

    boolean hasCommittedToApply() { return committed > applied; }

    /** Adds to {@code into} the committed entries not yet given for applying. */
    void takeCommitted(OutList<Entry> into) {
        if (committed <= applied) return;
        for (int i = (int) (applied - snapshotIndex), hi = (int) (committed - snapshotIndex); i < hi; i++) into.append(entries.get(i));
        applied = committed;
    }
}

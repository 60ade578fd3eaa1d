package io.raftkv.sim;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Ready;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's simulated disk: what is durable (hard state, newest snapshot, the log after it), and a FIFO
 * of writes issued but not yet forced. A crash loses every write not yet forced, as a real disk without
 * its sync, and may tear the oldest one. FileStorage's recovery drops a torn write whole; this disk is
 * harsher, like a store that is not write-atomic: it keeps the torn write's hard state and a prefix of
 * its entries. The core's restart rule holds for it because the commit index a write carries covers only
 * entries forced before that write. A snapshot is written whole or not at all (written aside and renamed
 * into place).
 */
final class SimDisk {
    /**
     * One write: a ready's hard state and entries, with the snapshot it says to install (received from a
     * leader, installed before the rest); or, with no ready, a snapshot the node took of its own state.
     */
    record Write(Ready ready, SimSnapshot snapshot) {}

    private HardState hardState = HardState.INITIAL;
    private SimSnapshot snapshot;
    private final ArrayList<Entry> log = new ArrayList<>();
    private final ArrayDeque<Write> unforced = new ArrayDeque<>();

    HardState hardState() { return hardState; }

    /** The newest durable snapshot, or null. */
    SimSnapshot snapshot() { return snapshot; }

    /** The durable log, which follows the snapshot. */
    List<Entry> log() { return List.copyOf(log); }

    boolean idle() { return unforced.isEmpty(); }

    /**
     * The durable entries {@code from} to {@code to - 1}, as many as fit in {@code maxBytes} (at least one): what a
     * store that reads its log by index gives a core that released them from its heap.
     */
    List<Entry> read(long from, long to, long maxBytes) {
        long first = log.isEmpty() ? -1 : log.get(0).index();
        if (log.isEmpty() || from < first || to - 1 > log.get(log.size() - 1).index() || from >= to) {
            throw new IllegalArgumentException("the disk holds no entries " + from + ".." + (to - 1)
                    + (log.isEmpty() ? "" : " (it holds " + first + ".." + log.get(log.size() - 1).index() + ")"));
        }
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i < to; i++) {
            Entry e = log.get((int) (i - first));
            bytes += e.size();
            if (!out.isEmpty() && bytes > maxBytes) break;
            out.add(e);
        }
        return out;
    }

    /** Whether entry {@code index} of {@code term} is durable here: forced to the log, or covered by the durable snapshot. */
    boolean holds(long index, long term) {
        if (snapshot != null && index <= snapshot.meta().index()) {
            return index < snapshot.meta().index() || snapshot.meta().term() == term;
        }
        for (int i = log.size() - 1; i >= 0; i--) {
            Entry e = log.get(i);
            if (e.index() == index) return e.term() == term;
            if (e.index() < index) return false;
        }
        return false;
    }

    void write(Ready ready, SimSnapshot install) { unforced.add(new Write(ready, install)); }

    void writeSnapshot(SimSnapshot taken) { unforced.add(new Write(null, taken)); }

    /** Forces the oldest write and returns it, so that the node can finish handling its ready. */
    Write forceOldest() {
        Write w = unforced.poll();
        store(w, Integer.MAX_VALUE);
        return w;
    }

    private void store(Write w, int keptEntries) {
        if (w.snapshot() != null) storeSnapshot(w.snapshot(), w.ready() != null);
        if (w.ready() == null) return;
        if (w.ready().hardState() != null) hardState = w.ready().hardState();
        List<Entry> entries = w.ready().entries();
        entries = entries.subList(0, Math.min(keptEntries, entries.size()));
        if (!entries.isEmpty()) {
            long first = entries.get(0).index();
            long snapIndex = snapshot == null ? 0 : snapshot.meta().index();
            if (first <= snapIndex) {
                throw new IllegalStateException("write of entries from " + first + " into the snapshot at " + snapIndex);
            }
            while (!log.isEmpty() && log.get(log.size() - 1).index() >= first) log.remove(log.size() - 1);
            long end = log.isEmpty() ? snapIndex : log.get(log.size() - 1).index();
            if (end != first - 1) {
                throw new IllegalStateException("write leaves a gap: log ends at " + end + ", write starts at " + first);
            }
            log.addAll(entries);
        }
    }

    /** A received snapshot replaces the whole log; one the node took drops only the entries it covers. */
    private void storeSnapshot(SimSnapshot s, boolean received) {
        if (snapshot != null && !received && s.meta().index() <= snapshot.meta().index()) return;
        snapshot = s;
        if (received) log.clear();
        else log.removeIf(e -> e.index() <= s.meta().index());
    }

    /** Crashes with the oldest unforced write torn after {@code keptEntries} of its entries (0 or 1 for a snapshot alone). */
    void crashTearing(int keptEntries) {
        Write w = unforced.peek();
        if (w != null) {
            if (w.ready() != null) store(w, keptEntries);
            else if (keptEntries > 0) store(w, 0);
        }
        crash();
    }

    /** How many entries the oldest unforced write holds (a snapshot alone counts as one). */
    int oldestUnforcedEntries() {
        Write w = unforced.peek();
        if (w == null) return 0;
        return w.ready() == null ? 1 : w.ready().entries().size();
    }

    void crash() {
        unforced.clear();
    }
}

package io.raftkv.sim;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Ready;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's simulated disk: what is durable, and a FIFO of writes issued but not yet forced. A crash
 * loses every write not yet forced, as a real disk without its sync, and may tear the oldest one.
 * FileStorage's recovery drops a torn write whole; this disk is harsher, like a store that is not
 * write-atomic: it keeps the torn write's hard state and a prefix of its entries.
 */
final class SimDisk {
    private HardState hardState = HardState.INITIAL;
    private final ArrayList<Entry> log = new ArrayList<>();
    private final ArrayDeque<Ready> unforced = new ArrayDeque<>();

    HardState hardState() { return hardState; }

    List<Entry> log() { return List.copyOf(log); }

    boolean idle() { return unforced.isEmpty(); }

    void write(Ready ready) { unforced.add(ready); }

    /** Forces the oldest write and returns its ready, so that the node can finish handling it. */
    Ready forceOldest() {
        Ready r = unforced.poll();
        store(r.hardState(), r.entries());
        return r;
    }

    private void store(HardState hs, List<Entry> entries) {
        if (hs != null) hardState = hs;
        if (!entries.isEmpty()) {
            long first = entries.get(0).index();
            while (!log.isEmpty() && log.get(log.size() - 1).index() >= first) log.remove(log.size() - 1);
            if (!log.isEmpty() && log.get(log.size() - 1).index() != first - 1) {
                throw new IllegalStateException("write leaves a gap: log ends at " + log.get(log.size() - 1).index()
                        + ", write starts at " + first);
            }
            log.addAll(entries);
        }
    }

    /** Crashes with the oldest unforced write torn after its hard state and {@code keptEntries} of its entries. */
    void crashTearing(int keptEntries) {
        Ready r = unforced.peek();
        if (r != null) store(r.hardState(), r.entries().subList(0, Math.min(keptEntries, r.entries().size())));
        crash();
    }

    int oldestUnforcedEntries() {
        Ready r = unforced.peek();
        return r == null ? 0 : r.entries().size();
    }

    void crash() {
        unforced.clear();
    }
}

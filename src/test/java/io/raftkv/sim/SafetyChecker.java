package io.raftkv.sim;

import io.raftkv.raft.Entry;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.RaftLog;
import io.raftkv.raft.Role;

import java.util.HashMap;
import java.util.Map;

/**
 * Checks the safety properties of Raft (Figure 3 of the paper) over a whole simulated run, as
 * entries appear, commit and apply: election safety, log matching, leader completeness, state
 * machine safety, and that no node's commit index goes back.
 */
final class SafetyChecker {
    private record IndexTerm(long index, long term) {}

    private record LogRecord(Entry entry, long prevTerm, int node) {}

    private record Committed(Entry entry, long commitTerm) {}

    private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
    private final Map<IndexTerm, LogRecord> entriesSeen = new HashMap<>();
    private final Map<Long, Entry> applied = new HashMap<>();
    private final Map<Long, Committed> committed = new HashMap<>();
    private final Map<Integer, Long> lastCommit = new HashMap<>();
    private final Map<Integer, Long> leaderTermChecked = new HashMap<>();

    /** Log matching: an (index, term) names one entry, which always follows the same term. */
    void onEntriesAppended(int node, Iterable<Entry> entries, RaftLog log) {
        for (Entry e : entries) {
            long prevTerm = log.term(e.index() - 1);
            LogRecord mine = new LogRecord(e, prevTerm, node);
            LogRecord seen = entriesSeen.putIfAbsent(new IndexTerm(e.index(), e.term()), mine);
            if (seen != null && (!seen.entry.equals(e) || seen.prevTerm != prevTerm)) {
                throw new SafetyViolation("log matching", "node " + node + " has " + e + " after term " + prevTerm
                        + " but node " + seen.node + " had " + seen.entry + " after term " + seen.prevTerm);
            }
        }
    }

    /** State machine safety: no two nodes apply different entries at one index. */
    void onApplied(int node, Entry e) {
        Entry first = applied.putIfAbsent(e.index(), e);
        if (first != null && !first.equals(e)) {
            throw new SafetyViolation("state machine safety", "node " + node + " applied " + e + " at index "
                    + e.index() + " where another node applied " + first);
        }
    }

    /** Called after every event that touched {@code core}. */
    void afterStep(RaftCore core) {
        int id = core.id();
        long commit = core.commitIndex();
        long before = lastCommit.getOrDefault(id, 0L);
        if (commit < before) {
            throw new SafetyViolation("commit index monotonic", "node " + id + " commit went from " + before + " to " + commit);
        }
        // Record what became committed and the term in which this node saw it so; the least such
        // term is at least the term in which the entry was really committed.
        for (long i = before + 1; i <= commit; i++) {
            Entry e = core.log().entry(i);
            Committed c = committed.get(i);
            if (c == null || core.term() < c.commitTerm) committed.put(i, new Committed(e, core.term()));
            if (c != null && !c.entry.equals(e)) {
                throw new SafetyViolation("state machine safety", "node " + id + " committed " + e + " at index " + i
                        + " where " + c.entry + " was committed before");
            }
        }
        lastCommit.put(id, commit);

        if (core.role() == Role.LEADER) {
            Integer other = leaderOfTerm.putIfAbsent(core.term(), id);
            if (other != null && other != id) {
                throw new SafetyViolation("election safety", "nodes " + other + " and " + id + " both lead term " + core.term());
            }
            Long checked = leaderTermChecked.get(id);
            if (checked == null || checked != core.term()) {
                leaderTermChecked.put(id, core.term());
                checkLeaderCompleteness(core);
            }
        }
    }

    /** Leader completeness: a new leader's log holds every entry committed in an earlier term. */
    private void checkLeaderCompleteness(RaftCore leader) {
        RaftLog log = leader.log();
        for (Map.Entry<Long, Committed> e : committed.entrySet()) {
            Committed c = e.getValue();
            if (c.commitTerm >= leader.term()) continue;
            long index = e.getKey();
            if (index > log.lastIndex() || !log.entry(index).equals(c.entry)) {
                throw new SafetyViolation("leader completeness", "node " + leader.id() + " leads term " + leader.term()
                        + " without " + c.entry + ", committed by term " + c.commitTerm
                        + (index > log.lastIndex() ? " (its log ends at " + log.lastIndex() + ")" : " (it has " + log.entry(index) + ")"));
            }
        }
    }

    /** A restarted node starts again from what survived of its commit index (volatile state in Raft). */
    void onRestart(int node, long persistedCommit) {
        lastCommit.put(node, persistedCommit);
    }

    int leadersElected() {
        return leaderOfTerm.size();
    }

    long highestCommitted() {
        return committed.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    static boolean isSoleLeader(RaftCore c, Iterable<RaftCore> all) {
        if (c.role() != Role.LEADER) return false;
        for (RaftCore o : all) {
            if (o != null && o.term() > c.term()) return false;
        }
        return c.leader() == c.id() && c.leader() != RaftCore.NONE;
    }
}

package io.raftkv.sim;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.RaftLog;
import io.raftkv.raft.Role;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the safety properties of Raft (Figure 3 of the paper) over a whole simulated run, as
 * entries appear, commit and apply: election safety (one leader per term, whatever the configurations),
 * log matching, leader completeness, state machine safety (snapshots included: a snapshot holds the state
 * that applying the committed log up to its index gives), that no node's commit index goes back, that a
 * committed configuration is never lost, that only voters campaign or win, and that a node's
 * configuration is the last one in its log.
 */
final class SafetyChecker {
    private record IndexTerm(long index, long term) {}

    private record LogRecord(Entry entry, long prevTerm, int node) {}

    private record Committed(Entry entry, long commitTerm) {}

    private record SnapshotClaim(int node, long index, long fingerprint, SimSnapshot snapshot) {}

    private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
    private final Map<IndexTerm, LogRecord> entriesSeen = new HashMap<>();
    private final Map<Long, Entry> applied = new HashMap<>();
    private final Map<Long, Committed> committed = new HashMap<>();
    private final Map<Integer, Long> lastCommit = new HashMap<>();
    private final Map<Integer, Long> leaderTermChecked = new HashMap<>();

    // The committed state machine, replayed from the entries applied anywhere, in index order.
    private final SimStateMachine reference = new SimStateMachine();
    private Configuration referenceConfig;
    private long referenceIndex;
    /** The fingerprint of the committed state, configuration included, at every index the reference has reached. */
    private final Map<Long, Long> fingerprints = new HashMap<>();
    private final List<SnapshotClaim> pendingClaims = new ArrayList<>();

    /** The committed configuration entry with the highest index, or null while the first configuration holds. */
    private Entry lastCommittedConfig;
    private Configuration decodedCommittedConfig;
    private long decodedCommittedConfigIndex;
    private final Configuration initial;
    private int snapshotsChecked;

    SafetyChecker(Configuration initial) {
        this.initial = initial;
        this.referenceConfig = initial;
        fingerprints.put(0L, fingerprint(reference, initial));
    }

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
        if (first == null) advanceReference();
    }

    /**
     * State machine safety with snapshots: a snapshot a node took, received or restarted from holds the state,
     * and the configuration, that applying the entries applied anywhere up to its index gives.
     */
    void onSnapshot(int node, SimSnapshot s) {
        snapshotsChecked++;
        SnapshotClaim claim = new SnapshotClaim(node, s.meta().index(), fingerprint(s.state(), s.meta().configuration()), s);
        if (claim.index <= referenceIndex) check(claim); else pendingClaims.add(claim);
    }

    private void advanceReference() {
        Entry e;
        while ((e = applied.get(referenceIndex + 1)) != null) {
            switch (e.kind()) {
                case COMMAND -> reference.apply(SimCommand.decode(e.data()));
                case CONFIG -> referenceConfig = Configuration.decode(e.data());
                case NOOP -> { }
            }
            referenceIndex++;
            fingerprints.put(referenceIndex, fingerprint(reference, referenceConfig));
        }
        if (!pendingClaims.isEmpty()) {
            pendingClaims.removeIf(c -> {
                if (c.index > referenceIndex) return false;
                check(c);
                return true;
            });
        }
    }

    private void check(SnapshotClaim c) {
        if (fingerprints.get(c.index) == c.fingerprint) return;
        // Replay the committed log up to the snapshot, to say what differs.
        SimStateMachine want = new SimStateMachine();
        Configuration config = initial;
        for (long i = 1; i <= c.index; i++) {
            Entry e = applied.get(i);
            if (e.kind() == Entry.Kind.COMMAND) want.apply(SimCommand.decode(e.data()));
            else if (e.kind() == Entry.Kind.CONFIG) config = Configuration.decode(e.data());
        }
        throw new SafetyViolation("state machine safety", "node " + c.node + " holds a snapshot at index " + c.index
                + " of " + c.snapshot.state() + " with " + c.snapshot.meta().configuration()
                + " but applying the committed log up to there gives " + want + " with " + config);
    }

    private static long fingerprint(SimStateMachine state, Configuration config) {
        return state.fingerprint() * 31 + config.hashCode();
    }

    /**
     * Called after every event that touched {@code core}; {@code expectedConfig} is the last configuration in its
     * log (or its snapshot's), or null if neither it nor the core's has changed since the last call.
     */
    void afterStep(RaftCore core, Configuration expectedConfig) {
        int id = core.id();
        long commit = core.commitIndex();
        long before = lastCommit.getOrDefault(id, 0L);
        if (commit < before) {
            throw new SafetyViolation("commit index monotonic", "node " + id + " commit went from " + before + " to " + commit);
        }
        // Record what became committed and the term in which this node saw it so; the least such
        // term is at least the term in which the entry was really committed. What a snapshot brought
        // in is checked by onSnapshot instead.
        RaftLog log = core.log();
        for (long i = Math.max(before + 1, log.firstIndex()); i <= commit; i++) {
            Entry e = log.entry(i);
            Committed c = committed.get(i);
            if (c == null || core.term() < c.commitTerm) committed.put(i, new Committed(e, core.term()));
            if (c != null && !c.entry.equals(e)) {
                throw new SafetyViolation("state machine safety", "node " + id + " committed " + e + " at index " + i
                        + " where " + c.entry + " was committed before");
            }
            if (e.kind() == Entry.Kind.CONFIG && (lastCommittedConfig == null || i > lastCommittedConfig.index())) {
                lastCommittedConfig = e;
            }
        }
        lastCommit.put(id, commit);

        if (expectedConfig != null && !core.configuration().equals(expectedConfig)) {
            throw new SafetyViolation("configuration", "node " + id + " has configuration " + core.configuration()
                    + " in force, but the last one in its log (or its snapshot) is " + expectedConfig);
        }
        Role role = core.role();
        if ((role == Role.CANDIDATE || role == Role.PRE_CANDIDATE) && !core.configuration().isVoter(id)) {
            throw new SafetyViolation("only voters campaign", "node " + id + " is " + role + " in term " + core.term()
                    + " but not a voter of " + core.configuration());
        }
        if (role == Role.LEADER) {
            Integer other = leaderOfTerm.putIfAbsent(core.term(), id);
            if (other != null && other != id) {
                throw new SafetyViolation("election safety", "nodes " + other + " and " + id + " both lead term " + core.term());
            }
            Long checked = leaderTermChecked.get(id);
            if (checked == null || checked != core.term()) {
                leaderTermChecked.put(id, core.term());
                // A leader is seen as soon as it is elected, before it can propose anything.
                if (!core.configuration().isVoter(id)) {
                    throw new SafetyViolation("only voters campaign", "node " + id + " won term " + core.term()
                            + " but is not a voter of " + core.configuration());
                }
                checkLeaderCompleteness(core);
            } else if (!core.configuration().isVoter(id) && log.term(log.lastConfigIndex()) != core.term()) {
                // A leader may go on leading while its own removal commits (thesis §4.2.2), nothing else.
                throw new SafetyViolation("only voters campaign", "node " + id + " leads term " + core.term()
                        + " but is not a voter of " + core.configuration() + ", which it did not propose");
            }
        }
    }

    /**
     * Leader completeness: a new leader's log holds every entry committed in an earlier term (up to its
     * snapshot, the entry its snapshot ends with); in particular the last committed configuration.
     */
    private void checkLeaderCompleteness(RaftCore leader) {
        RaftLog log = leader.log();
        long snapIndex = log.firstIndex() - 1;
        for (Map.Entry<Long, Committed> e : committed.entrySet()) {
            Committed c = e.getValue();
            if (c.commitTerm >= leader.term()) continue;
            long index = e.getKey();
            boolean held = index < snapIndex ? true
                    : index == snapIndex ? log.term(index) == c.entry.term()
                    : index <= log.lastIndex() && log.entry(index).equals(c.entry);
            if (!held) {
                throw new SafetyViolation("leader completeness", "node " + leader.id() + " leads term " + leader.term()
                        + " without " + c.entry + ", committed by term " + c.commitTerm
                        + (index > log.lastIndex() ? " (its log ends at " + log.lastIndex() + ")"
                        : index == snapIndex ? " (its snapshot ends at term " + log.term(index) + ")"
                        : " (it has " + log.entry(index) + ")"));
            }
        }
        Entry cfg = lastCommittedConfig;
        if (cfg != null && committed.get(cfg.index()).commitTerm < leader.term() && cfg.index() >= snapIndex) {
            Configuration want = Configuration.decode(cfg.data());
            Configuration has = log.configurationAt(cfg.index());
            if (!has.equals(want)) {
                throw new SafetyViolation("committed configuration kept", "node " + leader.id() + " leads term "
                        + leader.term() + " with configuration " + has + " at index " + cfg.index() + " where " + want
                        + " was committed");
            }
        }
    }

    /** A restarted node starts again from what survived of its commit index (volatile state in Raft). */
    void onRestart(int node, long persistedCommit) {
        lastCommit.put(node, persistedCommit);
    }

    /** The configuration of the highest committed configuration entry seen, else the first one. */
    Configuration committedConfiguration() {
        if (lastCommittedConfig == null) return initial;
        if (decodedCommittedConfig == null || decodedCommittedConfigIndex != lastCommittedConfig.index()) {
            decodedCommittedConfig = Configuration.decode(lastCommittedConfig.data());
            decodedCommittedConfigIndex = lastCommittedConfig.index();
        }
        return decodedCommittedConfig;
    }

    int leadersElected() {
        return leaderOfTerm.size();
    }

    long highestCommitted() {
        return committed.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /** How many committed entries are configuration changes. */
    int configChangesCommitted() {
        return (int) committed.values().stream().filter(c -> c.entry.kind() == Entry.Kind.CONFIG).count();
    }

    int snapshotsChecked() {
        return snapshotsChecked;
    }

    static boolean isSoleLeader(RaftCore c, Iterable<RaftCore> all) {
        if (c.role() != Role.LEADER) return false;
        for (RaftCore o : all) {
            if (o != null && o.term() > c.term()) return false;
        }
        return c.leader() == c.id() && c.leader() != RaftCore.NONE;
    }
}

package io.raftkv.node;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.Storage;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The last resort after a cluster has lost a majority of its voters for good (etcd's
 * {@code --force-new-cluster}): rewrites a surviving node's store so that it is a cluster of that node alone,
 * which then elects itself and serves. Run it on the store before the node starts, once.
 *
 * <p>It keeps the whole log and snapshot, and appends one configuration entry naming this node as the only
 * voter, marked committed: everything the survivor holds becomes committed, and it applies it all when it
 * starts. What is lost is what it never received: writes the lost majority committed that had not reached
 * it (their clients were told they succeeded). Writes it held that the old cluster never committed (their
 * clients were told nothing, or that the outcome was unknown) now take effect. The other nodes must never run
 * again on their old data: they would still count the old majority among themselves. Wipe them and add them
 * back one at a time, as new members.
 *
 * <p>Why a rewrite of the store rather than an option of the Raft core: the core stays a pure state machine
 * with one way for a configuration to change (an entry in the log), and the override is a one-off operation
 * on data at rest, which any {@link Storage} takes through its ordinary {@link Storage#persist}. A node
 * started on the rewritten store is an ordinary node whose log says it is alone.
 */
public final class ForceNewCluster {
    private static final System.Logger LOG = System.getLogger(ForceNewCluster.class.getName());

    private ForceNewCluster() {}

    /**
     * What the rewrite found and did.
     *
     * @param node         the surviving node
     * @param before       the configuration its store was in, or null if unknown (no configuration entry,
     *                     no snapshot, and no first voters given)
     * @param lastIndex    the last index of its log before the rewrite
     * @param commitBefore the commit index its store recorded: entries after it up to {@code lastIndex} may
     *                     not have been committed by the old cluster, and are committed now
     * @param index        the index of the configuration entry appended, or 0 if the store already was in a
     *                     configuration of this node alone, and was left as it was
     */
    public record Outcome(int node, Configuration before, long lastIndex, long commitBefore, long index) {
        /** Whether the store was rewritten (false: it already was a cluster of this node alone). */
        public boolean rewritten() {
            return index > 0;
        }

        private String uncommitted() {
            String which = " (which the old cluster may not have committed) ";
            return lastIndex == commitBefore + 1 ? "entry " + lastIndex + which + "is committed now"
                    : "entries " + (commitBefore + 1) + " to " + lastIndex + which + "are committed now";
        }

        /** What happened, in a sentence or three, for the operator's log. */
        public String describe() {
            String was = before == null ? "an unknown configuration" : "voters " + before.voters()
                    + (before.learners().isEmpty() ? "" : " and learners " + before.learners());
            if (!rewritten()) {
                return "node " + node + "'s store is already a cluster of node " + node + " alone (" + was
                        + "); nothing was changed";
            }
            return "node " + node + " is now a cluster of itself alone, forced from its own data: its configuration"
                    + " was " + was + ", and entry " + index + " makes it voters [" + node + "]. It keeps its whole"
                    + " log, to index " + lastIndex + (lastIndex > commitBefore ? "; " + uncommitted() : "")
                    + ". Whatever the lost nodes committed beyond index " + lastIndex + " is lost. Never start the"
                    + " other nodes on their old data: wipe them and add them back as new members.";
        }
    }

    /**
     * Rewrites {@code storage}, node {@code node}'s store, into a cluster of {@code node} alone, and logs what
     * it did as a warning. Does nothing (but say so) if its configuration already has {@code node} as its only
     * voter: running it twice is harmless.
     *
     * @param firstVoters the voters the cluster started with (the configuration before any configuration
     *                    entry), to report what the configuration was; empty if unknown
     * @throws IllegalStateException if the store holds no log and no snapshot: there is nothing to keep, and a
     *                               node with no data must join a cluster, not found one from nothing
     */
    public static Outcome rewrite(Storage storage, int node, Set<Integer> firstVoters) {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(firstVoters, "firstVoters");
        if (node < 1) throw new IllegalArgumentException("node ids start at 1, not " + node);
        HardState hs = storage.hardState();
        List<Entry> entries = storage.entries();
        Optional<SnapshotMeta> snapshot = storage.snapshot();
        long lastIndex = entries.isEmpty() ? snapshot.map(SnapshotMeta::index).orElse(0L) : entries.getLast().index();
        long lastTerm = entries.isEmpty() ? snapshot.map(SnapshotMeta::term).orElse(0L) : entries.getLast().term();
        if (lastIndex == 0) {
            throw new IllegalStateException("node " + node + "'s store holds no log and no snapshot: there is nothing"
                    + " to force a new cluster from. Recover from a node that has the data; a node with none joins a"
                    + " cluster as a new member");
        }
        Configuration before = configurationOf(entries, snapshot, firstVoters);
        if (before != null && before.voters().equals(Set.of(node))) {
            Outcome same = new Outcome(node, before, lastIndex, hs.commit(), 0);
            LOG.log(Level.WARNING, same::describe);
            return same;
        }
        // Its address, if the configuration kept one, stays with it: nodes joining later learn it from the log.
        String context = before == null ? null : before.context(node);
        Configuration survivor = (context == null ? Configuration.ofVoters(Set.of(node))
                : Configuration.ofVoters(java.util.Map.of(node, context)))
                .withFeatureLevel(before == null ? 1 : before.featureLevel()); // the cluster's level never goes down
        Entry alone = new Entry(lastIndex + 1, Math.max(hs.term(), lastTerm), Entry.Kind.CONFIG, survivor.encode());
        // The entry first, then the commit index that covers it: a store that kept a commit index beyond its
        // log (a torn write, on storage that is not write-atomic) must not be left by this either.
        storage.persist(null, List.of(alone));
        storage.persist(new HardState(alone.term(), hs.votedFor(), alone.index()), List.of());
        Outcome done = new Outcome(node, before, lastIndex, hs.commit(), alone.index());
        LOG.log(Level.WARNING, done::describe);
        return done;
    }

    /** The configuration in force at the end of a log: its last configuration entry, else the snapshot's, else the first voters'. */
    private static Configuration configurationOf(List<Entry> entries, Optional<SnapshotMeta> snapshot, Set<Integer> firstVoters) {
        for (int i = entries.size() - 1; i >= 0; i--) {
            Entry e = entries.get(i);
            if (e.kind() == Entry.Kind.CONFIG) return Configuration.decode(e.data());
        }
        if (snapshot.isPresent()) return snapshot.get().configuration();
        return firstVoters.isEmpty() ? null : Configuration.ofVoters(firstVoters);
    }
}

package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import io.raftkv.raft.Message.InstallSnapshot;
import io.raftkv.raft.Message.ReadIndexRequest;
import io.raftkv.raft.Message.ReadIndexResponse;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.Message.TimeoutNow;
import io.raftkv.raft.Message.VoteRequest;
import io.raftkv.raft.Message.VoteResponse;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntToLongFunction;

/**
 * The Raft state machine of one node: pure and deterministic. It owns no thread, clock, I/O or
 * randomness; it is driven by {@link #tick()}, {@link #step}, {@link #propose} and
 * {@link #readIndex}, and hands its output out as a {@link Ready}. Not thread-safe: one runtime
 * thread owns it.
 */
public final class RaftCore {
    /** "No node": no vote cast, no leader known. Node ids start at 1. */
    public static final int NONE = 0;
    /** What {@link #propose} returns when this node cannot take the proposal: it is not the leader, or hands leadership over. */
    public static final long REJECTED = 0;
    /**
     * What {@link #propose} returns when this node leads but holds more uncommitted entries than
     * {@link RaftConfig#maxUncommittedBytes()} allows: try the same node again later.
     */
    public static final long BUSY = -1;

    private final RaftConfig config;
    private final int id;
    private final RaftLog log;
    /** The configuration in force: the log's last one (thesis §4.1); refreshed after every change to the log. */
    private Configuration configuration;
    /** The newest snapshot the runtime holds, which a follower that needs a compacted entry is sent; or null. */
    private SnapshotMeta latestSnapshot;
    /** A snapshot received from the leader that the runtime must install, reported in the next ready. */
    private SnapshotMeta snapshotToInstall;

    private long term;
    private int votedFor;
    private int leader = NONE;
    private Role role = Role.FOLLOWER;

    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;

    private final Map<Integer, Progress> progress = new TreeMap<>();
    /** {@link #voterIds()}'s cache: the configuration it was made for, its voters, scratch for their match indexes. */
    private Configuration voterIdsOf;
    private int[] voterIds;
    private long[] matchScratch;
    /** The votes of the current (pre-)candidacy; emptied as one starts, and read by nothing else. */
    private final Map<Integer, Boolean> votes = new HashMap<>();
    private int transferTarget = NONE;
    /** Whether this leader has committed an entry of its own term, which it must before serving reads (thesis §6.4). */
    private boolean committedInTerm;
    private boolean replicationDue;
    /** Bytes of the entries this leader appended in its term and has not yet committed. */
    private long uncommittedBytes;

    // Reads: waiting for committedInTerm, then for a heartbeat round acknowledged by a majority (or the lease).
    private final ArrayDeque<PendingRead> readsAwaitingTermCommit = new ArrayDeque<>();
    private final ArrayDeque<PendingRead> readsAwaitingQuorum = new ArrayDeque<>();
    private final ArrayList<ReadState> readsConfirmed = new ArrayList<>();
    private final DoubleBuffer<Long> readsDropped = new DoubleBuffer<>();
    private final Map<Integer, Long> ackedReadRound = new HashMap<>();
    private long readRound;
    private boolean readRoundDue;
    /** A follower's reads that wait for the leader's {@link ReadIndexResponse}, oldest first. */
    private final ArrayDeque<ForwardedRead> readsForwarded = new ArrayDeque<>();

    // Leases (ReadPolicy.LEASE); see readIndex for the rule.
    /** Ticks since this core was made: the only clock it has, and what leases are measured in. */
    private long ticks;
    private final LeaderLease lease;
    private final IntToLongFunction ackedRoundOf = v -> ackedReadRound.getOrDefault(v, 0L);
    /**
     * LEASE: ticks a restarted voter still refuses to vote for another, as it would in the lease of a leader it
     * heard from before its crash (whose acknowledgement promised that, and which it no longer remembers).
     */
    private int quietTicks;

    // Output. What accumulates between two ready() calls is double-buffered (see DoubleBuffer); the rest is
    // filled afresh by ready() into buffers it empties first, so a steady pass allocates no lists and no Ready.
    private final DoubleBuffer<Message> messages = new DoubleBuffer<>();
    private final DoubleBuffer<Message> messagesAfterPersist = new DoubleBuffer<>();
    private final OutList<Entry> unstableOut = new OutList<>();
    private final OutList<Entry> committedOut = new OutList<>();
    private final OutList<ReadState> readStatesOut = new OutList<>();
    private final Ready ready = new Ready();
    private HardState reportedHardState;
    /**
     * The role and leader the last ready reported (etcd's soft state): a change of either alone is output, or a
     * leader stepped down by CheckQuorum, which changes no term or vote and sends nothing, would tell its runtime
     * only at its next campaign, an election timeout later, and hold its clients' writes until then.
     */
    private Role reportedRole = Role.FOLLOWER;
    private int reportedLeader = NONE;

    /**
     * A list that accumulates between two ready() calls. ready() hands out what is pending and takes new items
     * into the list it handed out last time (whose Ready has expired): what arrives while the runtime still
     * handles a ready goes into the next one, never into the one being handled.
     */
    private static final class DoubleBuffer<T> {
        private OutList<T> pending = new OutList<>();
        private OutList<T> out = new OutList<>();

        OutList<T> pending() {
            return pending;
        }

        List<T> handOut() {
            OutList<T> handed = pending;
            pending = out;
            out = handed;
            pending.reset();
            return handed;
        }
    }

    /** A read a leader confirms: its own ({@code from} is this node) or a follower's, which it answers by message. */
    private record PendingRead(int from, long context, long index, long round) {}

    /** A follower's read, asked of the leader at tick {@code askedAt}. */
    private record ForwardedRead(long context, long askedAt) {}

    /** Starts a node from what it persisted; pass {@link HardState#INITIAL} and no entries for a new node. */
    public RaftCore(RaftConfig config, HardState persisted, List<Entry> persistedLog) {
        this(config, persisted, null, persistedLog);
    }

    /**
     * Starts a node from what it persisted: its hard state, its newest snapshot (null if it has none) and
     * the log that follows the snapshot. The configuration is the last one in the log, else the snapshot's,
     * else the voters of {@code config} (how a cluster starts, before any membership change). Those must be
     * the cluster's first voters on every node, a node added later included: a snapshot taken at an index
     * before the log's first configuration entry reports them as the configuration there. A node joining
     * a running cluster is not among them: it waits, never campaigning, until the leader's log or snapshot
     * tells it its place.
     */
    public RaftCore(RaftConfig config, HardState persisted, SnapshotMeta snapshot, List<Entry> persistedLog) {
        this.config = Objects.requireNonNull(config, "config");
        Objects.requireNonNull(persisted, "persisted hard state");
        Objects.requireNonNull(persistedLog, "persisted log");
        this.id = config.id;
        this.log = snapshot == null
                ? new RaftLog(0, 0, Configuration.ofVoters(config.voters).withFeatureLevel(config.initialFeatureLevel), persistedLog, persisted.commit())
                : new RaftLog(snapshot.index(), snapshot.term(), snapshot.configuration(), persistedLog, persisted.commit());
        this.latestSnapshot = snapshot;
        this.configuration = log.configuration();
        if (log.lastTerm() > persisted.term()) {
            throw new IllegalArgumentException("persisted log holds term " + log.lastTerm()
                    + " but the persisted current term is only " + persisted.term());
        }
        this.term = persisted.term();
        this.votedFor = persisted.votedFor();
        this.reportedHardState = persisted;
        this.lease = new LeaderLease(config.electionTicks, config.clockDriftTicks);
        // Term 0: it never acknowledged a heartbeat, which under LEASE goes out only once its term is durable.
        if (config.readPolicy == ReadPolicy.LEASE && persisted.term() > 0) quietTicks = config.electionTicks;
        resetTimers();
    }

    // ---------------------------------------------------------------- inputs

    /** Advances logical time by one tick: elections and heartbeats are counted in ticks. */
    public void tick() {
        ticks++;
        if (quietTicks > 0) quietTicks--;
        if (!readsForwarded.isEmpty()) expireForwardedReads();
        if (role == Role.LEADER) {
            lease.tick(ticks, readRound);
            tickLeader();
        } else {
            tickElection();
        }
    }

    private void tickElection() {
        electionElapsed++;
        if (promotable() && electionElapsed >= randomizedElectionTimeout) {
            electionElapsed = 0;
            campaign(config.preVote, false);
        }
    }

    private void tickLeader() {
        heartbeatElapsed++;
        electionElapsed++;
        if (electionElapsed >= config.electionTicks) {
            electionElapsed = 0;
            if (config.checkQuorum && !quorumRecentlyActive()) {
                // CheckQuorum: a leader cut off from a majority steps down rather than serve stale reads.
                becomeFollower(term, NONE);
                return;
            }
            transferTarget = NONE; // a transfer that took a whole election timeout has failed
        }
        if (heartbeatElapsed >= config.heartbeatTicks) {
            heartbeatElapsed = 0;
            broadcastHeartbeat();
        }
    }

    /** Handles one message from another node. */
    public void step(Message m) {
        Objects.requireNonNull(m, "message");
        if (m.to() != id) {
            throw new IllegalArgumentException("message for node " + m.to() + " stepped into node " + id + ": " + m);
        }
        if (m.from() == id) {
            throw new IllegalArgumentException("node " + id + " was handed a message from itself: " + m);
        }
        if (m instanceof SnapshotChunk || m instanceof SnapshotChunkAck) {
            throw new IllegalArgumentException("snapshot chunks are the runtime's to stream, not the core's: " + m);
        }
        if (m.term() > term) {
            if (m instanceof VoteRequest vr && !vr.transfer() && inLease()) {
                // We heard from a live leader within the election timeout: a disrupting candidate is
                // ignored, and we do not take its term (thesis §4.2.3).
                return;
            }
            boolean preVoteTraffic = (m instanceof VoteRequest vr && vr.preVote())
                    || (m instanceof VoteResponse vresp && vresp.preVote() && vresp.granted());
            if (!preVoteTraffic && config.readPolicy == ReadPolicy.LEASE && leader != NONE && inLease() && !fromLeader(m)) {
                // A higher term that names no leader (a late answer, a refusal) must not release this voter
                // from its promise to the leader it heard from: that leader's lease counts on it (see readIndex).
                quietTicks = Math.max(quietTicks, config.electionTicks - electionElapsed);
            }
            // A leader's message names its sender as leader in the handler it goes on to below.
            if (!preVoteTraffic) becomeFollower(m.term(), NONE);
        } else if (m.term() < term) {
            if ((config.checkQuorum || config.preVote) && (m instanceof AppendRequest || m instanceof Heartbeat)) {
                // A stale leader would otherwise never learn it was replaced: tell it our term.
                send(new AppendResponse(id, m.from(), term, false, 0, 0, 0));
            } else if (m instanceof VoteRequest vr && vr.preVote()) {
                send(new VoteResponse(id, m.from(), term, false, true));
            } else if (m instanceof ReadIndexRequest r) {
                // A follower of a stale term asks: refuse, in our term, so that it learns it is behind.
                send(new ReadIndexResponse(id, m.from(), term, r.context(), 0));
            }
            return;
        }

        if (m instanceof VoteRequest vr) {
            handleVoteRequest(vr);
            return;
        }
        switch (role) {
            case LEADER -> stepLeader(m);
            case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
            case FOLLOWER -> stepFollower(m);
        }
    }

    /**
     * Appends a command to the log if this node leads. Returns the index it will have if it commits,
     * {@link #REJECTED} if this node is not the leader or is handing leadership over, or {@link #BUSY}
     * if it leads with {@link RaftConfig#maxUncommittedBytes()} of entries not yet committed. The array is
     * kept, not copied: do not change it afterwards.
     */
    public long propose(byte[] command) {
        Objects.requireNonNull(command, "command");
        if (role != Role.LEADER || transferTarget != NONE) return REJECTED;
        long index = log.lastIndex() + 1;
        Entry e = new Entry(index, term, Entry.Kind.COMMAND, command);
        if (uncommittedBytes > 0 && uncommittedBytes + e.size() > config.maxUncommittedBytes) return BUSY;
        log.append(e);
        if (config.defect == RaftConfig.Defect.COUNT_OWN_ENTRY_BEFORE_DURABLE) {
            progress.get(id).maybeUpdate(log.lastIndex());
            maybeCommit();
        }
        uncommittedBytes += e.size();
        replicationDue = true;
        return index;
    }

    /**
     * Asks for a linearizable read, named by {@code context}. Returns false if this node can take none: it is
     * a candidate, or a follower that knows no leader. Otherwise the read is released in a later
     * {@link Ready#readStates()} once this node has applied the index it may be served at, or reported in
     * {@link Ready#droppedReads()} if that cannot be had (the reader may try again).
     *
     * <p><b>On the leader</b> a read waits until the leader has committed an entry of its term (thesis §6.4:
     * before that it does not know the commit index), then takes the commit index, and is confirmed once the
     * leader knows no other leader can have committed past it:
     * <ul>
     *   <li>{@link ReadPolicy#READ_INDEX}: by a round of heartbeats sent after the read arrived, acknowledged by
     *       a majority of the configuration in force;</li>
     *   <li>{@link ReadPolicy#LEASE} (thesis §6.4.1): at once, if the leader holds its lease; else as ReadIndex.
     *       The lease starts at the tick the leader sent the newest heartbeat round that a majority of the voters
     *       in force (itself counted, if it is one) has acknowledged, and holds while the leader's tick count is
     *       below <i>start + electionTicks - clockDriftTicks</i>.</li>
     * </ul>
     * Why the lease is safe: with CheckQuorum a voter that heard from its leader refuses, for electionTicks of
     * its own ticks, to vote for another (or to campaign), and its acknowledgement came after the round was
     * sent. So another leader needs a vote from someone in that majority after that voter's wait, which runs
     * at least as long, in real time, as the lease: the lease leaves out the drift of the leader's clock
     * behind the voter's, and the tick either clock may be off by. Configurations change one server at a
     * time, so a majority of the one in force overlaps a majority of any other a rival could be elected by
     * (there is no joint configuration). What would break the promise is left out:
     * <ul>
     *   <li>only heartbeats say which round they answer, so appends renew no lease (heartbeats go every
     *       heartbeatTicks anyway), and rounds of an earlier term count for nothing;</li>
     *   <li>a leadership transfer lets its target campaign past the voters' wait: from the moment a leader
     *       starts one it serves no lease read for the rest of its term (its TimeoutNow may arrive late);</li>
     *   <li>a voter that crashed forgot its promise: restarted from a term above 0 it waits electionTicks
     *       before it votes for another or campaigns, and it acknowledges a heartbeat only once its term is
     *       durable (else it might restart at term 0, with nothing to remember);</li>
     *   <li>a voter in a leader's lease that meets a higher term in a message no leader sent (a late answer,
     *       a refusal) takes the term but keeps its promise: it votes for no one new until the rest of its
     *       election timeout has passed;</li>
     *   <li>reads that waited for the first commit of the term are confirmed by a heartbeat round: a runtime
     *       may reach that commit after a long write, with its clock behind;</li>
     *   <li>a leader that steps down drops its unconfirmed reads, as with ReadIndex.</li>
     * </ul>
     * A runtime must tick a lease-reading leader as often as its real clock says before it hands it a read (or
     * a follower's {@link ReadIndexRequest}): ticks it skipped would lengthen the lease in real time.
     *
     * <p><b>On a follower</b> the read is forwarded to the leader in a {@link ReadIndexRequest} (etcd's
     * MsgReadIndex), which confirms it as its own (from its lease, under LEASE) and answers with its commit
     * index; the follower releases the read once it has applied that far. It is dropped if the leader
     * refuses it, if no answer comes within electionTicks ticks (requests and answers may be lost), or if the
     * follower's term or role changes first.
     */
    public boolean readIndex(long context) {
        switch (role) {
            case LEADER -> {
                leaderRead(id, context);
                return true;
            }
            case FOLLOWER -> {
                if (leader == NONE) return false;
                readsForwarded.add(new ForwardedRead(context, ticks));
                send(new ReadIndexRequest(id, leader, term, context));
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /**
     * Starts handing leadership to {@code target} (thesis §3.10): brings it up to date, then tells it
     * to campaign at once. Proposals are refused meanwhile; after an election timeout the transfer is
     * abandoned. A request for the transfer already under way is ignored (it neither restarts its
     * clock nor sends again, as in etcd); one for another target abandons it and starts anew. Returns
     * false if this node is not the leader or {@code target} is not a voter.
     */
    public boolean transferLeadership(int target) {
        if (role != Role.LEADER || !configuration.isVoter(target)) return false;
        if (target == id) return true;
        if (target == transferTarget) return true; // under way: a retry must not keep refusing proposals for ever
        transferTarget = target;
        lease.forfeit(); // the target's campaign will pass the voters' wait: see readIndex
        electionElapsed = 0;
        Progress pr = progress.get(target);
        if (pr.match == log.lastIndex()) {
            send(new TimeoutNow(id, target, term));
        } else {
            replicateTo(target, false);
        }
        return true;
    }

    /**
     * Starts an election now, as if the election timeout had passed (with PreVote if configured).
     * A runtime uses it to elect a first leader without waiting a timeout; it does nothing on a
     * leader, on a node that is not a voter, or under {@link ReadPolicy#LEASE} on one that heard from a
     * leader within the election timeout (or restarted within one): that leader's lease counts on it.
     */
    public void campaign() {
        if (role == Role.LEADER || !promotable()) return;
        // A voter in a leader's lease (or quiet after a restart) must not elect another: see readIndex.
        if (config.readPolicy == ReadPolicy.LEASE && inLease()) return;
        electionElapsed = 0;
        campaign(config.preVote, false);
    }

    /**
     * Proposes one membership change (thesis §4.1: one server at a time). The new configuration is in force
     * as soon as it is in the log; returns the index of its entry, whose commit completes the change, or
     * {@link #REJECTED} if this node is not the leader or is handing leadership over.
     *
     * @throws IllegalArgumentException if the change does not apply to the configuration in force, or gives a member
     *                                  an address while the cluster runs below feature level 2
     * @throws IllegalStateException    if another change is not yet committed, or this leader has not yet
     *                                  committed an entry of its term (thesis §4.1's fix): retry shortly
     */
    public long proposeConfigChange(ConfigChange change) {
        Objects.requireNonNull(change, "change");
        if (role != Role.LEADER || transferTarget != NONE) return REJECTED;
        int level = configuration.featureLevel();
        if (change.context() != null && level < FeatureLevel.DELETE_CAS_AND_ADDRESSES) {
            // An older build cannot read a configuration entry with an address (format 2).
            throw new IllegalArgumentException(FeatureLevel.refusal(level, FeatureLevel.DELETE_CAS_AND_ADDRESSES,
                    "adding a member with its address"));
        }
        return appendConfiguration(configuration.apply(change));
    }

    /**
     * Proposes raising the cluster's {@link FeatureLevel feature level} to {@code level}: a configuration entry
     * that changes nothing else, in force for the cluster once committed, as {@link #proposeConfigChange} (and
     * with its rules: one change at a time). The runtime proposes it only once every member supports the level:
     * from this entry on, the log may hold what only such builds read.
     *
     * @throws IllegalArgumentException if {@code level} is not above the level in force (it never goes down)
     * @throws IllegalStateException    as {@link #proposeConfigChange}: retry shortly
     */
    public long proposeFeatureLevel(int level) {
        if (level <= configuration.featureLevel()) {
            throw new IllegalArgumentException("the cluster runs at feature level " + configuration.featureLevel()
                    + " already, and its level never goes down; cannot set it to " + level);
        }
        if (role != Role.LEADER || transferTarget != NONE) return REJECTED;
        return appendConfiguration(configuration.withFeatureLevel(level));
    }

    private long appendConfiguration(Configuration next) {
        if (log.lastConfigIndex() > log.committed()) {
            throw new IllegalStateException("the configuration change at index " + log.lastConfigIndex()
                    + " is not committed yet; membership changes go one at a time");
        }
        if (!committedInTerm) {
            throw new IllegalStateException("this leader has not yet committed an entry of its term " + term
                    + "; a membership change must wait for that");
        }
        long index = log.lastIndex() + 1;
        Entry entry = Entry.config(index, term, next);
        log.append(entry);
        uncommittedBytes += entry.size(); // counted, never refused: a membership change must get through
        refreshConfiguration();
        replicationDue = true;
        return index;
    }

    /**
     * The description of a snapshot of the state machine as of {@code index}, an entry applied and still
     * in the log (or the log's own snapshot point).
     */
    public SnapshotMeta snapshotMeta(long index) {
        if (index < log.firstIndex() - 1 || index > log.applied() || index < 1) {
            throw new IllegalArgumentException("a snapshot can be taken at an applied index the log holds, "
                    + (log.firstIndex() - 1) + ".." + log.applied() + "; not at " + index);
        }
        return new SnapshotMeta(index, log.term(index), log.configurationAt(index));
    }

    /**
     * Records that the runtime now holds {@code snapshot} (made from {@link #snapshotMeta}); a follower that
     * needs an entry compacted away is sent the newest such snapshot.
     */
    public void snapshotTaken(SnapshotMeta snapshot) {
        Objects.requireNonNull(snapshot, "snapshot");
        if (!snapshot.equals(snapshotMeta(snapshot.index()))) {
            throw new IllegalArgumentException(snapshot + " does not describe this log, which holds "
                    + snapshotMeta(snapshot.index()));
        }
        if (latestSnapshot == null || snapshot.index() > latestSnapshot.index()) latestSnapshot = snapshot;
    }

    /**
     * Drops the log up to {@code index}, which a snapshot the runtime holds covers. A leader that then
     * needs a dropped entry for a follower sends it an {@link InstallSnapshot} and waits for its answer.
     * Entries released from the heap ({@link #readFrom}) up to that snapshot go too, whatever {@code index}: the
     * store dropped them with the snapshot, so only entries still in memory stay behind it for a follower just
     * behind.
     *
     * @throws IllegalArgumentException if no snapshot recorded by {@link #snapshotTaken} reaches {@code index},
     *                                  or entries up to it are not all applied and persisted
     */
    public void compact(long index) {
        if (latestSnapshot == null || latestSnapshot.index() < index) {
            if (index <= log.firstIndex() - 1) return;
            throw new IllegalArgumentException("cannot compact the log up to index " + index + ": no snapshot reaches it"
                    + (latestSnapshot == null ? "" : " (the newest is " + latestSnapshot + ")"));
        }
        log.compact(index, latestSnapshot.index());
    }

    /** The index of the newest snapshot the store holds (or is writing): it holds no entry before it. */
    private long storeSnapshotIndex() {
        return latestSnapshot == null ? 0 : latestSnapshot.index();
    }

    /**
     * Tells a leader that sending its snapshot to {@code peer} failed (the follower stopped answering): it
     * probes that follower again, and sends a snapshot anew if it still needs one.
     */
    public void reportSnapshotFailed(int peer) {
        Progress pr = role == Role.LEADER ? progress.get(peer) : null;
        if (pr != null && pr.state == Progress.State.SNAPSHOT) pr.becomeProbe();
    }

    /**
     * Tells a leader that {@code peer} holds all of its snapshot's bytes. The follower's answer, once it has
     * installed it, normally moves it on; should that answer be lost, nothing else would. So the leader
     * probes from just after the snapshot (etcd's ReportSnapshot): a follower that installed it accepts, one
     * that did not (it crashed first) rejects, and is sent the snapshot again.
     */
    public void reportSnapshotSent(int peer) {
        Progress pr = role == Role.LEADER ? progress.get(peer) : null;
        if (pr != null && pr.state == Progress.State.SNAPSHOT) {
            pr.becomeProbe();
            pr.next = Math.max(pr.next, pr.pendingSnapshot + 1);
        }
    }

    /** The newest snapshot recorded by {@link #snapshotTaken} or received from a leader, or null. */
    public SnapshotMeta latestSnapshot() {
        return latestSnapshot;
    }

    // ---------------------------------------------------------------- output

    /** Whether {@link #ready()} would return anything. */
    public boolean hasReady() {
        return !messages.pending().isEmpty() || !messagesAfterPersist.pending().isEmpty() || replicationDue || snapshotToInstall != null
                || removedLeaderMustStepDown() || readRoundDue || log.hasUnstable() || log.hasCommittedToApply() || hasReleasableRead()
                || !readsDropped.pending().isEmpty() || hardStateChanged() || role != reportedRole || leader != reportedLeader;
    }

    /** Collects the output accumulated since the last call; see {@link Ready} for how to handle it. */
    public Ready ready() {
        if (removedLeaderMustStepDown()) stepDownRemoved();
        if (role == Role.LEADER) {
            // A new commit index alone sends nothing: it rides on the next append or heartbeat. An
            // append just to carry it would wake every follower once more per commit, and only the
            // leader's answer to the client waits on it.
            if (replicationDue) {
                for (int peer : progress.keySet()) {
                    if (peer != id) replicateTo(peer, false);
                }
            }
            if (readRoundDue) broadcastHeartbeat();
        }
        replicationDue = false;
        readRoundDue = false;

        HardState changed = null;
        if (hardStateChanged()) changed = reportedHardState = new HardState(term, votedFor, durableCommit());
        unstableOut.reset();
        log.takeUnstable(unstableOut);
        committedOut.reset();
        log.takeCommitted(committedOut);
        readStatesOut.reset();
        releaseReads(readStatesOut);
        SnapshotMeta install = snapshotToInstall;
        snapshotToInstall = null;
        reportedRole = role;
        reportedLeader = leader;
        ready.fill(changed, install, unstableOut, messages.handOut(), messagesAfterPersist.handOut(), committedOut,
                readStatesOut, readsDropped.handOut(), role, term, leader);
        return ready;
    }

    /**
     * Tells the core that a {@link Ready} is handled: its hard state and entries durable, its committed entries
     * applied. With a {@linkplain #readFrom log source}, the log then leaves on the heap no more than
     * {@link RaftConfig#logCacheBytes()} of entries already applied and durable.
     */
    public void advance(Ready ready) {
        List<Entry> entries = ready.entries();
        if (!entries.isEmpty()) {
            Entry last = entries.get(entries.size() - 1);
            log.stableTo(last.index(), last.term());
            if (role == Role.LEADER) {
                // The leader counts its own copy only once it is on disk (thesis §10.2.1).
                progress.get(id).maybeUpdate(log.stable());
                maybeCommit();
            }
        }
        // Down to half the cache at once: one release per half a cache of log, not one per pass.
        if (log.bytes() > config.logCacheBytes && log.hasSource()) {
            log.releaseDownTo(config.logCacheBytes / 2, storeSnapshotIndex());
        }
    }

    /**
     * Lets this node's log keep only {@link RaftConfig#logCacheBytes()} of applied, durable entries on the heap,
     * reading older ones back from {@code source} (its store) when a follower behind needs them. Call it once,
     * before the first {@link #ready()}; the source must hold every entry this core was started with or has had
     * persisted since.
     */
    public void readFrom(LogSource source) {
        log.readFrom(Objects.requireNonNull(source, "source"));
    }

    /**
     * Whether a confirmed read can be released by the next ready: its index is committed (and so applied by
     * then). A follower's may wait for a commit index it has not yet heard of, and must not make a ready meanwhile.
     */
    private boolean hasReleasableRead() {
        for (int i = 0, n = readsConfirmed.size(); i < n; i++) {
            if (readsConfirmed.get(i).index() <= log.committed()) return true;
        }
        return false;
    }

    private void releaseReads(OutList<ReadState> out) {
        if (readsConfirmed.isEmpty()) return;
        var it = readsConfirmed.iterator();
        while (it.hasNext()) {
            ReadState r = it.next();
            if (r.index() <= log.applied()) {
                out.append(r);
                it.remove();
            }
        }
    }

    // ---------------------------------------------------------------- roles

    private void becomeFollower(long newTerm, int newLeader) {
        // Reads forwarded to the leader of another term, or to no leader, would wait for nothing.
        if (newTerm != term || newLeader != leader) dropForwardedReads();
        if (newTerm != term) {
            term = newTerm;
            votedFor = NONE;
        }
        boolean wasLeader = role == Role.LEADER;
        role = Role.FOLLOWER;
        leader = newLeader;
        resetTimers();
        transferTarget = NONE;
        progress.clear();
        if (wasLeader) dropPendingReads();
    }

    private void becomePreCandidate() {
        dropForwardedReads();
        role = Role.PRE_CANDIDATE;
        leader = NONE;
        votes.clear();
        randomizeElectionTimeout();
    }

    private void becomeCandidate() {
        dropForwardedReads();
        term++;
        votedFor = id;
        role = Role.CANDIDATE;
        leader = NONE;
        votes.clear();
        resetTimers();
    }

    private void becomeLeader() {
        role = Role.LEADER;
        leader = id;
        resetTimers();
        transferTarget = NONE;
        progress.clear();
        ackedReadRound.clear();
        committedInTerm = false;
        lease.start(ticks, readRound);
        long next = log.lastIndex() + 1;
        for (int v : configuration.members()) {
            Progress pr = new Progress(next, config.maxInflightMessages);
            pr.recentActive = v == id;
            progress.put(v, pr);
        }
        progress.get(id).maybeUpdate(log.stable());
        // A no-op of our own term lets us commit, and so learn the commit index (Raft §5.4.2, §8).
        Entry noop = Entry.noop(next, term);
        log.append(noop);
        uncommittedBytes = noop.size(); // entries of earlier terms are not this leader's to count (etcd neither)
        replicationDue = true;
    }

    private void campaign(boolean preVote, boolean transfer) {
        long voteTerm;
        if (preVote) {
            becomePreCandidate();
            voteTerm = term + 1;
        } else {
            becomeCandidate();
            voteTerm = term;
        }
        if (recordVote(id, true)) return;
        for (int v : configuration.voters()) {
            if (v == id) continue;
            send(new VoteRequest(id, v, voteTerm, log.lastIndex(), log.lastTerm(), preVote, transfer));
        }
    }

    /** Counts a vote; returns true if the election is decided (and acted on). */
    private boolean recordVote(int from, boolean granted) {
        votes.putIfAbsent(from, granted);
        switch (Quorum.voteResult(configuration.voters(), votes)) {
            case WON -> {
                if (role == Role.PRE_CANDIDATE) campaign(false, false); else becomeLeader();
                return true;
            }
            case LOST -> {
                becomeFollower(term, NONE);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private void handleVoteRequest(VoteRequest m) {
        // Under LEASE a voter keeping a promise (restarted, or taken into a term no leader named) elects no one
        // new in the term it took: a leader whose lease it acknowledged may still be reading from it.
        boolean promised = config.readPolicy == ReadPolicy.LEASE && quietTicks > 0 && !m.preVote() && !m.transfer()
                && votedFor != m.from();
        boolean canVote = !promised && (votedFor == m.from()
                || (votedFor == NONE && leader == NONE)
                || (m.preVote() && m.term() > term)
                || (config.defect == RaftConfig.Defect.GRANT_TWO_VOTES_PER_TERM && !m.preVote() && leader == NONE));
        boolean upToDate = log.isUpToDate(m.lastLogIndex(), m.lastLogTerm())
                || config.defect == RaftConfig.Defect.VOTE_FOR_STALE_LOGS;
        if (canVote && upToDate) {
            // A granted pre-vote answers in the term asked about, so the pre-candidate counts it.
            send(new VoteResponse(id, m.from(), m.term(), true, m.preVote()));
            if (!m.preVote()) {
                electionElapsed = 0;
                votedFor = m.from();
            }
        } else {
            send(new VoteResponse(id, m.from(), term, false, m.preVote()));
        }
    }

    private void stepFollower(Message m) {
        switch (m) {
            case AppendRequest a -> {
                electionElapsed = 0;
                leader = a.from();
                handleAppend(a);
            }
            case Heartbeat h -> {
                electionElapsed = 0;
                leader = h.from();
                log.commitTo(Math.min(h.commit(), log.lastIndex()));
                send(new HeartbeatResponse(id, h.from(), term, h.readRound()));
            }
            case InstallSnapshot s -> {
                electionElapsed = 0;
                leader = s.from();
                handleSnapshot(s);
            }
            case TimeoutNow t -> {
                if (promotable()) campaign(false, true);
            }
            case ReadIndexRequest r -> send(new ReadIndexResponse(id, r.from(), term, r.context(), 0)); // not the leader
            case ReadIndexResponse r -> {
                if (r.from() == leader) readAnswered(r);
            }
            default -> { }
        }
    }

    private void stepCandidate(Message m) {
        switch (m) {
            case AppendRequest a -> {
                becomeFollower(term, a.from());
                handleAppend(a);
            }
            case Heartbeat h -> {
                becomeFollower(term, h.from());
                stepFollower(h);
            }
            case InstallSnapshot s -> {
                becomeFollower(term, s.from());
                stepFollower(s);
            }
            case VoteResponse v -> {
                if (v.preVote() == (role == Role.PRE_CANDIDATE)) recordVote(v.from(), v.granted());
            }
            case ReadIndexRequest r -> send(new ReadIndexResponse(id, r.from(), term, r.context(), 0)); // not the leader
            default -> { }
        }
    }

    private void stepLeader(Message m) {
        Progress pr = progress.get(m.from());
        if (m instanceof ReadIndexRequest r) {
            // A member's read is confirmed as our own; a node outside the configuration would never catch up to it.
            if (pr == null) send(new ReadIndexResponse(id, r.from(), term, r.context(), 0));
            else leaderRead(r.from(), r.context());
            return;
        }
        if (pr == null) return;
        switch (m) {
            case AppendResponse r -> {
                pr.recentActive = true;
                if (!r.success()) {
                    long probeFrom = r.hintTerm() > 0 ? log.findConflictByTerm(r.hintIndex(), r.hintTerm()) : r.hintIndex();
                    if (pr.maybeDecrease(r.index(), probeFrom)) {
                        if (pr.state == Progress.State.REPLICATE) pr.becomeProbe();
                        replicateTo(r.from(), false);
                    }
                    return;
                }
                // A follower that was paused missed what went out meanwhile (ready() skips paused
                // followers), the commit index included: resume it below, with an empty append if
                // there is nothing else to send.
                boolean wasPaused = pr.paused();
                if (pr.maybeUpdate(r.index())) {
                    switch (pr.state) {
                        case PROBE -> pr.becomeReplicate();
                        case REPLICATE -> pr.inflights.freeTo(r.index());
                        case SNAPSHOT -> {
                            // The follower took the snapshot (or caught up otherwise): stream from its end.
                            if (pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
                        }
                    }
                    maybeCommit();
                    if (r.from() == transferTarget && pr.match == log.lastIndex()) {
                        send(new TimeoutNow(id, r.from(), term));
                    }
                }
                replicateTo(r.from(), wasPaused);
            }
            case HeartbeatResponse h -> {
                pr.recentActive = true;
                pr.probeSent = false;
                if (pr.match < log.lastIndex()) {
                    // Appends may have been lost, leaving the window full or the follower silently
                    // behind: free a slot and send from where we think it is. If it lacks that, it
                    // rejects, and we probe back to where it really is.
                    if (pr.state == Progress.State.REPLICATE && pr.inflights.full()) pr.inflights.freeFirst();
                    replicateTo(h.from(), true);
                }
                ackedReadRound.merge(h.from(), h.readRound(), Math::max);
                lease.invalidate();
                confirmReads();
            }
            default -> { }
        }
    }

    private void handleAppend(AppendRequest a) {
        if (a.prevLogIndex() < log.committed()) {
            // Everything up to our commit index is known to match: say so, and let the leader move on.
            send(new AppendResponse(id, a.from(), term, true, log.committed(), 0, 0));
            return;
        }
        long last = log.maybeAppend(a.prevLogIndex(), a.prevLogTerm(), a.entries());
        if (log.configuration() != configuration) refreshConfiguration();
        if (last >= 0) {
            log.commitTo(Math.min(a.leaderCommit(), last));
            send(new AppendResponse(id, a.from(), term, true, last, 0, 0));
        } else {
            // Tell the leader the last index at which our log could match its, skipping a term at a time.
            long hintIndex = log.findConflictByTerm(Math.min(a.prevLogIndex(), log.lastIndex()), a.prevLogTerm());
            send(new AppendResponse(id, a.from(), term, false, a.prevLogIndex(), hintIndex, log.term(hintIndex)));
        }
    }

    /** The follower side of InstallSnapshot (Raft §7): the runtime holds the bytes and installs them after this ready. */
    private void handleSnapshot(InstallSnapshot s) {
        SnapshotMeta snap = s.snapshot();
        if (snap.index() <= log.committed()) {
            // Nothing new: everything it covers is committed here already.
            send(new AppendResponse(id, s.from(), term, true, log.committed(), 0, 0));
            return;
        }
        if (log.matchTerm(snap.index(), snap.term())) {
            // We hold the entry it ends with, so our log matches up to there: keep what follows it.
            log.commitTo(snap.index());
            send(new AppendResponse(id, s.from(), term, true, snap.index(), 0, 0));
            return;
        }
        log.restore(snap);
        latestSnapshot = snap;
        snapshotToInstall = snap;
        refreshConfiguration();
        send(new AppendResponse(id, s.from(), term, true, snap.index(), 0, 0));
    }

    // ---------------------------------------------------------------- membership

    /** Takes the log's configuration into force; a leader starts or stops replicating to whoever joined or left. */
    private void refreshConfiguration() {
        Configuration c = log.configuration();
        if (c.equals(configuration)) {
            configuration = c;
            return;
        }
        configuration = c;
        if (role == Role.LEADER) {
            for (int m : c.members()) {
                progress.computeIfAbsent(m, k -> new Progress(log.lastIndex() + 1, config.maxInflightMessages));
            }
            progress.keySet().removeIf(p -> p != id && !c.contains(p));
            ackedReadRound.keySet().removeIf(p -> !c.contains(p));
            lease.invalidate(); // a majority of other voters now
            replicationDue = true;
            maybeCommit(); // a smaller majority may already hold more
            confirmReads();
        }
        // No transfer can be under way here (a leader refuses changes during one), and a follower is the only
        // other role that changes its log: a candidate steps down before it takes an append or a snapshot.
    }

    /** A leader whose removal has committed leaves (thesis §4.2.2); until then it leads without counting itself. */
    private boolean removedLeaderMustStepDown() {
        return role == Role.LEADER && !configuration.isVoter(id) && log.committed() >= log.lastConfigIndex();
    }

    private void stepDownRemoved() {
        // Hand over to a voter that holds the whole log, so the cluster need not wait an election timeout.
        for (Map.Entry<Integer, Progress> e : progress.entrySet()) {
            int peer = e.getKey();
            if (peer != id && configuration.isVoter(peer) && e.getValue().match == log.lastIndex()) {
                send(new TimeoutNow(id, peer, term));
                break;
            }
        }
        becomeFollower(term, NONE);
    }

    // ---------------------------------------------------------------- replication

    /** Sends what {@code peer} lacks, as far as its flow control allows; an empty append if {@code evenIfEmpty}. */
    private void replicateTo(int peer, boolean evenIfEmpty) {
        Progress pr = progress.get(peer);
        boolean sent = false;
        while (!pr.paused()) {
            if (pr.next < log.firstIndex()) {
                // Compacted away: the follower needs the snapshot (compact() requires one to cover the log's start).
                pr.becomeSnapshot(latestSnapshot.index());
                send(new InstallSnapshot(id, peer, term, latestSnapshot));
                return;
            }
            List<Entry> entries = log.slice(pr.next, config.maxEntriesPerMessage, config.maxBytesPerMessage);
            if (entries.isEmpty() && (sent || !evenIfEmpty)) return;
            long prev = pr.next - 1;
            send(new AppendRequest(id, peer, term, prev, log.term(prev), entries, log.committed()));
            pr.sentEntries(prev + entries.size(), entries.size()); // a probe pauses until it is answered
            sent = true;
        }
    }

    private void broadcastHeartbeat() {
        readRound++;
        for (Map.Entry<Integer, Progress> e : progress.entrySet()) {
            int peer = e.getKey();
            if (peer == id) continue;
            long commit = Math.min(e.getValue().match, log.committed());
            send(new Heartbeat(id, peer, term, commit, readRound));
        }
        readRoundDue = false;
    }

    /** Commits the largest index a majority stores, if it is of the current term (Raft §5.4.2). */
    private void maybeCommit() {
        int[] voters = voterIds();
        long[] matches = matchScratch;
        for (int i = 0; i < voters.length; i++) matches[i] = progress.get(voters[i]).match;
        long index = Quorum.committedIndex(matches, voters.length);
        if (index <= log.committed()) return;
        boolean ownTerm = log.term(index) == term;
        if (!ownTerm && config.defect != RaftConfig.Defect.COMMIT_EARLIER_TERM_BY_COUNTING) return;
        for (long i = log.committed() + 1; i <= index; i++) {
            Entry e = log.entry(i);
            if (e.term() == term) uncommittedBytes -= e.size(); // entries of earlier terms were never counted
        }
        log.commitTo(index);
        if (!committedInTerm && log.term(log.committed()) == term) {
            committedInTerm = true;
            // By a heartbeat round, not the lease: this commit may reach a runtime after a long write, its
            // clock not yet caught up (see readIndex).
            while (!readsAwaitingTermCommit.isEmpty()) {
                PendingRead r = readsAwaitingTermCommit.poll();
                awaitQuorum(r.from, r.context);
            }
        }
    }

    /**
     * The voters of the configuration in force, as an array (with scratch space for their match
     * indexes): counting a commit, once per acknowledgement, then allocates nothing.
     */
    private int[] voterIds() {
        if (voterIdsOf != configuration) {
            int[] ids = new int[configuration.voters().size()];
            int i = 0;
            for (int v : configuration.voters()) ids[i++] = v;
            voterIds = ids;
            matchScratch = new long[ids.length];
            voterIdsOf = configuration;
        }
        return voterIds;
    }

    // ---------------------------------------------------------------- reads

    /** A leader takes a read, its own or the follower {@code from}'s; see {@link #readIndex}. */
    private void leaderRead(int from, long context) {
        if (!committedInTerm) {
            readsAwaitingTermCommit.add(new PendingRead(from, context, 0, 0));
        } else if (leaseHeld()) {
            confirmRead(from, context, log.committed());
        } else {
            awaitQuorum(from, context);
        }
    }

    private void awaitQuorum(int from, long context) {
        // Confirmed by the next heartbeat round, sent at the latest with the next ready.
        long round = config.defect == RaftConfig.Defect.CONFIRM_READ_BY_EARLIER_ROUND ? readRound : readRound + 1;
        readsAwaitingQuorum.add(new PendingRead(from, context, log.committed(), round));
        readRoundDue = true;
        confirmReads();
    }

    private void confirmReads() {
        while (!readsAwaitingQuorum.isEmpty()) {
            PendingRead r = readsAwaitingQuorum.peek();
            if (!Quorum.hasMajority(configuration.voters(), v -> v == id || ackedReadRound.getOrDefault(v, 0L) >= r.round)) return;
            readsAwaitingQuorum.poll();
            confirmRead(r.from, r.context, r.index);
        }
    }

    /** A read confirmed at {@code index}: released here once applied, or told to the follower that asked. */
    private void confirmRead(int from, long context, long index) {
        if (from == id) readsConfirmed.add(new ReadState(context, index));
        else send(new ReadIndexResponse(id, from, term, context, index));
    }

    private void dropPendingReads() {
        for (PendingRead r : readsAwaitingTermCommit) dropRead(r);
        readsAwaitingTermCommit.clear();
        for (PendingRead r : readsAwaitingQuorum) dropRead(r);
        readsAwaitingQuorum.clear();
    }

    private void dropRead(PendingRead r) {
        if (r.from == id) readsDropped.pending().append(r.context);
        else send(new ReadIndexResponse(id, r.from, term, r.context, 0)); // the follower's reader tries again sooner
    }

    /** Whether this leader may confirm a read at once, from its lease; see {@link #readIndex}. */
    private boolean leaseHeld() {
        if (config.readPolicy != ReadPolicy.LEASE) return false;
        int[] voters = voterIds(); // first: it makes the scratch space, which nothing else uses meanwhile
        return lease.held(ticks, id, voters, ackedRoundOf, matchScratch);
    }

    /** A follower hears from the leader on a read it forwarded. */
    private void readAnswered(ReadIndexResponse r) {
        for (var it = readsForwarded.iterator(); it.hasNext(); ) {
            ForwardedRead f = it.next();
            if (f.context != r.context()) continue;
            it.remove();
            if (r.granted()) readsConfirmed.add(new ReadState(f.context, r.index()));
            else readsDropped.pending().append(f.context);
            return;
        }
        // Not waiting (any more): a duplicate, or an answer after the read was dropped.
    }

    /** Drops forwarded reads the leader has not answered within an election timeout: lost, or never to come. */
    private void expireForwardedReads() {
        while (!readsForwarded.isEmpty() && ticks - readsForwarded.peek().askedAt >= config.electionTicks) {
            readsDropped.pending().append(readsForwarded.poll().context);
        }
    }

    private void dropForwardedReads() {
        while (!readsForwarded.isEmpty()) readsDropped.pending().append(readsForwarded.poll().context);
    }

    // ---------------------------------------------------------------- helpers

    private void send(Message m) {
        // What promises nothing durable goes at once: a leader's appends and heartbeats (before its
        // own write, thesis 10.2.1), heartbeat acknowledgements (so ReadIndex and CheckQuorum do not
        // wait on a follower's disk) and PreVote traffic (which changes no state). Votes and append
        // acknowledgements wait until this ready's state is on disk.
        boolean immediate = switch (m) {
            case AppendRequest a -> role == Role.LEADER;
            case Heartbeat h -> role == Role.LEADER;
            case TimeoutNow t -> role == Role.LEADER;
            case InstallSnapshot s -> role == Role.LEADER;
            // Under LEASE an acknowledgement promises not to vote for another within the election timeout, a
            // promise a restart keeps only if the term it was made in is durable (see readIndex).
            case HeartbeatResponse h -> config.readPolicy != ReadPolicy.LEASE;
            case ReadIndexRequest r -> true;
            case ReadIndexResponse r -> true;
            case VoteRequest v -> v.preVote();
            case VoteResponse v -> v.preVote();
            default -> false;
        };
        (immediate ? messages : messagesAfterPersist).pending().append(m);
    }

    private boolean quorumRecentlyActive() {
        boolean active = Quorum.hasMajority(configuration.voters(), v -> v == id || progress.get(v).recentActive);
        for (Map.Entry<Integer, Progress> e : progress.entrySet()) {
            if (e.getKey() != id) e.getValue().recentActive = false;
        }
        return active;
    }

    /** Whether this node refuses to help elect another leader: it heard from one within the election timeout. */
    /** Whether {@code m} can come only from the leader of its term, which a majority has elected. */
    private static boolean fromLeader(Message m) {
        return m instanceof AppendRequest || m instanceof Heartbeat || m instanceof InstallSnapshot || m instanceof TimeoutNow;
    }

    private boolean inLease() {
        return config.checkQuorum && ((leader != NONE && electionElapsed < config.electionTicks) || quietTicks > 0);
    }

    private boolean promotable() {
        return configuration.isVoter(id);
    }

    private void resetTimers() {
        electionElapsed = 0;
        heartbeatElapsed = 0;
        randomizeElectionTimeout();
    }

    private void randomizeElectionTimeout() {
        randomizedElectionTimeout = config.electionTicks + config.random.nextInt(config.electionTicks);
    }

    private boolean hardStateChanged() {
        HardState r = reportedHardState;
        return r.term() != term || r.votedFor() != votedFor || r.commit() != durableCommit();
    }

    /**
     * The commit index to persist: the commit index, but no further than the entries already durable. Commit is
     * volatile in Raft, and what is stored of it only a hint for a restart; a hint that counted entries of the
     * write it travels in would, should that write be torn (its hard state kept, its entries lost), point at
     * the stale entries the write was to replace. Bounded so, a store need not be write-atomic: any hard state
     * it keeps commits only entries it had forced before. It lags by one write only when a follower learns a
     * commit index together with the entries it covers, and catches up in the next ready.
     */
    private long durableCommit() {
        return Math.min(log.committed(), log.stable());
    }

    // ---------------------------------------------------------------- observation

    public int id() { return id; }

    public Role role() { return role; }

    public long term() { return term; }

    public int votedFor() { return votedFor; }

    /** The leader this node knows of in its term, or {@link #NONE}. */
    public int leader() { return leader; }

    public long commitIndex() { return log.committed(); }

    /** A read-only view of this node's log, for runtimes and tests. */
    public RaftLog log() { return log; }

    /** The voters of the configuration in force. */
    public Set<Integer> voters() { return configuration.voters(); }

    /** The configuration in force: the last one in the log, committed or not. */
    public Configuration configuration() { return configuration; }

    /**
     * The configuration of the committed log: the last one at or below the commit index. A change is done
     * only once it is here: the one in force may still be rolled back with an uncommitted suffix.
     */
    public Configuration committedConfiguration() {
        // The fast path is what the node's every pass takes: no boxing, no map entry made.
        return log.lastConfigIndex() <= log.committed() ? configuration : log.configurationAt(log.committed());
    }

    /** The leader's view of {@code peer}'s replication, or null if this node does not lead. */
    public Progress progress(int peer) { return role == Role.LEADER ? progress.get(peer) : null; }

    public RaftConfig config() { return config; }

    @Override
    public String toString() {
        return "node " + id + " " + role + " term " + term + " last " + log.lastIndex() + "@" + log.lastTerm()
                + " commit " + log.committed();
    }
}

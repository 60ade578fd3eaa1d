package io.raftkv.sim;

import io.raftkv.raft.DefectSeam;
import io.raftkv.lincheck.OpKind;
import io.raftkv.lincheck.Operation;
import io.raftkv.raft.ConfigChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.Progress;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.raft.SnapshotMeta;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One deterministic run of a whole cluster from a seed: Raft cores on a simulated clock, a network
 * that drops, duplicates, delays, reorders and partitions, disks that lose unforced writes on a crash,
 * and clients issuing PUT / GET / REPLACE. Nodes snapshot their state machine and compact their logs;
 * a leader brings a follower that needs compacted entries up with its snapshot, sent through the same
 * faulty network; an admin adds nodes (learner first, promoted once caught up) and removes them, the
 * leader included, one change at a time. Every event is followed by the safety checks; after the
 * faults heal the cluster must elect a leader and finish every new operation in bounded time.
 */
final class Simulation {
    /** Simulated time units per tick of a node. */
    static final int TICK = 5;
    static final int ELECTION_TICKS = 10;
    /** Faults stop by this time even if the clients are stuck (say, with no majority up). */
    static final int FAULT_PHASE_LIMIT = 30_000;
    /** Message delay and disk latency bound once the faults heal: a round trip with a write stays under 30, a third of the election timeout's low end (50). */
    static final int HEALED_MAX_DELAY = 10;
    /** Membership bounds the admin keeps to: never fewer voters, never more running nodes. */
    static final int MIN_VOTERS = 3;
    static final int MAX_NODES = 7;

    /** What a run is made of; everything derives from the seed unless a test overrides it. */
    record Params(long seed, int nodes, int clients, int operations, DefectSeam.Defect defect, boolean faults,
                  boolean staleReads, boolean leaderChurn, boolean snapshots, boolean membership, Reads reads) {
        /**
         * The run a seed stands for: a quarter of seeds crash new leaders again and again; three in four
         * take snapshots and compact their logs; half change their membership.
         */
        static Params of(long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            boolean churn = r.nextInt(4) == 0;
            int nodes = churn || r.nextBoolean() ? 5 : 3;
            int clients = 2 + r.nextInt(5);
            boolean snapshots = r.nextInt(4) != 0;
            boolean membership = r.nextBoolean();
            return new Params(seed, nodes, clients, 300, DefectSeam.Defect.NONE, true, false, churn, snapshots, membership,
                    Reads.LEADER_READ_INDEX);
        }

        Params withDefect(DefectSeam.Defect d) {
            return new Params(seed, nodes, clients, operations, d, faults, staleReads, leaderChurn, snapshots, membership, reads);
        }

        /** A known-bad server that answers GET from whatever node it reaches, without ReadIndex. */
        Params withStaleReads() {
            return new Params(seed, nodes, clients, operations, defect, faults, true, leaderChurn, snapshots, membership, reads);
        }

        /**
         * Five nodes whose leaders are crashed soon after they win, while their logs still differ
         * from the others': the ground on which the paper's Figure 8 is built.
         */
        Params withLeaderChurn() {
            return new Params(seed, 5, clients, operations, defect, faults, staleReads, true, snapshots, membership, reads);
        }

        /** Snapshots, compaction and membership changes on, whatever the seed drew. */
        Params withSnapshotsAndMembership() {
            return new Params(seed, nodes, clients, operations, defect, faults, staleReads, leaderChurn, true, true, reads);
        }

        /** Neither snapshots nor membership changes: the cluster of fixed membership and whole logs. */
        Params withoutSnapshotsOrMembership() {
            return new Params(seed, nodes, clients, operations, defect, faults, staleReads, leaderChurn, false, false, reads);
        }

        /** How reads go: see {@link Reads}. */
        Params withReads(Reads r) {
            return new Params(seed, nodes, clients, operations, defect, faults, staleReads, leaderChurn, snapshots, membership, r);
        }
    }

    /**
     * How the cluster reads and how its clocks run. By default (and in every run {@link Params#of} makes) GETs go
     * to the leader the client knows, confirmed by ReadIndex, and each node ticks every {@link #TICK} time units
     * give or take one. Otherwise each node's clock is steady (tick k at its start + k times its period) at a
     * rate of its own: its period, drawn from the seed, lies between {@link #TICK} and {@code 1 + clockDrift}
     * times that (0.1: the slowest clock loses up to a tenth of a tick per tick on the fastest); leaders may read
     * by lease, whose drift bound is {@code driftBoundTicks}; and GETs may go to any node, a follower asking the
     * leader for a read index.
     */
    record Reads(boolean lease, double clockDrift, int driftBoundTicks, boolean fromAnyNode) {
        static final Reads LEADER_READ_INDEX = new Reads(false, 0, 0, false);

        Reads {
            if (clockDrift < 0) throw new IllegalArgumentException("clockDrift must be >= 0, was " + clockDrift);
        }

        /** Whether each node's clock runs steadily at a rate of its own (else ticks jitter around the nominal one). */
        boolean steadyClocks() {
            return lease || clockDrift > 0;
        }

        /**
         * The smallest drift bound that keeps leases safe when every tick period lies between {@link #TICK} and
         * {@code 1 + clockDrift} times that: a leader that sent a round at time s reads from its lease at most until
         * its (electionTicks - D)-th tick after, by s + 1 + (E - D) * slowest period (the 1 for rounding a tick to
         * the time unit); a voter that heard the round (after s) votes for another no sooner than its E-th tick
         * after, which is at least (E - 1) * fastest period - 1 after it heard. The first must come strictly before
         * the second.
         */
        static int safeDriftBound(double clockDrift) {
            double slowest = TICK * (1 + clockDrift), fastest = TICK;
            return (int) Math.floor(ELECTION_TICKS - ((ELECTION_TICKS - 1) * fastest - 1) / slowest) + 1;
        }
    }

    /** What a run did. */
    record Result(long seed, long steps, long simulatedTime, List<Operation> history, int leadersElected,
                  long committed, int crashes, int faults, int snapshotsTaken, int snapshotsSent,
                  int snapshotsInstalled, int configChangesCommitted, int nodesAdded, int nodesRemoved,
                  Configuration finalConfiguration) {}

    private final Params params;
    private final SplittableRandom random;
    private final PrintStream trace;
    private final SafetyChecker checker;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    /** Every node ever started, by id (index 0 unused); a removed node stays here, stopped for good. */
    private final List<SimNode> nodes = new ArrayList<>();
    private final SimClient[] clients;
    private final Admin admin = new Admin();
    private final List<Operation> history = new ArrayList<>();

    // Network settings; the fault phase changes them, healing clears them.
    private final Set<Long> cutLinks = new HashSet<>();
    private double dropRate;
    private double duplicateRate;
    private int maxDelay;
    /** Longest time a write waits to be forced; a crash loses what is still waiting. */
    private int maxDiskLatency;

    // Knobs of this run, drawn from the seed.
    private final int maxEntriesPerMessage;
    private final int maxInflight;
    private final boolean preVote;
    private final boolean checkQuorum;
    /** Whether new leaders are often crashed soon after they win, while their logs still differ from the others'. */
    private final boolean leaderChurn;
    /** A deliberately broken protocol need not stay live; only its safety is judged. */
    private final boolean judgeLiveness;
    /** A node snapshots once it has applied this many entries past its last snapshot (or, now and then, sooner). */
    private final int snapshotEvery;

    private long now;
    private long steps;
    private long eventSeq;
    private long historyClock;
    private int opsIssued;
    private int crashes;
    private int faultCount;
    private int snapshotsTaken;
    private int snapshotsSent;
    private int snapshotsInstalled;
    private int nodesAdded;
    private int nodesRemoved;
    private boolean healed;
    private long healedAt = -1;
    private boolean leaderAfterHeal;

    Simulation(Params params, PrintStream trace) {
        this.params = params;
        this.random = new SplittableRandom(params.seed() * 0x9E3779B97F4A7C15L + 1);
        this.trace = trace;
        this.leaderChurn = params.leaderChurn() && params.faults();
        this.judgeLiveness = params.defect() == DefectSeam.Defect.NONE;
        // Leader churn wants old entries sent one per message, so that a leader may have some of them
        // on a majority before its own no-op.
        this.maxEntriesPerMessage = leaderChurn ? pick(1, 1, 2, 8) : pick(1, 2, 8, 256);
        this.maxInflight = pick(1, 2, 16, 256);
        this.preVote = random.nextInt(4) != 0;
        this.checkQuorum = random.nextInt(4) != 0 || params.reads().lease(); // leases need it (the draw stays)
        this.maxDelay = pick(2, 10, 30);
        this.maxDiskLatency = pick(1, 4, maxDelay);
        this.dropRate = params.faults() ? random.nextDouble() * 0.1 : 0;
        this.duplicateRate = params.faults() ? random.nextDouble() * 0.05 : 0;
        this.snapshotEvery = params.snapshots() ? pick(3, 8, 20, 50) : 0;
        Set<Integer> voters = new TreeSet<>();
        for (int id = 1; id <= params.nodes(); id++) voters.add(id);
        this.checker = new SafetyChecker(Configuration.ofVoters(voters).withFeatureLevel(io.raftkv.raft.FeatureLevel.SUPPORTED));
        nodes.add(null);
        for (int id = 1; id <= params.nodes(); id++) nodes.add(new SimNode(id, voters));
        this.clients = new SimClient[params.clients()];
        for (int c = 0; c < clients.length; c++) clients[c] = new SimClient(c + 1);
        log("seed %d: %d nodes, %d clients, %d ops, maxEntries %d, maxInflight %d, preVote %b, checkQuorum %b, "
                        + "delay<=%d, disk<=%d, drop %.3f, dup %.3f, churn %b, snapshot every %d, membership %b, defect %s, %s",
                params.seed(), params.nodes(), params.clients(), params.operations(), maxEntriesPerMessage, maxInflight,
                preVote, checkQuorum, maxDelay, maxDiskLatency, dropRate, duplicateRate, leaderChurn, snapshotEvery,
                params.membership(), params.defect(), params.reads());
        if (params.reads().steadyClocks()) {
            StringBuilder periods = new StringBuilder();
            for (int id = 1; id < nodes.size(); id++) periods.append(String.format(" %d:%.3f", id, nodes.get(id).tickPeriod));
            log("tick periods%s", periods);
        }
    }

    private int pick(int... choices) {
        return choices[random.nextInt(choices.length)];
    }

    // ---------------------------------------------------------------- the event loop

    private enum Kind {
        TICK, DELIVER, DISK, CLIENT_REQUEST, CLIENT_REPLY, CLIENT_TIMEOUT, CLIENT_RETRY, CLIENT_NEXT, FAULT, CRASH,
        RESTART, HEAL, SNAPSHOT_TIMEOUT, ADMIN
    }

    private static final class Event implements Comparable<Event> {
        final long time;
        final long seq;
        final Kind kind;
        final int target;
        final long tag;
        final Object payload;

        Event(long time, long seq, Kind kind, int target, long tag, Object payload) {
            this.time = time;
            this.seq = seq;
            this.kind = kind;
            this.target = target;
            this.tag = tag;
            this.payload = payload;
        }

        @Override
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** An InstallSnapshot on the wire, with the sender's snapshot state beside it (the runtime's chunks, in one piece). */
    private record SnapshotDelivery(Message.InstallSnapshot message, SimSnapshot snapshot) {}

    private void schedule(long delay, Kind kind, int target, long tag, Object payload) {
        events.add(new Event(now + delay, eventSeq++, kind, target, tag, payload));
    }

    Result run() {
        for (int id = 1; id < nodes.size(); id++) {
            nodes.get(id).start();
            schedule(1 + random.nextInt(TICK), Kind.TICK, id, 0, null);
        }
        for (SimClient c : clients) schedule(random.nextInt(10), Kind.CLIENT_NEXT, c.id, 0, null);
        if (params.faults()) schedule(50 + random.nextInt(200), Kind.FAULT, 0, 0, null);
        else heal();
        if (params.membership()) schedule(100 + random.nextInt(300), Kind.ADMIN, 0, 0, null);

        long limit = 2_000_000;
        while (!allClientsDone()) {
            Event e = events.poll();
            if (e == null) throw new IllegalStateException("no events left before the clients finished");
            now = e.time;
            steps++;
            if (now > limit) {
                if (!judgeLiveness) break;
                throw new SafetyViolation("liveness", "run did not finish by time " + limit);
            }
            if (judgeLiveness && healed && !leaderAfterHeal && now > healedAt + 40L * ELECTION_TICKS * TICK) {
                throw new SafetyViolation("liveness", "no leader elected within " + 40 * ELECTION_TICKS
                        + " ticks after the faults healed at time " + healedAt);
            }
            handle(e);
        }
        return new Result(params.seed(), steps, now, history, checker.leadersElected(), checker.highestCommitted(),
                crashes, faultCount, snapshotsTaken, snapshotsSent, snapshotsInstalled, checker.configChangesCommitted(),
                nodesAdded, nodesRemoved, checker.committedConfiguration());
    }

    private void handle(Event e) {
        switch (e.kind) {
            case TICK -> {
                SimNode n = nodes.get(e.target);
                if (n.removed) return; // a removed node's clock stops with it
                if (n.core != null) {
                    n.core.tick();
                    n.afterInput();
                    n.maybeSnapshot();
                }
                schedule(n.nextTickIn(), Kind.TICK, e.target, 0, null);
            }
            case DELIVER -> {
                Message m;
                SimSnapshot attached = null;
                if (e.payload instanceof SnapshotDelivery d) {
                    m = d.message();
                    attached = d.snapshot();
                } else {
                    m = (Message) e.payload;
                }
                SimNode n = nodes.get(m.to());
                if (n.core != null) {
                    log("deliver %s", m);
                    n.received = attached;
                    n.core.step(m);
                    n.afterInput();
                    n.received = null;
                }
            }
            case DISK -> {
                SimNode n = nodes.get(e.target);
                if (n.core != null && n.incarnation == e.tag) n.forceOne();
            }
            case CLIENT_REQUEST -> {
                SimNode n = nodes.get(e.target);
                if (n.core != null) n.onRequest((Request) e.payload);
            }
            case CLIENT_REPLY -> clients[e.target - 1].onReply((Reply) e.payload);
            case CLIENT_TIMEOUT -> clients[e.target - 1].onTimeout(e.tag);
            case CLIENT_RETRY -> clients[e.target - 1].onRetry(e.tag);
            case CLIENT_NEXT -> clients[e.target - 1].next();
            case FAULT -> injectFault();
            case CRASH -> {
                SimNode n = nodes.get(e.target);
                if (!healed && n.core != null && n.incarnation == e.tag) {
                    n.crash();
                    schedule(5 + random.nextInt(100), Kind.RESTART, e.target, 0, null);
                }
            }
            case RESTART -> {
                SimNode n = nodes.get(e.target);
                if (n.core == null && !n.removed) n.start();
            }
            case HEAL -> heal();
            case SNAPSHOT_TIMEOUT -> {
                SimNode n = nodes.get(e.target);
                if (n.core != null && n.incarnation == e.tag) n.snapshotSendTimedOut((long[]) e.payload);
            }
            case ADMIN -> {
                admin.step();
                schedule(20 + random.nextInt(60), Kind.ADMIN, 0, 0, null);
            }
        }
    }

    private boolean allClientsDone() {
        for (SimClient c : clients) if (!c.done) return false;
        return true;
    }

    /** The nodes that exist and have not been removed, running or crashed, in id order. */
    private List<Integer> activeIds() {
        List<Integer> ids = new ArrayList<>();
        for (int id = 1; id < nodes.size(); id++) if (!nodes.get(id).removed) ids.add(id);
        return ids;
    }

    private int randomActive() {
        List<Integer> ids = activeIds();
        return ids.get(random.nextInt(ids.size()));
    }

    /** The node that leads with no node of a later term around, or null. */
    private SimNode soleLeader() {
        List<RaftCore> all = allCores();
        for (int id = 1; id < nodes.size(); id++) {
            SimNode n = nodes.get(id);
            if (n.core != null && SafetyChecker.isSoleLeader(n.core, all)) return n;
        }
        return null;
    }

    private List<RaftCore> allCores() {
        List<RaftCore> all = new ArrayList<>();
        for (int i = 1; i < nodes.size(); i++) all.add(nodes.get(i).core);
        return all;
    }

    // ---------------------------------------------------------------- network

    private static long link(int from, int to) {
        return ((long) from << 32) | to;
    }

    private void send(Message m, SimSnapshot attached) {
        if (cutLinks.contains(link(m.from(), m.to()))) return;
        if (random.nextDouble() < dropRate) return;
        Object payload = attached == null ? m : new SnapshotDelivery((Message.InstallSnapshot) m, attached);
        schedule(1 + random.nextInt(maxDelay), Kind.DELIVER, m.to(), 0, payload);
        if (random.nextDouble() < duplicateRate) schedule(1 + random.nextInt(maxDelay * 3), Kind.DELIVER, m.to(), 0, payload);
    }

    /** Clients reach every node (they stand outside the partitions) but their traffic may be lost. */
    private void sendToClient(int client, Reply r) {
        if (random.nextDouble() < dropRate) return;
        schedule(1 + random.nextInt(maxDelay), Kind.CLIENT_REPLY, client, 0, r);
    }

    private void sendToNode(int node, Request r) {
        if (random.nextDouble() < dropRate) return;
        schedule(1 + random.nextInt(maxDelay), Kind.CLIENT_REQUEST, node, 0, r);
    }

    // ---------------------------------------------------------------- faults

    private void injectFault() {
        if (healed) return;
        faultCount++;
        List<Integer> ids = activeIds();
        // Runs on steady clocks (leases, drift) have one more fault: the leader cut off, whose lease must run out in
        // time. The others draw as they always did.
        switch (random.nextInt(params.reads().steadyClocks() ? 10 : 9)) {
            case 0 -> { // partition into two random groups
                cutLinks.clear();
                Set<Integer> side = new HashSet<>();
                for (int i : ids) if (random.nextBoolean()) side.add(i);
                for (int a : ids)
                    for (int b : ids)
                        if (side.contains(a) != side.contains(b)) cutLinks.add(link(a, b));
                log("FAULT partition %s | rest", side);
            }
            case 1 -> { // isolate one node
                int x = randomActive();
                for (int o : ids) {
                    cutLinks.add(link(x, o));
                    cutLinks.add(link(o, x));
                }
                log("FAULT isolate %d", x);
            }
            case 2 -> { // cut one direction
                int a = randomActive(), b = randomActive();
                cutLinks.add(link(a, b));
                log("FAULT cut %d->%d", a, b);
            }
            case 3, 4 -> { // crash a node; it comes back later with only what it forced to disk
                int x = randomActive();
                if (nodes.get(x).core != null) {
                    nodes.get(x).crash();
                    schedule(20 + random.nextInt(400), Kind.RESTART, x, 0, null);
                }
            }
            case 5 -> { // leadership transfer to a random node
                for (int i : ids) {
                    SimNode s = nodes.get(i);
                    if (s.core != null && s.core.role() == Role.LEADER) {
                        int target = randomActive();
                        log("FAULT transfer %d -> %d", i, target);
                        s.core.transferLeadership(target);
                        s.afterInput();
                        break;
                    }
                }
            }
            case 6 -> {
                cutLinks.clear();
                log("FAULT heal network");
            }
            case 7 -> { // crash a leader while writes it has sent out are not yet on its own disk
                for (int i : ids) {
                    SimNode s = nodes.get(i);
                    if (s.core != null && s.core.role() == Role.LEADER && !s.disk.idle()) {
                        log("FAULT crash leader %d with unforced writes", i);
                        s.crash();
                        schedule(20 + random.nextInt(400), Kind.RESTART, i, 0, null);
                        break;
                    }
                }
            }
            case 9 -> { // isolate the leader: the others elect another while it may still read from its lease
                for (int i : ids) {
                    SimNode s = nodes.get(i);
                    if (s.core != null && s.core.role() == Role.LEADER) {
                        for (int o : ids) {
                            cutLinks.add(link(i, o));
                            cutLinks.add(link(o, i));
                        }
                        log("FAULT isolate leader %d", i);
                        break;
                    }
                }
            }
            default -> {
                dropRate = random.nextDouble() * 0.2;
                duplicateRate = random.nextDouble() * 0.1;
                log("FAULT drop %.3f dup %.3f", dropRate, duplicateRate);
            }
        }
        // Faults go on until most operations have been issued; then everything heals.
        if (opsIssued < params.operations() * 6 / 10 && now < FAULT_PHASE_LIMIT) schedule(20 + random.nextInt(300), Kind.FAULT, 0, 0, null);
        else schedule(random.nextInt(100), Kind.HEAL, 0, 0, null);
    }

    private void heal() {
        if (healed) return;
        healed = true;
        healedAt = now;
        cutLinks.clear();
        dropRate = 0;
        duplicateRate = 0;
        // Raft is live only while a round trip with a disk write (broadcast time) is well under the election
        // timeout: a healed network meets that, or liveness would be judged where Raft does not promise it.
        maxDelay = Math.min(maxDelay, HEALED_MAX_DELAY);
        maxDiskLatency = Math.min(maxDiskLatency, HEALED_MAX_DELAY);
        for (int i = 1; i < nodes.size(); i++) {
            SimNode n = nodes.get(i);
            if (n.core == null && !n.removed) n.start();
        }
        log("HEAL at %d", now);
    }

    // ---------------------------------------------------------------- nodes

    /** A simulated server: a Raft core, its disk, and the key-value state machine it applies. */
    private final class SimNode {
        final int id;
        /** The voters it starts with when its disk holds no configuration: the cluster's, for a node that joins later. */
        final Set<Integer> bootstrap;
        final SimDisk disk = new SimDisk();
        RaftCore core;
        long incarnation;
        /** Taken out of the cluster, and stopped for good. */
        boolean removed;
        /** The admin has asked for its removal: it is never added back. */
        boolean leaving;
        Role lastRole = Role.FOLLOWER;
        SimStateMachine state = new SimStateMachine();
        /** The newest snapshot this node holds, taken or received, durable or not yet: what it sends a follower. */
        SimSnapshot latest;
        /** The snapshot state that came beside the message being stepped, if it is an InstallSnapshot. */
        SimSnapshot received;
        // The configuration its log says is in force, followed from what the core hands out to persist.
        Configuration baseConfig;
        final TreeMap<Long, Configuration> logConfigs = new TreeMap<>();
        Configuration checkedInForce;
        Configuration checkedExpected;
        final Map<Long, Request> pendingWrites = new HashMap<>();
        final Map<Long, Request> pendingReads = new HashMap<>();
        long nextReadContext;
        /** For each follower sent a snapshot, which send is the latest; an older send's timeout is stale. */
        final Map<Integer, Long> snapshotSends = new HashMap<>();
        long snapshotSendSeq;
        /** The highest commit index of this node, as leader, checked against the disks (this incarnation). */
        long durableChecked;
        // A steady clock (Reads.steadyClocks): its period, when it ticked first, and how often since.
        final double tickPeriod;
        long firstTickAt = -1;
        long ticksSinceFirst;

        SimNode(int id, Set<Integer> bootstrap) {
            this.id = id;
            this.bootstrap = Set.copyOf(bootstrap);
            // Drawn only for such runs: the runs Params.of makes draw exactly what they always did.
            this.tickPeriod = params.reads().steadyClocks()
                    ? TICK * (1 + params.reads().clockDrift() * random.nextDouble()) : TICK;
        }

        /** How long until this node's next tick, once it has ticked now. */
        long nextTickIn() {
            if (!params.reads().steadyClocks()) return TICK - 1 + random.nextInt(3);
            if (firstTickAt < 0) firstTickAt = now;
            ticksSinceFirst++;
            return Math.max(1, firstTickAt + (long) Math.floor(ticksSinceFirst * tickPeriod) - now);
        }

        void start() {
            incarnation++;
            durableChecked = 0;
            RaftConfig config = DefectSeam.with(RaftConfig.builder(id, bootstrap, new SplittableRandom(random.nextLong()))
                    .electionTicks(ELECTION_TICKS).heartbeatTicks(2)
                    .maxEntriesPerMessage(maxEntriesPerMessage).maxBytesPerMessage(4096)
                    .maxInflightMessages(maxInflight).preVote(preVote).checkQuorum(checkQuorum)
                    .readPolicy(params.reads().lease() ? ReadPolicy.LEASE : ReadPolicy.READ_INDEX)
                    .clockDriftTicks(Math.max(1, params.reads().driftBoundTicks()))
                    // Little of the applied log on the heap: catching a follower up reads entries back from the disk.
                    .logCacheBytes(1 + random.nextInt(2048)), params.defect()).build();
            SimSnapshot snap = disk.snapshot();
            List<Entry> tail = disk.log();
            core = new RaftCore(config, disk.hardState(), snap == null ? null : snap.meta(), tail);
            core.readFrom(disk::read);
            state = snap == null ? new SimStateMachine() : snap.state().copy();
            latest = snap;
            baseConfig = snap == null ? Configuration.ofVoters(bootstrap).withFeatureLevel(io.raftkv.raft.FeatureLevel.SUPPORTED) : snap.meta().configuration();
            logConfigs.clear();
            trackConfigs(tail);
            snapshotSends.clear();
            lastRole = Role.FOLLOWER;
            checker.onRestart(id, core.commitIndex());
            if (snap != null) checker.onSnapshot(id, snap);
            log("START node %d term %d log %d..%d%s", id, core.term(), core.log().firstIndex(), core.log().lastIndex(),
                    snap == null ? "" : " after " + snap.meta());
            afterInput();
        }

        void crash() {
            crashes++;
            if (!disk.idle() && random.nextBoolean()) {
                int kept = random.nextInt(disk.oldestUnforcedEntries() + 1);
                log("CRASH node %d (%s), tearing its oldest unforced write after %d entries", id, core, kept);
                disk.crashTearing(kept);
            } else {
                log("CRASH node %d (%s)", id, core);
                disk.crash();
            }
            core = null;
            pendingWrites.clear();
            pendingReads.clear();
        }

        /** Leaves the cluster for good: its removal has committed. */
        void stop() {
            log("STOP node %d, removed from the cluster", id);
            removed = true;
            nodesRemoved++;
            if (core != null) disk.crash();
            core = null;
            pendingWrites.clear();
            pendingReads.clear();
        }

        void afterInput() {
            while (core.hasReady()) {
                Ready r = core.ready();
                checker.onEntriesAppended(id, r.entries(), core.log());
                for (Message m : r.messages()) sendOut(m);
                SimSnapshot install = null;
                if (r.snapshot() != null) install = installReceived(r.snapshot());
                trackConfigs(r.entries());
                for (Entry e : r.committedEntries()) apply(e);
                for (ReadState rs : r.readStates()) {
                    Request req = pendingReads.remove(rs.context());
                    if (req != null) sendToClient(req.client, Reply.ok(req, state.get(req.key)));
                }
                for (long ctx : r.droppedReads()) {
                    Request req = pendingReads.remove(ctx);
                    if (req != null) sendToClient(req.client, Reply.redirect(req, r.leader()));
                }
                if (lastRole == Role.LEADER && r.role() != Role.LEADER) failPending(r.leader());
                if (lastRole != Role.LEADER && r.role() == Role.LEADER && leaderChurn && !healed && random.nextInt(4) != 0) {
                    schedule(1 + random.nextInt(4 * maxDelay), Kind.CRASH, id, incarnation, null);
                }
                lastRole = r.role();
                if (r.mustPersist() || !disk.idle()) {
                    // A received snapshot goes to disk with the ready, before the acknowledgement that follows it.
                    disk.write(r.copy(), install); // held until forced: the core refills its own ready
                    // Forces complete in order, each after a random latency.
                    schedule(random.nextInt(maxDiskLatency), Kind.DISK, id, incarnation, null);
                } else {
                    for (Message m : r.messagesAfterPersist()) sendOut(m);
                    core.advance(r);
                }
            }
            Configuration inForce = core.configuration(), expected = expectedConfiguration();
            // Compare only what changed: the same two objects were found equal before.
            boolean configChecked = inForce == checkedInForce && expected == checkedExpected;
            checker.afterStep(core, configChecked ? null : expected);
            checkedInForce = inForce;
            checkedExpected = expected;
            checkDurable();
            if (healed && !leaderAfterHeal && SafetyChecker.isSoleLeader(core, allCores())) leaderAfterHeal = true;
        }

        /**
         * Every entry a leader commits is durable on a majority of its voters (forced, not merely written): a
         * crash of all of them at once must not lose it. Checked at the commit index when it moves to an entry
         * of the leader's own term.
         */
        void checkDurable() {
            if (core.role() != Role.LEADER) return;
            long c = core.commitIndex();
            if (c <= durableChecked || c < core.log().firstIndex()) return;
            durableChecked = c;
            long term = core.log().term(c);
            // Only an entry of its own term is one this leader committed by counting; one of an earlier term
            // it learned as committed, under a configuration that may since have grown by a server that lacks it
            // (a majority of the old and of the new configuration still overlap). Log matching carries the check
            // back from the leader's own entries to those before them.
            if (term != core.term()) return;
            // The commit may have been made under the configuration committed before the one now in force (a
            // change appended in the same step); one server at a time, a majority of either overlaps the other's.
            Set<Integer> inForce = core.configuration().voters();
            Set<Integer> committed = core.committedConfiguration().voters();
            if (!durableOnMajority(inForce, c, term) && !durableOnMajority(committed, c, term)) {
                throw new SafetyViolation("durability", "leader " + id + " of term " + core.term() + " commits " + c + "@"
                        + term + ", which is forced on no majority of its voters " + inForce + " (" + holding(inForce, c, term)
                        + " of them), nor of " + committed + " (" + holding(committed, c, term) + ")");
            }
        }

        private boolean durableOnMajority(Set<Integer> voters, long index, long term) {
            return holding(voters, index, term) > voters.size() / 2;
        }

        private int holding(Set<Integer> voters, long index, long term) {
            int holding = 0;
            for (int v : voters) {
                SimNode n = v < nodes.size() ? nodes.get(v) : null;
                if (n != null && n.disk.holds(index, term)) holding++;
            }
            return holding;
        }

        void forceOne() {
            SimDisk.Write w = disk.forceOldest();
            if (w.ready() != null) {
                for (Message m : w.ready().messagesAfterPersist()) sendOut(m);
                core.advance(w.ready());
            }
            afterInput();
        }

        private void sendOut(Message m) {
            if (!(m instanceof Message.InstallSnapshot is)) {
                send(m, null);
                return;
            }
            if (latest == null || !latest.meta().equals(is.snapshot())) {
                throw new IllegalStateException("node " + id + " was asked to send " + is.snapshot() + " but holds "
                        + (latest == null ? "no snapshot" : latest.meta()));
            }
            snapshotsSent++;
            long seq = ++snapshotSendSeq;
            snapshotSends.put(is.to(), seq);
            // As the runtime's sender: if the follower has not taken it by then, the leader probes it again.
            schedule(2L * ELECTION_TICKS * TICK, Kind.SNAPSHOT_TIMEOUT, id, incarnation, new long[] {is.to(), seq});
            log("SEND %s to node %d", is.snapshot(), is.to());
            send(m, latest);
        }

        void snapshotSendTimedOut(long[] send) {
            int peer = (int) send[0];
            Long latestSend = snapshotSends.get(peer);
            if (latestSend == null || latestSend != send[1]) return;
            snapshotSends.remove(peer);
            Progress pr = core.progress(peer);
            if (pr != null && pr.state() == Progress.State.SNAPSHOT) {
                log("node %d: sending its snapshot to node %d failed", id, peer);
                core.reportSnapshotFailed(peer);
                afterInput();
            }
        }

        /** Restores the state machine from the snapshot the leader sent, which the core decided to take. */
        private SimSnapshot installReceived(SnapshotMeta meta) {
            SimSnapshot s = received;
            if (s == null || !s.meta().equals(meta)) {
                throw new IllegalStateException("node " + id + " must install " + meta + " but was handed "
                        + (s == null ? "no snapshot" : s.meta()));
            }
            checker.onSnapshot(id, s);
            state = s.state().copy();
            latest = s;
            baseConfig = meta.configuration();
            logConfigs.clear();
            snapshotsInstalled++;
            log("INSTALL node %d %s", id, meta);
            return s;
        }

        /** Snapshots the state machine once enough has been applied since the last snapshot (now and then sooner), and compacts. */
        void maybeSnapshot() {
            if (snapshotEvery == 0 || core == null) return;
            long applied = core.log().applied();
            long last = latest == null ? 0 : latest.meta().index();
            if (applied <= last || (applied - last < snapshotEvery && random.nextInt(64) != 0)) return;
            SnapshotMeta meta = core.snapshotMeta(applied);
            SimSnapshot s = new SimSnapshot(meta, state.copy());
            core.snapshotTaken(meta);
            latest = s;
            snapshotsTaken++;
            checker.onSnapshot(id, s);
            disk.writeSnapshot(s);
            schedule(random.nextInt(maxDiskLatency), Kind.DISK, id, incarnation, null);
            // Sometimes keep a few entries, so a follower just behind gets them rather than the snapshot.
            int keep = random.nextBoolean() ? 0 : 1 + random.nextInt(5);
            long to = Math.min(applied - keep, core.log().stable());
            core.compact(to); // which also drops entries released from the heap up to the snapshot
            log("SNAPSHOT node %d %s, log now %d..%d", id, meta, core.log().firstIndex(), core.log().lastIndex());
        }

        private void trackConfigs(List<Entry> entries) {
            if (entries.isEmpty()) return;
            logConfigs.tailMap(entries.get(0).index(), true).clear();
            for (Entry e : entries) {
                if (e.kind() == Entry.Kind.CONFIG) logConfigs.put(e.index(), Configuration.decode(e.data()));
            }
        }

        /** The last configuration in this node's log, else its snapshot's, else the one it started with. */
        Configuration expectedConfiguration() {
            return logConfigs.isEmpty() ? baseConfig : logConfigs.lastEntry().getValue();
        }

        private void apply(Entry e) {
            checker.onApplied(id, e);
            if (e.kind() != Entry.Kind.COMMAND) return;
            SimCommand c = SimCommand.decode(e.data());
            String result = state.apply(c);
            if (result == null) return; // an older request of a client that has moved on
            Request req = pendingWrites.remove(sessionKey(c.clientId(), c.seq()));
            if (req != null) sendToClient(req.client, Reply.ok(req, result));
        }

        void onRequest(Request req) {
            if (req.kind == OpKind.GET && params.staleReads()) {
                sendToClient(req.client, Reply.ok(req, state.get(req.key)));
            } else if (req.kind == OpKind.GET) {
                long ctx = ++nextReadContext;
                if (core.readIndex(ctx)) pendingReads.put(ctx, req);
                else sendToClient(req.client, Reply.redirect(req, core.leader()));
            } else {
                if (state.lastSeq(req.client) == req.seq) {
                    sendToClient(req.client, Reply.ok(req, state.lastResult(req.client)));
                    return;
                }
                long key = sessionKey(req.client, req.seq);
                if (pendingWrites.containsKey(key)) {
                    // Already in our log this term: answer the retry when that entry applies, rather
                    // than append a copy per retry and bury the log under duplicates.
                    pendingWrites.put(key, req);
                    return;
                }
                SimCommand c = new SimCommand(req.client, req.seq, req.kind, req.key, req.value, req.expected);
                long index = core.propose(c.encode());
                if (index == RaftCore.REJECTED) {
                    sendToClient(req.client, Reply.redirect(req, core.leader()));
                } else if (index == RaftCore.BUSY) {
                    sendToClient(req.client, Reply.redirect(req, RaftCore.NONE)); // too much uncommitted: come back later
                } else {
                    pendingWrites.put(key, req);
                }
            }
            afterInput();
        }

        private void failPending(int leaderHint) {
            for (Request req : pendingWrites.values()) sendToClient(req.client, Reply.redirect(req, leaderHint));
            for (Request req : pendingReads.values()) sendToClient(req.client, Reply.redirect(req, leaderHint));
            pendingWrites.clear();
            pendingReads.clear();
        }
    }

    private static long sessionKey(int client, long seq) {
        return ((long) client << 40) ^ seq;
    }

    // ---------------------------------------------------------------- membership

    /**
     * An operator changing the membership during the fault phase, one server at a time, through whichever
     * node leads: it adds a new node as a learner and promotes it once it keeps up (as RaftNode.addVoter
     * does, in simulated time), and removes voters, the leader included, never going below
     * {@link #MIN_VOTERS} voters or above {@link #MAX_NODES} running nodes. A removed node is stopped once
     * its removal has committed.
     */
    private final class Admin {
        static final int CHANGE_TIMEOUT = 3000;

        /** The node being added or removed, or 0 when no change is under way. */
        int node;
        boolean adding;
        long deadline;
        // The current catch-up round of a learner: the leader's last index when it began, and when.
        int roundLeader;
        long roundTarget;
        long roundStart;

        void step() {
            Configuration committed = checker.committedConfiguration();
            for (int id = 1; id < nodes.size(); id++) {
                SimNode n = nodes.get(id);
                if (n.leaving && !n.removed && !committed.contains(id)) n.stop();
            }
            if (node != 0) advance(committed);
            if (node == 0 && !healed && random.nextInt(3) == 0) startChange();
        }

        private void begin(int id, boolean add) {
            node = id;
            adding = add;
            deadline = now + CHANGE_TIMEOUT;
            roundLeader = 0;
            log("ADMIN %s node %d", add ? "add" : "remove", id);
            advance(checker.committedConfiguration());
        }

        private void startChange() {
            SimNode leader = soleLeader();
            if (leader == null) return;
            RaftCore core = leader.core;
            Configuration c = core.configuration();
            if (core.log().lastConfigIndex() > core.commitIndex()) return;
            List<Integer> active = activeIds();
            // Finish what was left half done: a removal, or a node that is not yet a voter.
            for (int id : active) {
                if (nodes.get(id).leaving && c.contains(id) && (c.isLearner(id) || c.voters().size() > MIN_VOTERS)) {
                    begin(id, false);
                    return;
                }
            }
            for (int id : active) {
                if (!nodes.get(id).leaving && !c.isVoter(id)) {
                    begin(id, true);
                    return;
                }
            }
            boolean canRemove = c.voters().size() > MIN_VOTERS;
            if (active.size() < MAX_NODES && (!canRemove || random.nextBoolean())) {
                int id = nodes.size();
                // As Cluster.addNode: the first configuration, the one in force before the log's first entry.
                SimNode n = new SimNode(id, nodes.get(1).bootstrap);
                nodes.add(n);
                n.start();
                schedule(1 + random.nextInt(TICK), Kind.TICK, id, 0, null);
                begin(id, true);
            } else if (canRemove) {
                List<Integer> voters = new ArrayList<>(c.voters());
                int victim = random.nextInt(3) == 0 ? leader.id : voters.get(random.nextInt(voters.size()));
                nodes.get(victim).leaving = true;
                begin(victim, false);
            }
        }

        private void advance(Configuration committed) {
            if (adding ? committed.isVoter(node) : !committed.contains(node)) {
                log("ADMIN %s node %d: done, %s committed", adding ? "add" : "remove", node, committed);
                if (adding) nodesAdded++;
                else if (!nodes.get(node).removed) nodes.get(node).stop();
                node = 0;
                return;
            }
            if (now > deadline) {
                log("ADMIN %s node %d: gave up", adding ? "add" : "remove", node);
                node = 0;
                return;
            }
            if (healed) return; // no new proposals once the faults are over: the membership is final
            SimNode leader = soleLeader();
            if (leader == null) return;
            RaftCore core = leader.core;
            Configuration c = core.configuration();
            if (core.log().lastConfigIndex() > core.commitIndex()) return; // one change at a time
            try {
                if (!adding) {
                    if (!c.contains(node)) return;
                    if (c.isVoter(node) && c.voters().size() <= MIN_VOTERS) {
                        node = 0;
                        return;
                    }
                    propose(leader, ConfigChange.remove(node));
                } else if (!c.contains(node)) {
                    propose(leader, ConfigChange.addLearner(node));
                } else if (c.isLearner(node)) {
                    Progress pr = core.progress(node);
                    if (pr == null) return;
                    if (roundLeader != leader.id) {
                        roundLeader = leader.id;
                        roundTarget = core.log().lastIndex();
                        roundStart = now;
                    } else if (pr.match() >= roundTarget) {
                        if (now - roundStart <= (long) ELECTION_TICKS * TICK) {
                            propose(leader, ConfigChange.promote(node));
                        } else {
                            roundTarget = core.log().lastIndex();
                            roundStart = now;
                        }
                    }
                }
            } catch (IllegalStateException retryLater) {
                // The leader has not yet committed an entry of its term: try again on the next step.
            } catch (IllegalArgumentException e) {
                log("ADMIN %s node %d: %s", adding ? "add" : "remove", node, e.getMessage());
                node = 0;
            }
        }

        private void propose(SimNode leader, ConfigChange change) {
            long index = leader.core.proposeConfigChange(change);
            log("ADMIN node %d proposes %s %s at %d", leader.id, change.kind(), change.node(), index);
            leader.afterInput();
        }
    }

    // ---------------------------------------------------------------- clients

    /** A client request on the simulated wire; {@code attempt} tells a reply to an old try from the current one. */
    private record Request(int client, long attempt, long seq, OpKind kind, String key, String value, String expected) {}

    private record Reply(int client, long attempt, boolean ok, String output, int leaderHint) {
        static Reply ok(Request r, String output) {
            return new Reply(r.client, r.attempt, true, output, 0);
        }

        static Reply redirect(Request r, int leader) {
            return new Reply(r.client, r.attempt, false, null, leader);
        }
    }

    /** A simulated client: one operation at a time, retried with the same sequence number until it answers or its deadline passes. */
    private final class SimClient {
        static final int ATTEMPT_TIMEOUT = 60;
        static final int GIVE_UP_AFTER = 2000;

        final int id;
        long seq;
        long attempt;
        Request current;
        long callTime;
        long callStamp;
        long deadline;
        int target;
        boolean done;
        /** Writes of the kind that was REPLACE alone before: every other one is a DELETE or a CAS. */
        int rareWrites;
        /** The value this client last read or wrote for each key (absent: null), which its CASes expect. */
        final Map<String, String> lastSeen = new HashMap<>();

        SimClient(int id) {
            this.id = id;
            this.target = 1;
        }

        void next() {
            if (opsIssued >= params.operations()) {
                done = true;
                return;
            }
            opsIssued++;
            String key = "k" + random.nextInt(8);
            int p = random.nextInt(10);
            // The same draws as before DELETE and CAS (a seed's faults and timing stay as they were): the
            // last tenth, REPLACE's, is shared by REPLACE, DELETE and CAS in turn.
            OpKind kind = p < 4 ? OpKind.PUT : p < 8 ? OpKind.GET : p < 9 ? OpKind.REPLACE
                    : rareWrites++ % 2 == 0 ? OpKind.DELETE : OpKind.CAS;
            String value = kind == OpKind.GET || kind == OpKind.DELETE ? null : "c" + id + "-" + (seq + 1);
            String expected = kind == OpKind.CAS ? lastSeen.get(key) : null;
            if (kind != OpKind.GET) seq++;
            callTime = now;
            callStamp = ++historyClock;
            deadline = now + GIVE_UP_AFTER;
            current = new Request(id, attempt, seq, kind, key, value, expected);
            trySend();
        }

        private void trySend() {
            Request r = new Request(id, ++attempt, current.seq, current.kind, current.key, current.value, current.expected);
            current = r;
            // A read may go anywhere: a follower asks the leader for a read index.
            sendToNode(r.kind == OpKind.GET && params.reads().fromAnyNode() ? randomActive() : target, r);
            schedule(ATTEMPT_TIMEOUT, Kind.CLIENT_TIMEOUT, id, r.attempt, null);
        }

        void onReply(Reply reply) {
            if (current == null || reply.attempt() != current.attempt) return;
            if (reply.ok()) {
                long ret = ++historyClock;
                history.add(new Operation(id, callStamp, ret, current.kind, current.key, current.value, reply.output(),
                        current.expected));
                switch (current.kind) {
                    case GET -> lastSeen.put(current.key, reply.output());
                    case PUT -> lastSeen.put(current.key, current.value);
                    case DELETE -> lastSeen.put(current.key, null);
                    case REPLACE, CAS -> {
                        if ("true".equals(reply.output())) lastSeen.put(current.key, current.value);
                    }
                }
                current = null;
                schedule(random.nextInt(5), Kind.CLIENT_NEXT, id, 0, null);
            } else {
                // Redirected: try the named leader (or any node) again shortly, with the same sequence number.
                target = reply.leaderHint() != RaftCore.NONE ? reply.leaderHint() : randomActive();
                schedule(1 + random.nextInt(5), Kind.CLIENT_RETRY, id, current.attempt, null);
            }
        }

        void onRetry(long forAttempt) {
            if (current != null && forAttempt == current.attempt) trySend();
        }

        void onTimeout(long forAttempt) {
            if (current == null || forAttempt != current.attempt) return;
            if (now >= deadline) {
                if (judgeLiveness && healed && callTime >= healedAt) {
                    throw new SafetyViolation("liveness", "client " + id + " could not finish " + current
                            + " within " + GIVE_UP_AFTER + " time units; it was called at " + callTime
                            + ", after the faults healed at " + healedAt);
                }
                // Outcome unknown: the write may still take effect, at any time after its call.
                history.add(new Operation(id, callStamp, Operation.PENDING, current.kind, current.key, current.value, null,
                        current.expected));
                current = null;
                schedule(random.nextInt(5), Kind.CLIENT_NEXT, id, 0, null);
                return;
            }
            target = randomActive();
            trySend();
        }
    }

    private void log(String format, Object... args) {
        if (trace != null) trace.printf("%8d  %s%n", now, String.format(format, args));
    }
}

package io.raftkv.sim;

import io.raftkv.lincheck.OpKind;
import io.raftkv.lincheck.Operation;
import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One deterministic run of a whole cluster from a seed: N Raft cores on a simulated clock, a network
 * that drops, duplicates, delays, reorders and partitions, disks that lose unforced writes on a crash,
 * and clients issuing PUT / GET / REPLACE. Every event is followed by the safety checks; after the
 * faults heal the cluster must elect a leader and finish every new operation in bounded time.
 */
final class Simulation {
    /** Simulated time units per tick of a node. */
    static final int TICK = 5;
    static final int ELECTION_TICKS = 10;
    /** Faults stop by this time even if the clients are stuck (say, with no majority up). */
    static final int FAULT_PHASE_LIMIT = 30_000;

    /** What a run is made of; everything derives from the seed unless a test overrides it. */
    record Params(long seed, int nodes, int clients, int operations, RaftConfig.Defect defect, boolean faults,
                  boolean staleReads, boolean leaderChurn) {
        /** The run a seed stands for: a quarter of seeds crash new leaders again and again. */
        static Params of(long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            boolean churn = r.nextInt(4) == 0;
            return new Params(seed, churn || r.nextBoolean() ? 5 : 3, 2 + r.nextInt(5), 300, RaftConfig.Defect.NONE,
                    true, false, churn);
        }

        Params withDefect(RaftConfig.Defect d) {
            return new Params(seed, nodes, clients, operations, d, faults, staleReads, leaderChurn);
        }

        /** A known-bad server that answers GET from whatever node it reaches, without ReadIndex. */
        Params withStaleReads() {
            return new Params(seed, nodes, clients, operations, defect, faults, true, leaderChurn);
        }

        /**
         * Five nodes whose leaders are crashed soon after they win, while their logs still differ
         * from the others': the ground on which the paper's Figure 8 is built.
         */
        Params withLeaderChurn() {
            return new Params(seed, 5, clients, operations, defect, faults, staleReads, true);
        }
    }

    /** What a run did. */
    record Result(long seed, long steps, long simulatedTime, List<Operation> history, int leadersElected,
                  long committed, int crashes, int faults) {}

    private final Params params;
    private final SplittableRandom random;
    private final PrintStream trace;
    private final SafetyChecker checker = new SafetyChecker();
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final SimNode[] nodes;
    private final SimClient[] clients;
    private final List<Operation> history = new ArrayList<>();

    // Network settings; the fault phase changes them, healing clears them.
    private final Set<Long> cutLinks = new HashSet<>();
    private double dropRate;
    private double duplicateRate;
    private int maxDelay;
    /** Longest time a write waits to be forced; a crash loses what is still waiting. */
    private final int maxDiskLatency;

    // Knobs of this run, drawn from the seed.
    private final int maxEntriesPerMessage;
    private final int maxInflight;
    private final boolean preVote;
    private final boolean checkQuorum;
    /** Whether new leaders are often crashed soon after they win, while their logs still differ from the others'. */
    private final boolean leaderChurn;
    /** A deliberately broken protocol need not stay live; only its safety is judged. */
    private final boolean judgeLiveness;

    private long now;
    private long steps;
    private long eventSeq;
    private long historyClock;
    private int opsIssued;
    private int crashes;
    private int faultCount;
    private boolean healed;
    private long healedAt = -1;
    private boolean leaderAfterHeal;

    Simulation(Params params, PrintStream trace) {
        this.params = params;
        this.random = new SplittableRandom(params.seed() * 0x9E3779B97F4A7C15L + 1);
        this.trace = trace;
        this.leaderChurn = params.leaderChurn() && params.faults();
        this.judgeLiveness = params.defect() == RaftConfig.Defect.NONE;
        // Leader churn wants old entries sent one per message, so that a leader may have some of them
        // on a majority before its own no-op.
        this.maxEntriesPerMessage = leaderChurn ? pick(1, 1, 2, 8) : pick(1, 2, 8, 256);
        this.maxInflight = pick(1, 2, 16, 256);
        this.preVote = random.nextInt(4) != 0;
        this.checkQuorum = random.nextInt(4) != 0;
        this.maxDelay = pick(2, 10, 30);
        this.maxDiskLatency = pick(1, 4, maxDelay);
        this.dropRate = params.faults() ? random.nextDouble() * 0.1 : 0;
        this.duplicateRate = params.faults() ? random.nextDouble() * 0.05 : 0;
        this.nodes = new SimNode[params.nodes() + 1];
        for (int id = 1; id <= params.nodes(); id++) nodes[id] = new SimNode(id);
        this.clients = new SimClient[params.clients()];
        for (int c = 0; c < clients.length; c++) clients[c] = new SimClient(c + 1);
        log("seed %d: %d nodes, %d clients, %d ops, maxEntries %d, maxInflight %d, preVote %b, checkQuorum %b, "
                        + "delay<=%d, drop %.3f, dup %.3f, defect %s",
                params.seed(), params.nodes(), params.clients(), params.operations(), maxEntriesPerMessage, maxInflight,
                preVote, checkQuorum, maxDelay, maxDiskLatency, dropRate, duplicateRate, leaderChurn, params.defect());
    }

    private int pick(int... choices) {
        return choices[random.nextInt(choices.length)];
    }

    // ---------------------------------------------------------------- the event loop

    private enum Kind { TICK, DELIVER, DISK, CLIENT_REQUEST, CLIENT_REPLY, CLIENT_TIMEOUT, CLIENT_RETRY, CLIENT_NEXT, FAULT, CRASH, RESTART, HEAL }

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

    private void schedule(long delay, Kind kind, int target, long tag, Object payload) {
        events.add(new Event(now + delay, eventSeq++, kind, target, tag, payload));
    }

    Result run() {
        for (int id = 1; id < nodes.length; id++) {
            nodes[id].start();
            schedule(1 + random.nextInt(TICK), Kind.TICK, id, 0, null);
        }
        for (SimClient c : clients) schedule(random.nextInt(10), Kind.CLIENT_NEXT, c.id, 0, null);
        if (params.faults()) schedule(50 + random.nextInt(200), Kind.FAULT, 0, 0, null);
        else heal();

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
                crashes, faultCount);
    }

    private void handle(Event e) {
        switch (e.kind) {
            case TICK -> {
                SimNode n = nodes[e.target];
                if (n.core != null) {
                    n.core.tick();
                    n.afterInput();
                }
                schedule(TICK - 1 + random.nextInt(3), Kind.TICK, e.target, 0, null);
            }
            case DELIVER -> {
                Message m = (Message) e.payload;
                SimNode n = nodes[m.to()];
                if (n.core != null) {
                    log("deliver %s", m);
                    n.core.step(m);
                    n.afterInput();
                }
            }
            case DISK -> {
                SimNode n = nodes[e.target];
                if (n.core != null && n.incarnation == e.tag) n.forceOne();
            }
            case CLIENT_REQUEST -> {
                SimNode n = nodes[e.target];
                if (n.core != null) n.onRequest((Request) e.payload);
            }
            case CLIENT_REPLY -> clients[e.target - 1].onReply((Reply) e.payload);
            case CLIENT_TIMEOUT -> clients[e.target - 1].onTimeout(e.tag);
            case CLIENT_RETRY -> clients[e.target - 1].onRetry(e.tag);
            case CLIENT_NEXT -> clients[e.target - 1].next();
            case FAULT -> injectFault();
            case CRASH -> {
                SimNode n = nodes[e.target];
                if (!healed && n.core != null && n.incarnation == e.tag) {
                    n.crash();
                    schedule(5 + random.nextInt(100), Kind.RESTART, e.target, 0, null);
                }
            }
            case RESTART -> {
                SimNode n = nodes[e.target];
                if (n.core == null) n.start();
            }
            case HEAL -> heal();
        }
    }

    private boolean allClientsDone() {
        for (SimClient c : clients) if (!c.done) return false;
        return true;
    }

    // ---------------------------------------------------------------- network

    private static long link(int from, int to) {
        return ((long) from << 32) | to;
    }

    private void send(Message m) {
        if (cutLinks.contains(link(m.from(), m.to()))) return;
        if (random.nextDouble() < dropRate) return;
        schedule(1 + random.nextInt(maxDelay), Kind.DELIVER, m.to(), 0, m);
        if (random.nextDouble() < duplicateRate) schedule(1 + random.nextInt(maxDelay * 3), Kind.DELIVER, m.to(), 0, m);
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
        int n = params.nodes();
        switch (random.nextInt(9)) {
            case 0 -> { // partition into two random groups
                cutLinks.clear();
                boolean[] side = new boolean[n + 1];
                for (int i = 1; i <= n; i++) side[i] = random.nextBoolean();
                for (int a = 1; a <= n; a++)
                    for (int b = 1; b <= n; b++)
                        if (side[a] != side[b]) cutLinks.add(link(a, b));
                log("FAULT partition %s", cutLinks.size());
            }
            case 1 -> { // isolate one node
                int x = 1 + random.nextInt(n);
                for (int o = 1; o <= n; o++) {
                    cutLinks.add(link(x, o));
                    cutLinks.add(link(o, x));
                }
                log("FAULT isolate %d", x);
            }
            case 2 -> { // cut one direction
                int a = 1 + random.nextInt(n), b = 1 + random.nextInt(n);
                cutLinks.add(link(a, b));
                log("FAULT cut %d->%d", a, b);
            }
            case 3, 4 -> { // crash a node; it comes back later with only what it forced to disk
                int x = 1 + random.nextInt(n);
                if (nodes[x].core != null) {
                    nodes[x].crash();
                    schedule(20 + random.nextInt(400), Kind.RESTART, x, 0, null);
                }
            }
            case 5 -> { // leadership transfer to a random node
                for (int i = 1; i <= n; i++) {
                    SimNode s = nodes[i];
                    if (s.core != null && s.core.role() == Role.LEADER) {
                        int target = 1 + random.nextInt(n);
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
                for (int i = 1; i <= n; i++) {
                    SimNode s = nodes[i];
                    if (s.core != null && s.core.role() == Role.LEADER && !s.disk.idle()) {
                        log("FAULT crash leader %d with unforced writes", i);
                        s.crash();
                        schedule(20 + random.nextInt(400), Kind.RESTART, i, 0, null);
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
        for (int i = 1; i < nodes.length; i++) if (nodes[i].core == null) nodes[i].start();
        log("HEAL at %d", now);
    }

    // ---------------------------------------------------------------- nodes

    /** A simulated server: a Raft core, its disk, and the key-value state machine it applies. */
    private final class SimNode {
        final int id;
        final SimDisk disk = new SimDisk();
        RaftCore core;
        long incarnation;
        Role lastRole = Role.FOLLOWER;
        final Map<String, String> kv = new HashMap<>();
        final Map<Integer, long[]> sessionSeq = new HashMap<>();
        final Map<Integer, String> sessionResult = new HashMap<>();
        final Map<Long, Request> pendingWrites = new HashMap<>();
        final Map<Long, Request> pendingReads = new HashMap<>();
        long nextReadContext;

        SimNode(int id) {
            this.id = id;
        }

        void start() {
            incarnation++;
            Set<Integer> voters = new HashSet<>();
            for (int i = 1; i <= params.nodes(); i++) voters.add(i);
            RaftConfig config = RaftConfig.builder(id, voters, new SplittableRandom(random.nextLong()))
                    .electionTicks(ELECTION_TICKS).heartbeatTicks(2)
                    .maxEntriesPerMessage(maxEntriesPerMessage).maxBytesPerMessage(4096)
                    .maxInflightMessages(maxInflight).preVote(preVote).checkQuorum(checkQuorum)
                    .defectForTesting(params.defect()).build();
            core = new RaftCore(config, disk.hardState(), disk.log());
            kv.clear();
            sessionSeq.clear();
            sessionResult.clear();
            lastRole = Role.FOLLOWER;
            checker.onRestart(id, core.commitIndex());
            log("START node %d term %d log %d", id, core.term(), core.log().lastIndex());
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

        void afterInput() {
            while (core.hasReady()) {
                Ready r = core.ready();
                checker.onEntriesAppended(id, r.entries(), core.log());
                for (Message m : r.messages()) send(m);
                for (Entry e : r.committedEntries()) apply(e);
                for (ReadState rs : r.readStates()) {
                    Request req = pendingReads.remove(rs.context());
                    if (req != null) sendToClient(req.client, Reply.ok(req, kv.get(req.key)));
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
                    disk.write(r);
                    // Forces complete in order, each after a random latency.
                    schedule(random.nextInt(maxDiskLatency), Kind.DISK, id, incarnation, null);
                } else {
                    for (Message m : r.messagesAfterPersist()) send(m);
                    core.advance(r);
                }
            }
            checker.afterStep(core);
            if (healed && !leaderAfterHeal && leaderNow()) leaderAfterHeal = true;
        }

        void forceOne() {
            Ready r = disk.forceOldest();
            for (Message m : r.messagesAfterPersist()) send(m);
            core.advance(r);
            afterInput();
        }

        private boolean leaderNow() {
            List<RaftCore> all = new ArrayList<>();
            for (int i = 1; i < nodes.length; i++) all.add(nodes[i].core);
            return SafetyChecker.isSoleLeader(core, all);
        }

        private void apply(Entry e) {
            checker.onApplied(id, e);
            if (e.kind() != Entry.Kind.COMMAND) return;
            SimCommand c = SimCommand.decode(e.data());
            long[] last = sessionSeq.computeIfAbsent(c.clientId(), k -> new long[] {0});
            String result;
            if (c.seq() > last[0]) {
                result = switch (c.kind()) {
                    case PUT -> {
                        kv.put(c.key(), c.value());
                        yield "ok";
                    }
                    case REPLACE -> {
                        boolean present = kv.containsKey(c.key());
                        if (present) kv.put(c.key(), c.value());
                        yield Boolean.toString(present);
                    }
                    case GET -> throw new IllegalStateException("GET is never written to the log");
                };
                last[0] = c.seq();
                sessionResult.put(c.clientId(), result);
            } else if (c.seq() == last[0]) {
                result = sessionResult.get(c.clientId()); // a retry: the first answer again
            } else {
                return; // an older request of a client that has moved on
            }
            Request req = pendingWrites.remove(sessionKey(c.clientId(), c.seq()));
            if (req != null) sendToClient(req.client, Reply.ok(req, result));
        }

        void onRequest(Request req) {
            if (req.kind == OpKind.GET && params.staleReads()) {
                sendToClient(req.client, Reply.ok(req, kv.get(req.key)));
            } else if (req.kind == OpKind.GET) {
                long ctx = ++nextReadContext;
                if (core.readIndex(ctx)) pendingReads.put(ctx, req);
                else sendToClient(req.client, Reply.redirect(req, core.leader()));
            } else {
                long[] last = sessionSeq.get(req.client);
                if (last != null && last[0] == req.seq) {
                    sendToClient(req.client, Reply.ok(req, sessionResult.get(req.client)));
                    return;
                }
                long key = sessionKey(req.client, req.seq);
                if (pendingWrites.containsKey(key)) {
                    // Already in our log this term: answer the retry when that entry applies, rather
                    // than append a copy per retry and bury the log under duplicates.
                    pendingWrites.put(key, req);
                    return;
                }
                SimCommand c = new SimCommand(req.client, req.seq, req.kind, req.key, req.value);
                if (core.propose(c.encode()) == RaftCore.REJECTED) {
                    sendToClient(req.client, Reply.redirect(req, core.leader()));
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

    // ---------------------------------------------------------------- clients

    /** A client request on the simulated wire; {@code attempt} tells a reply to an old try from the current one. */
    private record Request(int client, long attempt, long seq, OpKind kind, String key, String value) {}

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
            OpKind kind = p < 4 ? OpKind.PUT : p < 8 ? OpKind.GET : OpKind.REPLACE;
            String value = kind == OpKind.GET ? null : "c" + id + "-" + (seq + 1);
            if (kind != OpKind.GET) seq++;
            callTime = now;
            callStamp = ++historyClock;
            deadline = now + GIVE_UP_AFTER;
            current = new Request(id, attempt, seq, kind, key, value);
            trySend();
        }

        private void trySend() {
            Request r = new Request(id, ++attempt, current.seq, current.kind, current.key, current.value);
            current = r;
            sendToNode(target, r);
            schedule(ATTEMPT_TIMEOUT, Kind.CLIENT_TIMEOUT, id, r.attempt, null);
        }

        void onReply(Reply reply) {
            if (current == null || reply.attempt() != current.attempt) return;
            if (reply.ok()) {
                long ret = ++historyClock;
                history.add(new Operation(id, callStamp, ret, current.kind, current.key, current.value, reply.output()));
                current = null;
                schedule(random.nextInt(5), Kind.CLIENT_NEXT, id, 0, null);
            } else {
                // Redirected: try the named leader (or any node) again shortly, with the same sequence number.
                target = reply.leaderHint() != RaftCore.NONE ? reply.leaderHint() : 1 + random.nextInt(params.nodes());
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
                history.add(new Operation(id, callStamp, Operation.PENDING, current.kind, current.key, current.value, null));
                current = null;
                schedule(random.nextInt(5), Kind.CLIENT_NEXT, id, 0, null);
                return;
            }
            target = 1 + random.nextInt(params.nodes());
            trySend();
        }
    }

    private void log(String format, Object... args) {
        if (trace != null) trace.printf("%8d  %s%n", now, String.format(format, args));
    }
}

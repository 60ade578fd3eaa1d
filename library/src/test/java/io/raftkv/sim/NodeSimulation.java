package io.raftkv.sim;

import io.raftkv.raft.DefectSeam;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvConnector;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
import io.raftkv.kv.KvService;
import io.raftkv.kv.KvSimClients;
import io.raftkv.kv.KvSimCommands;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.client.SessionExpiredException;
import io.raftkv.kv.KvStateMachine;
import io.raftkv.lincheck.OpKind;
import io.raftkv.lincheck.Operation;
import io.raftkv.node.NodeDriver;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.RaftNode;
import io.raftkv.node.Reply;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.node.StateMachine;
import io.raftkv.raft.ConfigChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.raft.Role;
import io.raftkv.storage.SimulatedDisk;
import io.raftkv.transport.Transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One deterministic run, from a seed, of whole nodes: the production {@link RaftNode} (its loop's passes made
 * one at a time on a simulated clock), the production {@link KvStateMachine} with sessions, and the production
 * {@code FileStorage} on a simulated disk that a power cut leaves torn ({@link SimulatedDisk}). Around them: a
 * network that drops, duplicates, delays (now and then past an election timeout) and partitions; nodes that
 * lose power and restart from what their disk kept, that pause (keeping every bit of volatile state while
 * messages pile up), and whose disk fails a write (the node stops, and restarts); clients with sessions that
 * retry a write with its sequence number at another node when it goes unanswered.
 *
 * <p>Checked: after every step, one leader per term, the same command applied at each index on every node
 * (state machine safety), and every commit a leader makes durable on a majority (a power cut of them all would
 * not lose it); at the end, the clients' history is linearizable (with at most once per write: a
 * write applied twice would show as a value coming back); and after the faults heal, every client operation
 * finishes and every node catches up with the leader's commit index, not only a majority.
 */
final class NodeSimulation {
    /** Simulated milliseconds per tick. */
    static final int TICK = 5;
    static final int ELECTION_TICKS = 10;
    static final int FAULT_PHASE_LIMIT = 20_000;
    static final int HEAL_LIMIT = 10_000;
    static final int ATTEMPT_TIMEOUT = 150;
    /** How many node ids beyond the first voters an operator may add. */
    static final int MAX_ADDED = 4;
    /** The operator never removes a voter from a configuration of this many. */
    static final int MIN_VOTERS = 3;
    /** How long the operator waits for a change before asking again (the leader it asked may have lost power). */
    static final int CHANGE_PATIENCE = 2_000;
    /** The library's clients are numbered from here in the history (the simulated ones from 1). */
    static final int LIBRARY_CLIENT_IDS = 101;
    /** How long a library client's call may take, retries included. */
    static final int LIBRARY_DEADLINE = 3_000;

    record Params(long seed, int nodes, int clients, int operations, boolean preVote, boolean checkQuorum,
                  int maxSessions, long snapshotBytes, int chunkBytes, int trailingEntries, boolean membership,
                  int libraryClients, DefectSeam.Defect defect, boolean leaseReads) {
        static Params of(long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            int nodes = r.nextBoolean() ? 3 : 5;
            int clients = 2 + r.nextInt(4);
            boolean preVote = r.nextBoolean();
            // A quarter of the runs keep fewer sessions than there are clients: sessions get evicted.
            int maxSessions = r.nextInt(4) == 0 ? clients - 1 : 64;
            Params p = new Params(seed, nodes, clients, 120, preVote, preVote || r.nextBoolean(), maxSessions,
                    300 + r.nextInt(3000), 64 + r.nextInt(512), r.nextInt(6), false, 0, DefectSeam.Defect.NONE, false);
            // Drawn last, so that what was drawn before stays as it was for each seed: half the runs change the
            // membership, and two thirds add one or two of the library's own clients to the simulated ones.
            if (r.nextBoolean()) p = p.withMembership();
            return p.withLibraryClients(r.nextInt(3));
        }

        /** The same run with a deliberate defect in the core, to show the checks catch it. */
        Params withDefect(DefectSeam.Defect d) {
            return new Params(seed, nodes, clients, operations, preVote, checkQuorum, maxSessions, snapshotBytes, chunkBytes,
                    trailingEntries, membership, libraryClients, d, leaseReads);
        }

        /** The same run with {@code n} of the library's own clients ({@code KvClient}) besides the simulated ones. */
        Params withLibraryClients(int n) {
            return new Params(seed, nodes, clients, operations, preVote, checkQuorum, maxSessions, snapshotBytes, chunkBytes,
                    trailingEntries, membership, n, defect, leaseReads);
        }

        /** The same run with an operator changing the membership through the leader during the faults. */
        Params withMembership() {
            return new Params(seed, nodes, clients, operations, preVote, checkQuorum, maxSessions, snapshotBytes, chunkBytes,
                    trailingEntries, true, libraryClients, defect, leaseReads);
        }

        /**
         * The same run with the leaders reading by lease ({@code ReadPolicy.LEASE}, CheckQuorum on): a leader
         * paused past its lease, whose clock ran on meanwhile, must find it gone when it resumes.
         */
        Params withLeaseReads() {
            return new Params(seed, nodes, clients, operations, preVote, true, maxSessions, snapshotBytes, chunkBytes,
                    trailingEntries, membership, libraryClients, defect, true);
        }
    }

    record Result(long seed, List<Operation> history, long simulatedTime, int leadersElected, long committed,
                  int powerCuts, int pauses, int ioErrors, int partitions, int transfers, long snapshotsTaken,
                  long snapshotsInstalled, int nodesAdded, int nodesRemoved, int disksLost, int changeCrashes,
                  int slowDisks, int slowSyncs, int midWriteCuts) {}

    private final Params params;
    private final Path root;
    private final SplittableRandom random;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final SimNode[] nodes;
    private final SimClient[] clients;
    private final List<LibraryClient> libraryClients = new ArrayList<>();
    private final List<Operation> history = new ArrayList<>();
    /** The command applied at each index, by any node: all must agree. */
    private final Map<Long, byte[]> appliedAt = new HashMap<>();
    private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
    private final Set<Long> cutLinks = new HashSet<>();
    private double dropRate;
    private double duplicateRate;
    private int maxDelay = 3;
    private double longDelayRate;
    /** Messages to this node take {@link #slowExtra} longer until {@link #slowUntil}: a slow inbound link. */
    private int slowTo;
    private long slowUntil;
    private int slowExtra;
    private boolean healed;
    private long healedAt;
    private long now;
    private long eventSeq;
    private int opsIssued;
    private int powerCuts;
    private int pauses;
    private int ioErrors;
    private int partitions;
    private int transfers;
    private long snapshotsTaken;
    private long snapshotsInstalled;
    private int nodesAdded;
    private int nodesRemoved;
    private int disksLost;
    private int changeCrashes;
    private int slowDisks;
    private int slowSyncs;
    private int midWriteCuts;
    /** The first voters: the configuration every node starts from before its log's first entry. */
    private final Set<Integer> firstVoters = new TreeSet<>();

    NodeSimulation(Params params, Path root) {
        this.params = params;
        this.root = root;
        this.random = new SplittableRandom(params.seed() ^ 0x5DEECE66DL);
        this.nodes = new SimNode[params.nodes() + MAX_ADDED + 1];
        this.clients = new SimClient[params.clients()];
    }

    private record Event(long time, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            return time != o.time ? Long.compare(time, o.time) : Long.compare(seq, o.seq);
        }
    }

    private void at(long time, Runnable action) {
        events.add(new Event(time, eventSeq++, action));
    }

    Result run() {
        try {
            return runAll();
        } finally {
            for (LibraryClient c : libraryClients) c.stop();
        }
    }

    private Result runAll() {
        for (int id = 1; id <= params.nodes(); id++) firstVoters.add(id);
        for (int id = 1; id <= params.nodes(); id++) newNode(id);
        for (int c = 0; c < clients.length; c++) {
            SimClient client = new SimClient(c + 1);
            clients[c] = client;
            at(1 + random.nextInt(20), client::next);
        }
        for (int c = 0; c < params.libraryClients(); c++) {
            LibraryClient client = new LibraryClient(LIBRARY_CLIENT_IDS + c);
            libraryClients.add(client);
            at(1 + client.own.nextInt(20), client::resume);
        }
        at(50 + random.nextInt(100), this::fault);
        if (params.membership()) at(200 + random.nextInt(300), admin::step);
        while (!events.isEmpty()) {
            Event e = events.poll();
            now = e.time();
            if (!healed && (opsIssued >= params.operations() || now >= FAULT_PHASE_LIMIT)) heal();
            if (healed && now > healedAt + HEAL_LIMIT) {
                throw new SafetyViolation("liveness", "seed " + params.seed() + ": " + HEAL_LIMIT
                        + " ms after the faults healed, " + unfinished() + "; nodes " + statuses());
            }
            e.action().run();
            // A library client waiting for an answer that has come goes on now.
            for (LibraryClient c : libraryClients) if (c.waiting && c.waitingFor.getAsBoolean()) c.resume();
            if (healed && allDone()) break;
        }
        for (SimClient c : clients) c.recordUnfinished();
        for (SimNode n : nodes) {
            if (n != null && n.node != null) {
                snapshotsTaken += n.node.snapshotStats().taken();
                snapshotsInstalled += n.node.snapshotStats().installed();
            }
        }
        long committed = 0;
        for (SimNode n : nodes) if (n != null) committed = Math.max(committed, n.node.status().commitIndex());
        return new Result(params.seed(), history, now, leaderOfTerm.size(), committed, powerCuts, pauses, ioErrors,
                partitions, transfers, snapshotsTaken, snapshotsInstalled, nodesAdded, nodesRemoved, disksLost, changeCrashes,
                slowDisks, slowSyncs, midWriteCuts);
    }

    /** Makes node {@code id} on an empty disk of its own, starts it, and starts its clock ticking. */
    private SimNode newNode(int id) {
        SimNode n = new SimNode(id, new SimulatedDisk(root.resolve("node-" + id), new SplittableRandom(random.nextLong()),
                400 + random.nextInt(4000)));
        nodes[id] = n;
        n.start(Start.FRESH);
        long first = 1 + random.nextInt(TICK);
        at(now + first, () -> tickLoop(n));
        return n;
    }

    /** The nodes there are (started at least once), by id. */
    private List<SimNode> existing() {
        List<SimNode> out = new ArrayList<>();
        for (SimNode n : nodes) if (n != null) out.add(n);
        return out;
    }

    private SimNode randomNode() {
        List<SimNode> all = existing();
        return all.get(random.nextInt(all.size()));
    }

    private void heal() {
        healed = true;
        healedAt = now;
        cutLinks.clear();
        dropRate = 0;
        duplicateRate = 0;
        maxDelay = 3;
        longDelayRate = 0;
        slowUntil = 0;
        for (SimNode n : nodes) {
            if (n == null) continue;
            if (!n.up && !n.lost) n.start(Start.AFTER_CUT);
            n.slowDiskUntil = 0;
            if (n.pausedUntil > now) {
                n.pausedUntil = now;
                n.drive();
            }
        }
        // Every client does two more operations, which must finish.
        for (SimClient c : clients) {
            c.afterHeal = 2;
            if (c.op == null) at(now + 1, c::next);
        }
        for (LibraryClient c : libraryClients) c.afterHeal = 2;
    }

    /**
     * After healing: every client done, and every member (voter or learner) of the configuration committed at
     * the most advanced node caught up with the highest commit index, but for one whose disk was lost. A
     * removed node that keeps running is not a member: nothing is sent to it.
     */
    private boolean allDone() {
        for (SimClient c : clients) if (c.afterHeal > 0 || c.op != null) return false;
        for (LibraryClient c : libraryClients) if (!c.finished) return false;
        SimNode ahead = null;
        for (SimNode n : existing()) {
            if (ahead == null || n.node.status().commitIndex() > ahead.node.status().commitIndex()) ahead = n;
        }
        long commit = ahead.node.status().commitIndex();
        var members = ahead.node.committedConfiguration();
        for (SimNode n : existing()) {
            if (!n.lost && members.contains(n.id) && n.node.status().appliedIndex() < commit) return false;
        }
        return true;
    }

    private String unfinished() {
        List<String> out = new ArrayList<>();
        for (SimClient c : clients) if (c.afterHeal > 0 || c.op != null) out.add("client " + c.id + " at " + c.op);
        for (LibraryClient c : libraryClients) if (!c.finished) out.add("library client " + c.id + " at " + c.current);
        return out.isEmpty() ? "every client done but a node lags" : String.join(", ", out);
    }

    private String statuses() {
        List<String> out = new ArrayList<>();
        for (SimNode n : nodes) if (n != null) out.add(n.node.status().toString());
        return out.toString();
    }

    // ---------------------------------------------------------------- faults

    private void fault() {
        if (healed) return;
        int pick = random.nextInt(100);
        SimNode n = randomNode();
        if (pick < 20) {
            if (n.up && upCount() > existing().size() / 2) powerCut(n);
        } else if (pick < 35) {
            // A process pause (a long GC, a stopped VM), often of the leader and now and then with its inbound
            // traffic congested too: it wakes with its old state and the clients' requests waiting for it.
            SimNode p = random.nextInt(4) != 0 ? leaderOr(n) : n;
            if (p.up && p.pausedUntil <= now) {
                pauses++;
                p.pausedUntil = now + 30 + random.nextInt(400);
                at(p.pausedUntil, p::drive);
                if (random.nextInt(4) != 0) slowInbound(p.id);
                // Clients with a stale idea of the leader (a cache, a load balancer) send it new requests meanwhile.
                if (p.node.status().role() == Role.LEADER) {
                    at(now + random.nextInt((int) (p.pausedUntil - now)), () -> {
                        for (SimClient c : clients) if (random.nextInt(4) != 0) c.target = p.id;
                    });
                }
            }
        } else if (pick < 45) {
            if (n.up) {
                ioErrors++;
                n.disk.failASoonWrite();
            }
        } else if (pick < 65) {
            partitions++;
            cutLinks.clear();
            Set<Integer> side = new HashSet<>();
            List<SimNode> all = existing();
            for (SimNode s : all) if (random.nextBoolean()) side.add(s.id);
            for (SimNode a : all) {
                for (SimNode b : all) {
                    if (side.contains(a.id) != side.contains(b.id) && (random.nextInt(4) != 0)) cutLinks.add(link(a.id, b.id));
                }
            }
            at(now + 50 + random.nextInt(500), cutLinks::clear);
        } else if (pick < 72) {
            // A leadership transfer; clients still take the old leader for the leader, and read from it.
            for (SimNode l : nodes) {
                if (l != null && l.up && l.node.status().role() == Role.LEADER) {
                    int target = randomNode().id;
                    if (target != l.id) {
                        transfers++;
                        l.node.transferLeadership(target);
                        l.drive();
                        // Clients go on sending to the old leader (reads right after a transfer), and now and then
                        // it is slow to hear of anything, so it keeps taking itself for the leader a while.
                        for (SimClient c : clients) if (random.nextBoolean()) c.target = l.id;
                        if (random.nextBoolean()) slowInbound(l.id);
                    }
                    break;
                }
            }
        } else if (pick < 77) {
            slowInbound(n.id);
        } else if (pick < 82) {
            // A slow disk for a while: some of its forced writes take long, up to twice an election timeout, and
            // the node can do nothing else meanwhile; what it sends after such a write leaves when it finishes.
            if (n.up) {
                slowDisks++;
                n.slowDiskUntil = now + 200 + random.nextInt(600);
                n.slowSyncMax = 5 + random.nextInt(2 * ELECTION_TICKS * TICK);
            }
        } else if (pick < 90) {
            dropRate = random.nextInt(3) == 0 ? 0 : random.nextDouble() * 0.3;
            duplicateRate = random.nextDouble() * 0.1;
            maxDelay = 1 + random.nextInt(30);
        } else {
            // Now and then a message takes longer than an election timeout.
            longDelayRate = random.nextDouble() * 0.05;
        }
        at(now + 30 + random.nextInt(200), this::fault);
    }

    private void powerCut(SimNode n) {
        powerCuts++;
        n.cutFrom = n.stalledUntil > now ? n.writeUnderWay() : -1;
        n.up = false;
        at(now + 20 + random.nextInt(300), () -> { if (!n.up && !n.lost) n.start(Start.AFTER_CUT); });
    }

    /** The node that leads now (the first found), or {@code otherwise}. */
    private SimNode leaderOr(SimNode otherwise) {
        for (SimNode l : nodes) if (l != null && l.up && l.node.status().role() == Role.LEADER) return l;
        return otherwise;
    }

    private void slowInbound(int id) {
        slowTo = id;
        slowExtra = ELECTION_TICKS * TICK * (1 + random.nextInt(5));
        slowUntil = now + 100 + random.nextInt(500);
    }

    private int upCount() {
        int up = 0;
        for (SimNode n : nodes) if (n != null && n.up) up++;
        return up;
    }

    private static long link(int from, int to) {
        return ((long) from << 32) | to;
    }

    // ---------------------------------------------------------------- membership

    private final Admin admin = new Admin();

    /**
     * An operator changing the membership during the faults through the production calls, one server at a time:
     * {@link RaftNode#addVoter} (learner first, promoted once it keeps up) for a new node, and
     * {@link RaftNode#removeMember} (done once committed; safe to repeat) for a voter, the leader included. A
     * removed node keeps running (nothing tells it to stop, as when its operator forgets it). A voter's disk
     * is now and then lost for good (it fails and is replaced): the machine rejoins as a new node under a new id, and the
     * old id is removed. A quarter of the changes lose the leader's power moments after it appended the change,
     * before it could commit.
     *
     * <p>Not under its old id: Raft's safety rests on a server keeping what it wrote, and a node that comes back
     * empty under an id other nodes still count votes from can vote a stale node in. A variant of this
     * simulation that did so broke state machine safety within 1,200 seeds: a node that had missed the changes
     * since, and the empty one, made a majority of the old configuration and committed another command at an
     * index the others had applied.
     */
    private final class Admin {
        /** The changes to make, in order: a node to add (a positive id) or to remove (a negative id). */
        final java.util.ArrayDeque<Integer> todo = new java.util.ArrayDeque<>();
        CompletableFuture<Configuration> asked;
        long askedAt;

        void step() {
            if (healed) return;
            at(now + 100 + random.nextInt(300), this::step);
            if (asked != null) {
                if (!asked.isDone() && now - askedAt < CHANGE_PATIENCE) return;
                asked = null; // answered, refused, or lost with its leader: see where the configuration stands
            }
            SimNode leader = null;
            for (SimNode l : existing()) {
                if (l.up && l.pausedUntil <= now && l.node.status().role() == Role.LEADER) leader = l;
            }
            if (leader == null) return;
            Configuration committed = leader.node.committedConfiguration();
            while (!todo.isEmpty()) {
                int change = todo.peek();
                boolean adding = change > 0;
                int id = Math.abs(change);
                if (adding ? !committed.isVoter(id) : committed.contains(id)) {
                    // Asked again as well when the answer was lost, the leader changed, or another change was under way.
                    ask(leader, id, adding, false);
                    return;
                }
                todo.poll();
                if (adding) nodesAdded++;
                else nodesRemoved++;
            }
            Configuration c = leader.node.configuration();
            if (!c.equals(committed)) return; // a change is in the log, not yet committed: one at a time
            int pick = random.nextInt(3);
            int next = nextId();
            if (pick == 0 && next != 0) {
                newNode(next);
                todo.add(next);
            } else if (pick == 1 && c.voters().size() > MIN_VOTERS) {
                List<Integer> voters = new ArrayList<>(c.voters());
                todo.add(-(random.nextInt(3) == 0 ? leader.id : voters.get(random.nextInt(voters.size()))));
            } else if (pick == 2 && next != 0 && noVoterLost(c)) {
                // A voter's disk fails: it is gone for good, and the machine joins again, empty, as a new node.
                List<Integer> voters = new ArrayList<>(c.voters());
                SimNode lost = nodes[voters.get(random.nextInt(voters.size()))];
                disksLost++;
                lost.lose();
                newNode(next);
                todo.add(next);
                todo.add(-lost.id);
            }
            if (!todo.isEmpty()) ask(leader, Math.abs(todo.peek()), todo.peek() > 0, true);
        }

        /** Whether every voter of {@code c} is a node that still has its disk (one lost at a time). */
        private boolean noVoterLost(Configuration c) {
            for (int v : c.voters()) if (nodes[v].lost) return false;
            return true;
        }

        /** The next id never used, or 0 if the operator has added as many as it may. */
        private int nextId() {
            for (int id = 1; id < nodes.length; id++) if (nodes[id] == null) return id;
            return 0;
        }

        private void ask(SimNode leader, int id, boolean adding, boolean first) {
            askedAt = now;
            asked = adding ? leader.node.addVoter(id, Duration.ofMillis(CHANGE_PATIENCE)) : leader.node.removeMember(id);
            leader.drive();
            if (first && random.nextInt(4) == 0) {
                // The leader loses power before the change can commit (or just as it does).
                changeCrashes++;
                at(now + random.nextInt(5), () -> { if (leader.up) powerCut(leader); });
            }
        }
    }

    // ---------------------------------------------------------------- network

    private void send(Message m) {
        if (cutLinks.contains(link(m.from(), m.to())) || random.nextDouble() < dropRate) return;
        int copies = random.nextDouble() < duplicateRate ? 2 : 1;
        for (int i = 0; i < copies; i++) {
            long delay = 1 + random.nextInt(maxDelay);
            if (m.to() == slowTo && now < slowUntil) delay += slowExtra;
            if (random.nextDouble() < longDelayRate) delay += ELECTION_TICKS * TICK * (1 + random.nextInt(4));
            at(now + delay, () -> {
                SimNode to = m.to() < nodes.length ? nodes[m.to()] : null;
                if (to != null && to.up) {
                    to.node.deliver(m);
                    to.drive();
                }
            });
        }
    }

    private void tickLoop(SimNode n) {
        if (n.up && n.pausedUntil <= now) {
            n.tick = true;
            n.drive();
        }
        at(now + TICK, () -> tickLoop(n));
    }

    // ---------------------------------------------------------------- nodes

    /** How a life of a node begins: on a new disk, or on what a power cut left. */
    private enum Start { FRESH, AFTER_CUT }

    private final class SimNode {
        final int id;
        final SimulatedDisk disk;
        RaftNode node;
        DurableLog durable;
        /** The highest commit index checked against the durable logs, in this life of the node. */
        long checkedCommit;
        /** The term in which this life of the node was last seen leading. */
        long ledTerm;
        boolean up;
        /** Its disk failed: it is down for good. */
        boolean lost;
        /** Until when its disk is slow, and how long a slow forced write may take. */
        long slowDiskUntil;
        int slowSyncMax;
        /** A slow forced write holds the node until then: what it sends or answers meanwhile leaves then. */
        long stalledUntil;
        /** Where on its disk the last persist began. */
        int persistFrom;
        /**
         * The slow forced writes of the stall under way, one after the other: where each began on the disk, and
         * when it ends. What the pass sent between two of them left when the first ended, so a cut during the
         * second may lose only the second (and what follows).
         */
        private final List<long[]> slowWrites = new ArrayList<>();
        /** A power cut fell during a slow forced write that began at this change of the disk; or -1. */
        int cutFrom = -1;
        boolean tick;
        long pausedUntil;
        int life;

        SimNode(int id, SimulatedDisk disk) {
            this.id = id;
            this.disk = disk;
        }

        /** Starts a life of the node on what its disk holds. */
        void start(Start how) {
            if (node != null) {
                snapshotsTaken += node.snapshotStats().taken();
                snapshotsInstalled += node.snapshotStats().installed();
            }
            DurableLog storage = new DurableLog(switch (how) {
                case FRESH -> disk.open();
                case AFTER_CUT -> cutFrom >= 0 ? disk.powerCutSince(cutFrom) : disk.powerCut();
            }, () -> persistFrom = disk.changes(), this::persisted);
            cutFrom = -1;
            durable = storage;
            checkedCommit = 0;
            ledTerm = 0;
            life++;
            // As Cluster starts a node: from the first configuration, whatever its id (the log says the rest).
            RaftConfig config = DefectSeam.with(RaftConfig.builder(id, firstVoters, new SplittableRandom(params.seed() * 31 + id * 1_000 + life))
                    .electionTicks(ELECTION_TICKS).heartbeatTicks(1)
                    .preVote(params.preVote()).checkQuorum(params.checkQuorum())
                    .readPolicy(params.leaseReads() ? ReadPolicy.LEASE : ReadPolicy.READ_INDEX)
                    // 1 B to 8 KiB of applied log on the heap: catch-ups read entries back from the file store.
                    .logCacheBytes(1L << Math.floorMod(params.seed() + id, 14)), params.defect()).build();
            Transport transport = new Transport() {
                final int myLife = life;

                @Override
                public void send(Message message) {
                    if (!up || life != myLife) return;
                    if (!stalled()) NodeSimulation.this.send(message);
                    else afterStall(() -> NodeSimulation.this.send(message));
                }

                @Override
                public void close() {
                }
            };
            node = NodeDriver.create(config, storage, sink -> transport, new Recording(id, new KvStateMachine(params.maxSessions())),
                    Duration.ofMillis(TICK), () -> now * 1_000_000L,
                    SnapshotPolicy.defaults().withLogBytes(params.snapshotBytes()).withTrailingEntries(params.trailingEntries())
                            .withChunkBytes(params.chunkBytes()));
            up = true;
            pausedUntil = 0;
            stalledUntil = 0;
            drive();
        }

        /** Whether a slow forced write holds the node now. */
        boolean stalled() {
            return stalledUntil > now;
        }

        /**
         * Runs {@code out} (a message or an answer the node gave after a slow forced write) once the write is done,
         * if the node's power holds till then.
         */
        void afterStall(Runnable out) {
            int myLife = life;
            at(stalledUntil, () -> { if (up && life == myLife) out.run(); });
        }

        /** Where on the disk the slow write under way now began (it is stalled). */
        int writeUnderWay() {
            for (long[] w : slowWrites) if (w[1] > now) return (int) w[0];
            throw new IllegalStateException("node " + id + " is not stalled at " + now);
        }

        /** After each persist: on a slow disk, now and then the forced write takes long. */
        private void persisted() {
            if (now < slowDiskUntil && random.nextInt(3) == 0) {
                slowSyncs++;
                if (stalledUntil <= now) slowWrites.clear();
                // It begins when the write before it in this pass ended: the node's writes are one after the other.
                stalledUntil = Math.max(stalledUntil, now) + 1 + random.nextInt(slowSyncMax);
                slowWrites.add(new long[] {persistFrom, stalledUntil});
                if (random.nextInt(4) == 0) {
                    // The power goes while the write is under way: the disk may keep any part of what the pass wrote
                    // since, and nothing the pass sent or answered after the write has left.
                    int myLife = life;
                    at(now + random.nextInt((int) (stalledUntil - now)), () -> {
                        if (up && life == myLife && stalledUntil > now) {
                            midWriteCuts++;
                            powerCut(this);
                        }
                    });
                }
            }
        }

        /**
         * Its disk fails for good: the node stops and never starts again. The durability check goes on counting
         * what it had made durable: acknowledgements it sent before are still on their way, and a leader rightly
         * counts them (a lost disk is data lost; one at a time is what a majority is there for).
         */
        void lose() {
            lost = true;
            up = false;
            disk.wipe();
        }

        /** Makes passes while the node has something to do (not while it is paused or down). */
        void drive() {
            if (!up || pausedUntil > now) return;
            boolean t = tick;
            tick = false;
            for (int i = 0; t || NodeDriver.hasWork(node); i++) {
                if (i > 10_000) throw new SafetyViolation("liveness", "node " + id + " never runs out of work");
                if (!NodeDriver.step(node, t)) {
                    // Stopped on its own: a storage failure we injected, or a bug.
                    Throwable why = node.failure();
                    if (!isInjected(why)) {
                        throw new SafetyViolation("node failure", "seed " + params.seed() + ": node " + id + " stopped: " + why);
                    }
                    up = false;
                    at(now + 10 + random.nextInt(100), () -> { if (!up && !lost) start(Start.AFTER_CUT); });
                    return;
                }
                t = false;
                if (stalledUntil > now) {
                    // A slow forced write in that pass: the node takes nothing in until it is done.
                    pausedUntil = Math.max(pausedUntil, stalledUntil);
                    at(pausedUntil, this::drive);
                    break;
                }
            }
            check(this);
        }
    }

    private static boolean isInjected(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && c.getMessage().contains("injected I/O error")) return true;
            for (Throwable s : c.getSuppressed()) if (isInjected(s)) return true;
        }
        return false;
    }

    private void check(SimNode n) {
        NodeStatus s = n.node.status();
        if (s.role() != Role.LEADER) return;
        Integer other = leaderOfTerm.putIfAbsent(s.term(), n.id);
        if (other != null && other != n.id) {
            throw new SafetyViolation("election safety", "seed " + params.seed() + ": nodes " + other + " and " + n.id
                    + " both lead term " + s.term());
        }
        // Every entry a leader counts as committed is durable on a majority of the voters: a power cut of all of
        // them at once must not lose it. (Checked at the commit index: log matching covers the entries before it.)
        long c = s.commitIndex();
        if (s.term() != n.ledTerm) {
            // The commit index it leads with came from an earlier leader, perhaps under another configuration (that
            // leader's check covered it). A leader's own commits are past it: Raft commits by counting entries of
            // the leader's term only, so each index it reaches holds an entry of its term.
            n.ledTerm = s.term();
            n.checkedCommit = Math.max(n.checkedCommit, c);
            return;
        }
        if (c <= n.checkedCommit) return;
        n.checkedCommit = c;
        for (SimNode v : existing()) if (v.durable.covers(c)) return; // in a snapshot: known committed before
        // The quorum is that of the configuration in force at the leader, or, with a change appended since in the
        // same pass, of the one committed before it.
        Configuration inForce = n.node.configuration();
        Configuration committed = n.node.committedConfiguration();
        int inForceHolding = durableOfTerm(inForce, c, s.term());
        int committedHolding = durableOfTerm(committed, c, s.term());
        if (inForceHolding <= inForce.voters().size() / 2 && committedHolding <= committed.voters().size() / 2) {
            throw new SafetyViolation("durability", "seed " + params.seed() + ": leader " + n.id + " of term " + s.term()
                    + " commits " + c + ", which is durable on " + inForceHolding + " of the voters " + inForce.voters()
                    + " in force and " + committedHolding + " of the committed " + committed.voters());
        }
    }

    /** How many voters of {@code config} hold an entry of {@code term} at {@code index} on their disk. */
    private int durableOfTerm(Configuration config, long index, long term) {
        int holding = 0;
        for (int v : config.voters()) {
            SimNode n = v < nodes.length ? nodes[v] : null;
            if (n != null && n.durable.termAt(index) == term) holding++;
        }
        return holding;
    }

    /** The KV state machine, with every applied command noted and compared across nodes. */
    private final class Recording implements StateMachine {
        private final int id;
        private final KvStateMachine kv;
        private long last;

        Recording(int id, KvStateMachine kv) {
            this.id = id;
            this.kv = kv;
        }

        @Override
        public Object apply(long index, byte[] command) {
            if (index <= last) {
                throw new SafetyViolation("state machine safety", "seed " + params.seed() + ": node " + id + " applies "
                        + index + " after " + last);
            }
            last = index;
            byte[] before = appliedAt.putIfAbsent(index, command.clone());
            if (before != null && !Arrays.equals(before, command)) {
                throw new SafetyViolation("state machine safety", "seed " + params.seed() + ": node " + id
                        + " applies another command at index " + index + " than a node before it");
            }
            return kv.apply(index, command);
        }

        @Override
        public Object query(Object query) {
            return kv.query(query);
        }

        @Override
        public boolean canSnapshot() {
            return kv.canSnapshot();
        }

        @Override
        public void snapshot(OutputStream out) throws IOException {
            kv.snapshot(out);
        }

        @Override
        public Frozen freeze() {
            return kv.freeze();
        }

        @Override
        public void restore(InputStream in) throws IOException {
            kv.restore(in);
            last = 0; // applying goes on after the snapshot's index
        }
    }

    // ---------------------------------------------------------------- the library's own client

    /** Unwinds a library client's thread out of {@code KvClient} when the run ends. */
    private static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

    /**
     * The production {@link KvClient} (leader redirects, retries with the same sequence number, back-off,
     * sessions renewed after an eviction, the node list asked again), on a thread of its own that runs only
     * while the simulation waits for it: its clock is the simulation's, and each of its waits (for an answer,
     * until an attempt's deadline, a back-off) hands control back, so a run stays deterministic. Its requests
     * cross the simulated network to the production {@link KvService} of the node they are sent to. After the
     * faults heal its last two operations must succeed within its deadline.
     */
    private final class LibraryClient implements KvSimClients.Time, KvConnector {
        final int id;
        final KvClient client;
        private final Thread thread;
        private final Semaphore turn = new Semaphore(0);
        private final Semaphore yielded = new Semaphore(0);
        /** Set while the thread waits: for what (an answer), and which wait it is. */
        boolean waiting;
        BooleanSupplier waitingFor = () -> false;
        private int waits;
        boolean finished;
        private boolean stopping;
        private Throwable failure;
        int afterHeal = -1;
        String current = "nothing";
        private int done;
        /** Writes of REPLACE's old share that are a DELETE or a CAS instead, one of each in turn. */
        private int rareWrites;
        /** The value this client last read or wrote for each key (absent: null), which its CASes expect. */
        private final java.util.Map<String, String> lastSeen = new java.util.HashMap<>();
        /** Its own draws, apart from the simulation's: a run with library clients differs from one without only
         *  by what they do, not by every later draw of the faults. */
        private final SplittableRandom own;

        LibraryClient(int id) {
            this.id = id;
            this.own = new SplittableRandom(params.seed() * 7919 + id);
            this.client = KvSimClients.create(this, Duration.ofMillis(LIBRARY_DEADLINE), Duration.ofMillis(ATTEMPT_TIMEOUT), this);
            this.thread = Thread.ofPlatform().daemon().name("sim-kv-client-" + id).start(this::body);
        }

        /** On the simulation's thread: lets the client run until it waits again or is done. */
        void resume() {
            if (finished) return;
            waiting = false;
            turn.release();
            yielded.acquireUninterruptibly();
            if (failure != null) {
                Throwable f = failure;
                failure = null;
                if (f instanceof SafetyViolation v) throw v;
                throw new AssertionError("seed " + params.seed() + ": library client " + id + " failed: " + f, f);
            }
        }

        /** Ends the thread, wherever it waits. */
        void stop() {
            stopping = true;
            if (!finished) {
                turn.release();
                yielded.acquireUninterruptibly();
            }
            client.close();
        }

        /** On the client's thread: hands control back until the simulation resumes it. */
        private void handBack() {
            yielded.release();
            turn.acquireUninterruptibly();
            if (stopping) throw new Stop();
        }

        private void body() {
            try {
                turn.acquireUninterruptibly();
                if (stopping) return;
                while (true) {
                    if (healed ? afterHeal <= 0 : opsIssued >= params.operations()) {
                        if (healed) break;
                        pause(50_000_000L); // no more work until the faults heal; then two more operations
                        continue;
                    }
                    operation();
                }
            } catch (Stop s) {
                // the run is over
            } catch (Throwable t) {
                failure = t;
            } finally {
                finished = true;
                yielded.release();
            }
        }

        private void operation() {
            String key = KEYS[own.nextInt(KEYS.length)];
            int pick = own.nextInt(10);
            // The draws are those of before DELETE and CAS (a seed runs as it did); REPLACE's second tenth
            // is a DELETE or a CAS in turn.
            OpKind kind = pick < 5 ? OpKind.PUT : pick < 6 ? OpKind.REPLACE : pick < 7
                    ? (rareWrites++ % 2 == 0 ? OpKind.DELETE : OpKind.CAS) : OpKind.GET;
            String value = "k" + id + "-" + (++done);
            String expected = kind == OpKind.CAS ? lastSeen.get(key) : null;
            boolean mustFinish = healed;
            if (!healed) opsIssued++;
            long call = now;
            current = kind.name().toLowerCase(java.util.Locale.ROOT) + " " + key;
            try {
                switch (kind) {
                    case PUT -> {
                        client.put(key, value);
                        history.add(Operation.put(id, call, now, key, value));
                        lastSeen.put(key, value);
                    }
                    case REPLACE -> {
                        boolean replaced = client.replace(key, value);
                        history.add(Operation.replace(id, call, now, key, value, replaced));
                        if (replaced) lastSeen.put(key, value);
                    }
                    case DELETE -> {
                        boolean deleted = client.delete(key);
                        history.add(Operation.delete(id, call, now, key, deleted));
                        lastSeen.put(key, null);
                    }
                    case CAS -> {
                        boolean set = client.compareAndSet(key, expected, value);
                        history.add(Operation.cas(id, call, now, key, expected, value, set));
                        if (set) lastSeen.put(key, value);
                    }
                    default -> {
                        String got = client.get(key).orElse(null);
                        history.add(Operation.get(id, call, now, key, got));
                        lastSeen.put(key, got);
                    }
                }
            } catch (OutcomeUnknownException | SessionExpiredException e) {
                // Not known whether it took effect (a read constrains nothing): it may have, at any time after its call.
                // A session evicted (runs that keep fewer sessions than clients) is an answer; no answer in time after
                // the faults healed is not.
                if (mustFinish && e instanceof OutcomeUnknownException) {
                    throw new SafetyViolation("liveness", "seed " + params.seed() + ": library client " + id + "'s " + current
                            + ", called after the faults healed, did not finish: " + e.getMessage());
                }
                switch (kind) {
                    case PUT -> history.add(Operation.pendingPut(id, call, key, value));
                    case REPLACE -> history.add(Operation.pendingReplace(id, call, key, value));
                    case DELETE -> history.add(Operation.pendingDelete(id, call, key));
                    case CAS -> history.add(Operation.pendingCas(id, call, key, expected, value));
                    default -> { } // a read nobody saw constrains nothing
                }
            }
            if (healed && afterHeal > 0 && mustFinish) afterHeal--;
            current = "nothing";
            pause((1 + own.nextInt(20)) * 1_000_000L);
        }

        // ---- its clock and waits (on its own thread)

        @Override
        public long nanoTime() {
            return now * 1_000_000L;
        }

        @Override
        public void await(long deadline, BooleanSupplier answered, Runnable expire) {
            if (answered.getAsBoolean()) return;
            int wait = ++waits;
            waitingFor = answered;
            waiting = true;
            at(Math.max(now, Math.ceilDiv(deadline, 1_000_000L)), () -> {
                if (waiting && waits == wait) {
                    expire.run();
                    resume();
                }
            });
            handBack();
        }

        @Override
        public void pause(long nanos) {
            int wait = ++waits;
            waitingFor = () -> false;
            waiting = true;
            at(now + Math.max(1, Math.ceilDiv(nanos, 1_000_000L)), () -> {
                if (waiting && waits == wait) resume();
            });
            handBack();
        }

        @Override
        public long nonce() {
            return own.nextLong() | 1;
        }

        // ---- its connector: the simulated network to a node's KvService

        @Override
        public List<Integer> nodes() {
            List<Integer> ids = new ArrayList<>();
            for (SimNode n : existing()) ids.add(n.id);
            return ids;
        }

        @Override
        public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
            send(node, request, null, reply);
        }

        @Override
        public void send(int node, KvRequest request, byte[] command, Consumer<KvResponse> reply) {
            at(now + 1 + own.nextInt(maxDelay), () -> {
                SimNode n = node < nodes.length ? nodes[node] : null;
                if (n == null || !n.up) return; // lost: the attempt times out
                Consumer<KvResponse> back = r -> {
                    if (!n.stalled()) reply.accept(r);
                    else n.afterStall(() -> reply.accept(r));
                };
                new KvService(n.node, KvLimits.DEFAULT).handle(request, command, back);
                n.drive();
            });
        }
    }

    // ---------------------------------------------------------------- clients

    private static final String[] KEYS = {"a", "b", "c"};

    private final class SimClient {
        final int id;
        long session;
        long nonce;
        long seq;
        int target;
        int afterHeal = -1;
        int attempt;
        Op op;
        int done;

        SimClient(int id) {
            this.id = id;
            this.target = randomNode().id;
        }

        /** Writes of REPLACE's old share that are a DELETE or a CAS instead, one of each in turn. */
        int rareWrites;
        /** The value this client last read or wrote for each key (absent: null), which its CASes expect. */
        final java.util.Map<String, String> lastSeen = new java.util.HashMap<>();

        record Op(OpKind kind, String key, String value, String expected, byte[] command, long call, boolean register) {
            @Override
            public String toString() {
                return register ? "register" : kind + " " + key + (kind == OpKind.CAS ? " if " + expected : "")
                        + (value != null ? "=" + value : "");
            }
        }

        /** Starts the next operation, if any is left. */
        void next() {
            if (op != null) return; // one operation at a time (the heal may have called while one was under way)
            if (healed) {
                if (afterHeal <= 0) return;
            } else if (opsIssued >= params.operations()) {
                return;
            }
            if (session == 0) {
                nonce = random.nextLong() | 1;
                op = new Op(null, "", null, null, KvSimCommands.register(nonce), now, true);
            } else {
                String key = KEYS[random.nextInt(KEYS.length)];
                int pick = random.nextInt(10);
                String value = "c" + id + "-" + (++done);
                // The draws are those of before DELETE and CAS (a seed runs as it did); REPLACE's second tenth
                // is a DELETE or a CAS in turn.
                if (pick < 5) {
                    op = new Op(OpKind.PUT, key, value, null, KvSimCommands.put(session, ++seq, key, value), now, false);
                } else if (pick < 6) {
                    op = new Op(OpKind.REPLACE, key, value, null, KvSimCommands.replace(session, ++seq, key, value), now, false);
                } else if (pick < 7 && rareWrites++ % 2 == 0) {
                    op = new Op(OpKind.DELETE, key, null, null, KvSimCommands.delete(session, ++seq, key), now, false);
                } else if (pick < 7) {
                    String expected = lastSeen.get(key);
                    op = new Op(OpKind.CAS, key, value, expected, KvSimCommands.cas(session, ++seq, key, expected, value), now, false);
                } else {
                    op = new Op(OpKind.GET, key, null, null, null, now, false);
                }
                opsIssued++;
            }
            send();
        }

        void send() {
            int myAttempt = ++attempt;
            Op sent = op;
            SimNode n = nodes[target];
            at(now + ATTEMPT_TIMEOUT, () -> {
                if (op == sent && attempt == myAttempt) retry(0);
            });
            if (!n.up) return; // the request is lost; the timeout retries
            Reply reply = new Reply() {
                @Override
                public void ok(Object result) {
                    // An answer to an earlier attempt answers the operation too (it is still under way).
                    if (op != sent) return;
                    if (!n.stalled()) at(now, () -> answered(sent, result));
                    else n.afterStall(() -> answered(sent, result));
                }

                @Override
                public void notLeader(int leaderHint) {
                    if (op == sent && attempt == myAttempt) at(now + 1 + random.nextInt(10), () -> retry(leaderHint));
                }
            };
            if (sent.kind() == OpKind.GET) n.node.read(sent.key(), reply);
            else n.node.propose(sent.command(), reply);
            n.drive();
        }

        void retry(int hint) {
            if (op == null) return;
            boolean known = hint > 0 && hint < nodes.length && nodes[hint] != null;
            target = known && random.nextInt(4) != 0 ? hint : randomNode().id;
            send();
        }

        void answered(Op sent, Object result) {
            if (op != sent) return;
            op = null;
            if (sent.register()) {
                session = KvSimCommands.registered(result);
                if (session == 0) throw new AssertionError("seed " + params.seed() + ": a registration answered " + result);
                seq = 0;
            } else if (sent.kind() == OpKind.GET) {
                history.add(new Operation(id, sent.call(), now, OpKind.GET, sent.key(), null, (String) result));
                lastSeen.put(sent.key(), (String) result);
                finished();
            } else if (KvSimCommands.expired(result)) {
                // The session was evicted: whether this write was applied before cannot be known.
                history.add(new Operation(id, sent.call(), Operation.PENDING, sent.kind(), sent.key(), sent.value(), null,
                        sent.expected()));
                session = 0;
                finished();
            } else {
                String out = KvSimCommands.output(result);
                if (out == null) throw new AssertionError("seed " + params.seed() + ": " + sent + " answered " + result);
                history.add(new Operation(id, sent.call(), now, sent.kind(), sent.key(), sent.value(), out, sent.expected()));
                if (sent.kind() == OpKind.DELETE) lastSeen.put(sent.key(), null);
                else if (sent.kind() == OpKind.PUT || "true".equals(out)) lastSeen.put(sent.key(), sent.value());
                finished();
            }
            at(now + random.nextInt(20), this::next);
        }

        private void finished() {
            if (healed && afterHeal > 0) afterHeal--;
        }

        void recordUnfinished() {
            if (op != null && !op.register()) {
                history.add(new Operation(id, op.call(), Operation.PENDING, op.kind(), op.key(), op.value(), null, op.expected()));
            }
        }
    }
}

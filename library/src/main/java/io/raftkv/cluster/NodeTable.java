package io.raftkv.cluster;

import io.raftkv.app.SessionMachine;
import io.raftkv.kv.KvService;
import io.raftkv.kv.KvStateMachine;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.RaftNode;
import io.raftkv.node.StateMachine;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Role;
import io.raftkv.storage.Storage;

import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A cluster's nodes by id, each with its store and (for the key-value store) its service: starting one,
 * killing it (its store stays, closed) and starting it again on the same store. Its callers take turns
 * (the cluster's lock); readers on client threads see the atomic arrays.
 */
final class NodeTable {
    private final ClusterSettings settings;
    private final ClusterWiring wiring;
    private final Set<Integer> initialVoters;
    private final SplittableRandom seeds;
    private final Runnable onLeadershipChange;
    private final Storage[] storages = new Storage[Cluster.MAX_NODE_ID + 1];
    // Written by whoever kills or restarts a node, read by client threads: hence atomic arrays.
    private final AtomicReferenceArray<RaftNode> nodes = new AtomicReferenceArray<>(Cluster.MAX_NODE_ID + 1);
    private final AtomicReferenceArray<KvService> services = new AtomicReferenceArray<>(Cluster.MAX_NODE_ID + 1);
    private final NodeStatus[] lastStatus = new NodeStatus[Cluster.MAX_NODE_ID + 1];
    /** A node whose thread did not stop when killed; it must end before the node may restart. */
    private final RaftNode[] stopping = new RaftNode[Cluster.MAX_NODE_ID + 1];

    NodeTable(ClusterSettings settings, ClusterWiring wiring, Set<Integer> initialVoters, SplittableRandom seeds,
              Runnable onLeadershipChange) {
        this.settings = settings;
        this.wiring = wiring;
        this.initialVoters = initialVoters;
        this.seeds = seeds;
        this.onLeadershipChange = onLeadershipChange;
    }

    /** Node {@code id} if it runs (or died on its own and was not cleared up), else null. */
    RaftNode node(int id) {
        return id >= 1 && id < nodes.length() ? nodes.get(id) : null;
    }

    /** Node {@code id}'s key-value service while it runs, else null. */
    KvService service(int id) {
        return id >= 1 && id < services.length() ? services.get(id) : null;
    }

    /** What node {@code id} last published; for a node that is down, what it had when it went. */
    NodeStatus status(int id) {
        RaftNode n = nodes.get(id);
        if (n != null) return n.status();
        NodeStatus last = lastStatus[id];
        return last != null ? last : NodeStatus.down(id, 0);
    }

    /** Opens node {@code id}'s store, builds the node and its service, and starts it. */
    void start(int id) {
        Storage storage = Objects.requireNonNull(settings.storage().open(id), "storage for node " + id);
        storages[id] = storage;
        RaftConfig raft = RaftConfig.builder(id, initialVoters, new SplittableRandom(seeds.nextLong()))
                .electionTicks(settings.electionTicks()).heartbeatTicks(settings.heartbeatTicks())
                .readPolicy(settings.readPolicy()).clockDriftTicks(settings.clockDriftTicks())
                .maxUncommittedBytes(settings.maxUncommittedBytes()).logCacheBytes(settings.logCacheBytes()).build();
        ThreadFactory threads = settings.platformThreads() ? Thread.ofPlatform().daemon().factory() : Thread.ofVirtual().factory();
        ClusterWiring.Joint joint = wiring.join(id, threads);
        StateMachine machine = settings.app() == null ? new KvStateMachine(settings.maxSessions())
                : new SessionMachine<>(settings.app(), settings.maxSessions());
        RaftNode.Builder b = RaftNode.builder(raft, storage, machine).transport(joint.connect())
                .tickInterval(settings.tickInterval()).onLeadershipChange(onLeadershipChange)
                .spinsBeforePark(settings.spinsBeforePark()).threads(threads).snapshotPolicy(settings.snapshots());
        // Only what was asked for: a node with a listener builds a report on every change of leadership.
        if (settings.listener() != null) b.listener(settings.listener());
        if (settings.passObserver() != null) b.passObserver(settings.passObserver());
        RaftNode node = b.build();
        nodes.set(id, node);
        if (settings.app() == null) {
            KvService service = new KvService(node, settings.limits());
            services.set(id, service);
            if (joint.server() != null) joint.server().attach(service, node::status);
        } else if (joint.server() != null) {
            joint.server().refuseRequests("this cluster runs " + settings.app() + ", not the key-value store", node::status);
        }
        node.start();
    }

    /**
     * Stops node {@code id} (its volatile state is lost) and closes its store.
     *
     * @throws IllegalStateException if it is down already
     * @throws RuntimeException      if its thread does not stop; the store then stays open under it
     */
    void kill(int id) {
        RaftNode n = nodes.get(id);
        if (n == null) throw new IllegalStateException("node " + id + " is already down");
        services.set(id, null);
        nodes.set(id, null);
        wiring.left(id);
        try {
            n.close();
        } catch (RuntimeException e) {
            // Its thread is stuck (in storage, say): it must not share the storage with a new one.
            stopping[id] = n;
            throw e;
        } finally {
            NodeStatus s = n.status();
            lastStatus[id] = new NodeStatus(id, false, Role.FOLLOWER, s.term(), 0, s.lastIndex(), s.commitIndex(),
                    s.appliedIndex());
            onLeadershipChange.run();
        }
        storages[id].close();
        storages[id] = null;
    }

    /**
     * Starts a killed (or failed) node again on its store.
     *
     * @throws IllegalStateException if it runs, or its old thread has not ended
     */
    void restart(int id) {
        RaftNode old = nodes.get(id);
        if (old != null && !old.stopped()) throw new IllegalStateException("node " + id + " is running; kill it first");
        if (old != null) kill(id); // its thread died on an error: clear up after it first
        if (stopping[id] != null) {
            if (!stopping[id].stopped()) {
                throw new IllegalStateException("node " + id + " is still stopping: its old thread has not ended, "
                        + "and the two must not share its storage");
            }
            stopping[id] = null;
            if (storages[id] != null) {
                storages[id].close();
                storages[id] = null;
            }
        }
        start(id);
    }

    /** Stops every node and closes the stores no stuck node still holds; the first failure to stop, or null. */
    RuntimeException closeAll() {
        RuntimeException first = null;
        for (int id = 1; id <= Cluster.MAX_NODE_ID; id++) {
            RaftNode n = nodes.getAndSet(id, null);
            services.set(id, null);
            if (n == null) continue;
            try {
                n.close();
            } catch (RuntimeException e) {
                stopping[id] = n;
                if (first == null) first = e;
            }
        }
        for (int id = 1; id <= Cluster.MAX_NODE_ID; id++) {
            // A storage whose node is still stuck in it stays open rather than be closed under it.
            if (storages[id] != null && stopping[id] == null) storages[id].close();
        }
        return first;
    }
}

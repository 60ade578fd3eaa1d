package io.raftkv.kv.net;

import io.raftkv.kv.KvLimits;
import io.raftkv.kv.KvService;
import io.raftkv.kv.KvStateMachine;
import io.raftkv.kv.net.internal.KvSocketServer;
import io.raftkv.node.ForceNewCluster;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.RaftNode;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.node.SnapshotStats;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.FeatureLevel;
import io.raftkv.raft.HardState;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.storage.FileStorage;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;
import io.raftkv.transport.TlsConfig;
import io.raftkv.transport.tcp.FrameCodec;
import io.raftkv.transport.tcp.TcpTransport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadFactory;
import java.util.function.UnaryOperator;

/**
 * One node of a cluster in socket mode, as {@code raftkv node} runs it: its log and hard state on disk
 * ({@link FileStorage}), its peers over TCP ({@link TcpTransport}), and the key-value service for clients
 * ({@link KvSocketServer}) on the same port as its peers.
 */
public final class SocketNode implements AutoCloseable {
    private final int id;
    private final Storage storage;
    private final RaftNode node;
    private final Map<Integer, InetSocketAddress> peers;
    private final MemberRoutes routes;
    /** How long {@link #close()} lets a leader take to hand leadership over: a few election timeouts. */
    private final Duration handOverTimeout;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * How a node runs: the cluster id its handshakes carry, its clock, whether it syncs the disk, whether
     * its threads (node loop, ticker, socket readers and writers) are platform threads rather than virtual
     * ones, when it snapshots, how much of its applied log it keeps on the heap, who may make admin requests, and
     * whether it runs TLS (null: in clear).
     */
    public record Options(String clusterId, Duration tickInterval, int electionTicks, int heartbeatTicks, boolean sync,
                          KvLimits limits, boolean platformThreads, SnapshotPolicy snapshots, Set<Integer> initialVoters,
                          ReadPolicy readPolicy, int clockDriftTicks, AdminAccess adminAccess, TlsConfig tls,
                          long logCacheBytes) {
        public Options {
            if (logCacheBytes < 1) throw new IllegalArgumentException("logCacheBytes must be >= 1, was " + logCacheBytes);
            Objects.requireNonNull(adminAccess, "adminAccess");
            Objects.requireNonNull(clusterId, "clusterId");
            Objects.requireNonNull(readPolicy, "readPolicy");
            Objects.requireNonNull(tickInterval, "tickInterval");
            Objects.requireNonNull(limits, "limits");
            Objects.requireNonNull(snapshots, "snapshots");
            initialVoters = Set.copyOf(Objects.requireNonNull(initialVoters, "initialVoters"));
        }

        /**
         * Cluster id "raftkv", 5 ms ticks, elections after 20 to 40 ticks, heartbeats every tick, fsync on,
         * platform threads (the node's thread serving its connections itself), {@link SnapshotPolicy#defaults()},
         * reads by ReadIndex, admin requests from the node's own host only, a 4 MiB log cache.
         */
        public static Options defaults() {
            return new Options("raftkv", Duration.ofMillis(5), 20, 1, true, KvLimits.DEFAULT, true, SnapshotPolicy.defaults(),
                    Set.of(), ReadPolicy.READ_INDEX, RaftConfig.DEFAULT_CLOCK_DRIFT_TICKS,
                    AdminAccess.loopbackOnly(), null, RaftConfig.DEFAULT_LOG_CACHE_BYTES);
        }

        public Options withClusterId(String id) {
            return new Options(id, tickInterval, electionTicks, heartbeatTicks, sync, limits, platformThreads, snapshots, initialVoters,
                    readPolicy, clockDriftTicks, adminAccess, tls, logCacheBytes);
        }

        public Options withSync(boolean s) {
            return new Options(clusterId, tickInterval, electionTicks, heartbeatTicks, s, limits, platformThreads, snapshots, initialVoters,
                    readPolicy, clockDriftTicks, adminAccess, tls, logCacheBytes);
        }

        public Options withTiming(Duration tick, int election, int heartbeat) {
            return new Options(clusterId, tick, election, heartbeat, sync, limits, platformThreads, snapshots, initialVoters,
                    readPolicy, clockDriftTicks, adminAccess, tls, logCacheBytes);
        }

        public Options withPlatformThreads(boolean platform) {
            return new Options(clusterId, tickInterval, electionTicks, heartbeatTicks, sync, limits, platform, snapshots, initialVoters,
                    readPolicy, clockDriftTicks, adminAccess, tls, logCacheBytes);
        }

        /**
         * The voters a new cluster starts with, a subset of the peers; empty (the default) means every peer.
         * A peer outside them starts outside the configuration and never campaigns until the leader adds it
         * ({@code raftkv client add-node}); it records them in its data directory, and its later starts use the
         * record and refuse a different non-empty set. The first voters write them, each with its address, as
         * the first configuration entry of their logs.
         */
        public Options withInitialVoters(Set<Integer> voters) {
            return new Options(clusterId, tickInterval, electionTicks, heartbeatTicks, sync, limits, platformThreads, snapshots,
                    voters, readPolicy, clockDriftTicks, adminAccess, tls, logCacheBytes);
        }

        /**
         * How the leader confirms reads (see {@link RaftConfig.Builder#readPolicy}); under {@link ReadPolicy#LEASE}
         * the lease leaves {@code clockDriftTicks} ticks of the election timeout for the hosts' clocks to drift apart.
         * Every node of a cluster should be started with the same.
         */
        public Options withReadPolicy(ReadPolicy policy, int clockDriftTicks) {
            return new Options(clusterId, tickInterval, electionTicks, heartbeatTicks, sync, limits, platformThreads, snapshots,
                    initialVoters, policy, clockDriftTicks, adminAccess, tls, logCacheBytes);
        }

        public Options withSnapshots(SnapshotPolicy policy) {
            return new Options(clusterId, tickInterval, electionTicks, heartbeatTicks, sync, limits, platformThreads, policy, initialVoters,
                    readPolicy, clockDriftTicks, adminAccess, tls, logCacheBytes);
        }

        /**
         * Who may change the membership, move leadership and take backups ({@link AdminAccess}): by default clients on the
         * node's own host only; give every node of a cluster the same.
         */
        public Options withAdminAccess(AdminAccess access) {
            return new Options(clusterId, tickInterval, electionTicks, heartbeatTicks, sync, limits, platformThreads, snapshots,
                    initialVoters, readPolicy, clockDriftTicks, access, tls, logCacheBytes);
        }

        /**
         * Runs every connection, peers' and clients', under TLS with {@code config} ({@link TcpTransport#secure}):
         * it must hold this node's certificate and key and the certificates the cluster trusts; null (the
         * default) runs in clear. Give every node of a cluster TLS, or none.
         */
        public Options withTls(TlsConfig config) {
            return new Options(clusterId, tickInterval, electionTicks, heartbeatTicks, sync, limits, platformThreads, snapshots,
                    initialVoters, readPolicy, clockDriftTicks, adminAccess, config, logCacheBytes);
        }

        /**
         * Bytes of applied, durable entries the node keeps on its heap (default 4 MiB; see
         * {@link RaftConfig.Builder#logCacheBytes}): its file store reads older ones back for a follower behind, so
         * the heap holds this much of the log whatever the snapshot interval.
         */
        public Options withLogCacheBytes(long bytes) {
            return new Options(clusterId, tickInterval, electionTicks, heartbeatTicks, sync, limits, platformThreads, snapshots,
                    initialVoters, readPolicy, clockDriftTicks, adminAccess, tls, bytes);
        }

        ThreadFactory threadFactory() {
            return platformThreads ? Thread.ofPlatform().daemon().factory() : Thread.ofVirtual().factory();
        }
    }

    /** Election timeouts a leader that {@link #close() closes} may take to hand leadership over. */
    static final int HAND_OVER_ELECTION_TIMEOUTS = 4;

    private SocketNode(int id, Storage storage, RaftNode node, Map<Integer, InetSocketAddress> peers, MemberRoutes routes,
                       Duration handOverTimeout) {
        this.id = id;
        this.routes = routes;
        this.storage = storage;
        this.node = node;
        this.peers = peers;
        this.handOverTimeout = handOverTimeout;
    }

    /**
     * Opens the node's store in {@code dataDir}, listens on its address in {@code peers}, and starts it.
     *
     * @param onChange called (on the node's thread: keep it short) when its role, term or leader may have changed
     * @throws java.io.UncheckedIOException if it cannot listen on its address (the message names it)
     * @throws io.raftkv.storage.StorageException if its store cannot be opened (the message says why)
     * @throws IllegalArgumentException if {@code peers} lacks {@code id} or a setting is out of range
     */
    public static SocketNode start(int id, Map<Integer, InetSocketAddress> peers, Path dataDir, Options options,
                                   Runnable onChange) {
        return start(id, peers, dataDir, options, onChange, transport -> transport);
    }

    /**
     * As {@link #start(int, Map, Path, Options, Runnable)}, with {@code setUp} applied to the node's transport
     * before it starts: to serve another protocol on the port too, or to dial peers from given local addresses.
     */
    public static SocketNode start(int id, Map<Integer, InetSocketAddress> peers, Path dataDir, Options options,
                                   Runnable onChange, UnaryOperator<TcpTransport> setUp) {
        Objects.requireNonNull(peers, "peers");
        Objects.requireNonNull(setUp, "setUp");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(onChange, "onChange");
        if (!peers.containsKey(id)) {
            throw new IllegalArgumentException("node " + id + " is not in the peer list " + new TreeMap<>(peers).keySet());
        }
        Set<Integer> voters = options.initialVoters().isEmpty() ? new TreeMap<>(peers).keySet() : options.initialVoters();
        if (!peers.keySet().containsAll(voters)) {
            throw new IllegalArgumentException("the initial voters " + new TreeSet<>(voters) + " are not all among the peers "
                    + new TreeMap<>(peers).keySet());
        }
        return start(id, peers, voters, false, dataDir, options, onChange, setUp);
    }

    /**
     * Starts a node that joins a running cluster knowing only {@code seeds}, the addresses of some of its nodes:
     * it asks them for the members and their addresses ({@link TcpKvConnector#members}), starts outside the
     * configuration (it never campaigns), listening on {@code address}, and asks the leader to make it a voter at
     * that address (a learner first, promoted once it has caught up); every member learns the address from the
     * configuration entry. Started again on its data after it joined (a seed still has to answer), it finds itself
     * a member and just runs.
     *
     * @throws io.raftkv.kv.KvException if no seed answered, or the leader refused to add it (the message says why)
     * @throws io.raftkv.client.OutcomeUnknownException if no leader confirmed the addition within {@code timeout}: it
     *     may still be added; join again (a learner already is promoted)
     */
    public static SocketNode join(int id, InetSocketAddress address, List<InetSocketAddress> seeds, Path dataDir,
                                  Options options, Runnable onChange, Duration timeout) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(options, "options");
        MemberList members = TcpKvConnector.members(seeds, options.clusterId(), timeout, options.tls());
        Map<Integer, InetSocketAddress> peers = new TreeMap<>(members.addresses());
        peers.put(id, address);
        // Until the leader's log reaches it, the node stands the seed's voters in for the configuration: it is not
        // among them (unless it is a voter already), so it never campaigns.
        SocketNode node = start(id, peers, members.voters(), true, dataDir, options, onChange, t -> t);
        if (members.voters().contains(id)) return node;
        Map<Integer, InetSocketAddress> others = new TreeMap<>(members.addresses());
        others.remove(id);
        try (TcpKvConnector cluster = new TcpKvConnector(others.isEmpty() ? Map.of(0, seeds.get(0)) : others,
                options.clusterId()).tls(options.tls())) {
            cluster.addVoterAt(id, address, timeout);
            return node;
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
    }

    private static SocketNode start(int id, Map<Integer, InetSocketAddress> peers, Set<Integer> voters, boolean joining,
                                    Path dataDir, Options options, Runnable onChange, UnaryOperator<TcpTransport> setUp) {
        // The store records the cluster's id: a node started on another cluster's data is refused, not joined.
        Storage storage = FileStorage.open(dataDir, FileStorage.Options.defaults().withSync(options.sync())
                .withClusterId(options.clusterId()));
        try {
            if (Files.exists(dataDir.resolve(FIRST_VOTERS_FILE))) {
                // A store from before the first voters were a configuration entry: its record still rules.
                voters = firstVoters(dataDir, options.initialVoters(), voters);
            } else if (isNew(storage) && !joining) {
                // A first voter writes the first configuration; a node outside it records the voters it waits
                // under, so that a restart with other --voters cannot make it a voter of its own making.
                if (voters.contains(id)) bootstrap(storage, voters, peers);
                else voters = firstVoters(dataDir, options.initialVoters(), voters);
            }
            // Otherwise the configuration is in the log or the snapshot (or comes with them, for a node joining):
            // the voters below only stand for it until then, and a node outside them never campaigns.
            RaftConfig config = RaftConfig.builder(id, voters, new SplittableRandom())
                    .electionTicks(options.electionTicks()).heartbeatTicks(options.heartbeatTicks())
                    .readPolicy(options.readPolicy()).clockDriftTicks(options.clockDriftTicks())
                    .logCacheBytes(options.logCacheBytes())
                    // Its peers may run older builds (a rolling upgrade): level 1 until the leader knows each supports more.
                    .initialFeatureLevel(FeatureLevel.BASE).build();
            ThreadFactory threads = options.threadFactory();
            KvSocketServer server = new KvSocketServer(id, options.clusterId(), FrameCodec.DEFAULT_MAX_FRAME_BYTES, threads);
            MemberRoutes routes = new MemberRoutes(id, peers);
            RaftNode node = RaftNode.builder(config, storage, new KvStateMachine(KvStateMachine.DEFAULT_MAX_SESSIONS))
                    .transport(sink -> {
                        TcpTransport t = new TcpTransport(id, peers, options.clusterId(), sink).serveAlso(server)
                                .threadFactory(threads);
                        if (options.tls() != null) t.secure(options.tls());
                        // A platform node thread may block in a selector: it serves its peers' and clients'
                        // connections itself.
                        if (options.platformThreads()) server.servedBy(t.pollInbound());
                        TcpTransport started = setUp.apply(t).start();
                        routes.attach(started);
                        return started;
                    })
                    .onConfiguration(routes::follow)
                    .tickInterval(options.tickInterval()).onLeadershipChange(onChange).threads(threads)
                    .snapshotPolicy(options.snapshots()).build();
            server.attach(new KvService(node, options.limits()), node::status);
            server.attachMembership(node, peers);
            server.adminAccess(options.adminAccess());
            node.start();
            return new SocketNode(id, storage, node, Map.copyOf(peers), routes,
                    options.tickInterval().multipliedBy((long) options.electionTicks() * HAND_OVER_ELECTION_TIMEOUTS));
        } catch (RuntimeException e) {
            storage.close();
            throw e;
        }
    }

    /** Whether {@code storage} holds nothing yet: no term, no log, no snapshot. */
    private static boolean isNew(Storage storage) {
        return storage.hardState().equals(HardState.INITIAL) && storage.entries().isEmpty() && storage.snapshot().isEmpty();
    }

    /**
     * Writes the cluster's first configuration into a new store as its first entry (index 1, term 1, committed),
     * as etcd bootstraps: the first voters, each with its address as its context. Every first voter writes the
     * same entry (they are started with the same peers and voters), so their logs agree from the start, and
     * from then on a node learns every member's address from the log.
     */
    private static void bootstrap(Storage storage, Set<Integer> voters, Map<Integer, InetSocketAddress> peers) {
        TreeMap<Integer, String> contexts = new TreeMap<>();
        for (int v : voters) contexts.put(v, MemberAddress.format(peers.get(v)));
        Entry first = new Entry(1, 1, Entry.Kind.CONFIG, Configuration.ofVoters(contexts).encode());
        storage.persist(new HardState(1, RaftCore.NONE, 1), List.of(first));
    }

    /** The file beside the store that records the voters the cluster started with. */
    static final String FIRST_VOTERS_FILE = "raftkv.first-voters";

    /**
     * The cluster's first voters, as this node's first start recorded them in {@code dataDir}, or {@code given}
     * recorded now. They are the configuration every node assumes until its log or snapshot holds one, so
     * they must never change: a node restarted with other first voters could count a majority of a
     * different set and elect a second leader. A {@code --voters} that differs from the record is refused.
     */
    static Set<Integer> firstVoters(Path dataDir, Set<Integer> asked, Set<Integer> given) {
        Set<Integer> stored = recordedFirstVoters(dataDir);
        if (!stored.isEmpty()) {
            if (!asked.isEmpty() && !new TreeSet<>(asked).equals(stored)) {
                throw new IllegalArgumentException("this node's data in " + dataDir + " belongs to a cluster whose first"
                        + " voters are " + stored + ", not " + new TreeSet<>(asked) + "; the first voters never change"
                        + " (membership changes go through raftkv client add-node / remove-node)");
            }
            return stored;
        }
        recordFirstVoters(dataDir, given);
        return Set.copyOf(given);
    }

    /** The first voters recorded in {@code dataDir}, in order; empty if none are. */
    private static Set<Integer> recordedFirstVoters(Path dataDir) {
        Path file = dataDir.resolve(FIRST_VOTERS_FILE);
        try {
            if (!Files.exists(file)) return Set.of();
            Set<Integer> stored = new TreeSet<>();
            for (String part : Files.readString(file, StandardCharsets.US_ASCII).strip().split(",")) {
                stored.add(Integer.parseInt(part.strip()));
            }
            return stored;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + " does not hold a list of node ids: " + e.getMessage());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Records {@code voters} as the first voters in {@code dataDir}: written aside, forced, then renamed over the record. */
    private static void recordFirstVoters(Path dataDir, Set<Integer> voters) {
        Path file = dataDir.resolve(FIRST_VOTERS_FILE);
        try {
            StringJoiner j = new StringJoiner(",", "", "\n");
            for (int v : new TreeSet<>(voters)) j.add(Integer.toString(v));
            Path temp = dataDir.resolve(FIRST_VOTERS_FILE + ".tmp");
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(j.toString().getBytes(StandardCharsets.US_ASCII)));
                ch.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ)) {
                dir.force(true);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The last resort after the cluster has lost a majority of its voters for good: rewrites this node's store in
     * {@code dataDir} so that it is a cluster of node {@code id} alone ({@link ForceNewCluster}: its whole log is
     * kept and committed, and a configuration entry naming it the only voter appended), and records it as the
     * first voters. Then {@link #start} it, with the same peers: it elects itself and serves, and the others,
     * wiped, rejoin as new members: started with {@link Options#withInitialVoters} of this node alone (so that
     * they wait to be added rather than campaign) and added one at a time. Writes the lost nodes committed and
     * this one never received are lost; see {@link ForceNewCluster}. Running it again on a store it rewrote
     * changes nothing.
     *
     * @throws IllegalStateException if {@code dataDir} holds no store, or one with no log and no snapshot
     * @throws io.raftkv.storage.StorageException if the store cannot be opened (another cluster's, say)
     */
    public static ForceNewCluster.Outcome forceNewCluster(int id, Path dataDir, Options options) {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(options, "options");
        boolean empty;
        try (var list = Files.isDirectory(dataDir) ? Files.list(dataDir) : java.util.stream.Stream.<Path>empty()) {
            empty = list.findAny().isEmpty();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + dataDir + ": " + e.getMessage(), e);
        }
        if (empty) {
            // Refused before FileStorage.open, which would make a new, empty store here.
            throw new IllegalStateException("there is no data in " + dataDir + " to force a new cluster from: a node"
                    + " with none joins a cluster as a new member");
        }
        try (Storage storage = FileStorage.open(dataDir, FileStorage.Options.defaults().withSync(options.sync())
                .withClusterId(options.clusterId()))) {
            ForceNewCluster.Outcome outcome = ForceNewCluster.rewrite(storage, id, recordedFirstVoters(dataDir));
            recordFirstVoters(dataDir, Set.of(id));
            return outcome;
        }
    }

    /**
     * Seeds a new store in {@code dataDir} from the backup in {@code backupFile} ({@link BackupFile}), as the store
     * of a new cluster whose only voter is node {@code id}: its snapshot is the backup's state, as of the backup's
     * index and term, and it records {@code id} as the first voter. Then {@link #start} it: it elects itself and
     * serves the backed-up data; more nodes join as new members (started with {@link Options#withInitialVoters}
     * of this node alone, then added). Everything is checked before anything is written: the backup's CRC, and
     * that its state is a key-value snapshot. Returns what was restored, in a sentence.
     *
     * @throws IllegalStateException    if {@code dataDir} exists and is not empty: a backup seeds a new store only
     * @throws IllegalArgumentException if the file is not a backup, or is damaged (the message says how)
     * @throws java.io.UncheckedIOException if the file cannot be read or the store written
     */
    public static String restore(int id, Path backupFile, Path dataDir, Options options) {
        Objects.requireNonNull(backupFile, "backupFile");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(options, "options");
        try (var list = Files.isDirectory(dataDir) ? Files.list(dataDir) : java.util.stream.Stream.<Path>empty()) {
            if (Files.exists(dataDir) && !Files.isDirectory(dataDir) || list.findAny().isPresent()) {
                throw new IllegalStateException(dataDir + " is not empty: a backup is restored only into a new, empty"
                        + " data directory (a node's data is never overwritten)");
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + dataDir + ": " + e.getMessage(), e);
        }
        BackupFile backup = BackupFile.read(backupFile);
        try {
            new KvStateMachine(KvStateMachine.DEFAULT_MAX_SESSIONS).restore(new java.io.ByteArrayInputStream(backup.state()));
        } catch (IOException e) {
            throw new IllegalArgumentException(backupFile + " is damaged: its state is not a key-value snapshot: "
                    + e.getMessage());
        }
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + dataDir + ": " + e.getMessage(), e);
        }
        try (Storage storage = FileStorage.open(dataDir, FileStorage.Options.defaults().withSync(options.sync())
                .withClusterId(options.clusterId()))) {
            SnapshotMeta meta = new SnapshotMeta(backup.index(), backup.term(), Configuration.ofVoters(Set.of(id)));
            try (SnapshotWriter w = storage.createSnapshot(meta)) {
                w.output().write(backup.state());
                w.output().flush();
                w.install();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot write the snapshot into " + dataDir + ": " + e.getMessage(), e);
            }
            // Its term is the backup's: a node whose term were behind its own log's last term could append entries
            // of an older term after it.
            storage.persist(new HardState(backup.term(), RaftCore.NONE, backup.index()), java.util.List.of());
        }
        recordFirstVoters(dataDir, Set.of(id));
        return "restored " + backup.describe() + " from " + backupFile + " into " + dataDir + ", as a new cluster of node "
                + id + " alone";
    }

    public int id() {
        return id;
    }

    /** The address it listens on, for peers and clients. */
    public InetSocketAddress address() {
        return peers.get(id);
    }

    /**
     * The nodes its transport exchanges messages with now, this one included, by id: the members of its
     * configuration, each at the address the configuration gives it (else the one it was started with).
     */
    public Map<Integer, InetSocketAddress> peers() {
        return routes.peers();
    }

    /** What the node last published: role, term, leader, indexes. */
    public NodeStatus status() {
        return node.status();
    }

    /**
     * The cluster's {@link FeatureLevel feature level} as this node's committed log has it: 1 until every member
     * supports more and the leader has raised it; it never goes down.
     */
    public int featureLevel() {
        return node.featureLevel();
    }

    /** Its snapshots taken and installed, and its in-memory log length, as last published. */
    public SnapshotStats snapshotStats() {
        return node.snapshotStats();
    }

    /** Why the node's thread died on its own, or null while it runs. */
    public Throwable failure() {
        return node.failure();
    }

    /** Stops the node gracefully: {@link #stopGracefully()}. Idempotent. */
    @Override
    public void close() {
        stopGracefully();
    }

    /** {@link #stopGracefully(Duration)}, giving a leader a few election timeouts to hand leadership over. */
    public int stopGracefully() {
        return stopGracefully(handOverTimeout);
    }

    /**
     * Stops the node (its thread, transport and client connections) and closes its store. A leader first hands
     * leadership to the voter whose log is most up to date and waits, at most {@code handOverTimeout}, until
     * that one leads (see {@link RaftNode#handOverLeadership}): the cluster goes on without waiting an election
     * timeout for a new leader, and clients see a pause of a few round trips. A follower just stops. Returns the
     * node it handed leadership to, or 0 if none (it did not lead, or not in time). Does nothing the second time.
     */
    public int stopGracefully(Duration handOverTimeout) {
        Objects.requireNonNull(handOverTimeout, "handOverTimeout");
        if (!closed.compareAndSet(false, true)) return 0;
        try {
            return node.stopGracefully(handOverTimeout);
        } finally {
            storage.close();
        }
    }
}

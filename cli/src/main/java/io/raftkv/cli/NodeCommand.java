package io.raftkv.cli;

import io.raftkv.kv.net.AdminAccess;
import io.raftkv.transport.TlsConfig;
import io.raftkv.kv.net.SocketNode;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.node.SnapshotStats;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.storage.StorageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.Callable;

/**
 * {@code raftkv node}: runs one node of a cluster in socket mode until SIGTERM or SIGINT, printing a line
 * whenever its role, term or leader changes. It stops gracefully: a leader first hands leadership over.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = {"Run one node of a cluster in socket mode (one per process or host) until SIGTERM or Ctrl-C.",
                "It stops gracefully: a leader first hands leadership to the voter whose log is most up to date, so"
                        + " the cluster does not wait an election timeout for a new one."})
public final class NodeCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--id", required = true, paramLabel = "ID", description = "This node's id: one of the ids in --peers.")
    private int id;

    @Option(names = "--peers", paramLabel = "ID=HOST:PORT,...", converter = PeerList.Converter.class,
            description = "Every node of the cluster, this one included, with the address it listens on for peers"
                    + " and clients, e.g. 1=10.0.0.1:7001,2=10.0.0.2:7001,3=10.0.0.3:7001. Required unless --join.")
    private PeerList peers;

    @Option(names = "--join", split = ",", paramLabel = "HOST:PORT,...",
            description = "Join a running cluster instead: ask these nodes (any member serves as a seed) for the members"
                    + " and their addresses, then ask the leader to add this node as a voter at --address (a learner"
                    + " first, promoted once it has caught up). Every member learns the address from the log.")
    private java.util.List<String> join;

    @Option(names = "--address", paramLabel = "HOST:PORT",
            description = "With --join: the address this node listens on for peers and clients, as the others reach it.")
    private String address;

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "Where this node keeps its log and term/vote (created if missing; reused on restart).")
    private Path data;

    @Option(names = "--cluster-id", defaultValue = "raftkv", paramLabel = "NAME",
            description = "Carried in every handshake: nodes and clients of other clusters are refused (default: ${DEFAULT-VALUE}).")
    private String clusterId;

    @Option(names = "--no-fsync", description = "Do not force writes to disk before acknowledging them (faster; a"
            + " power loss can lose acknowledged writes).")
    private boolean noFsync;

    @Option(names = "--tick-ms", defaultValue = "5", paramLabel = "MS", description = "Length of one tick (default: ${DEFAULT-VALUE}).")
    private int tickMillis;

    @Option(names = "--election-ticks", defaultValue = "20", paramLabel = "T",
            description = "Election timeout in ticks, randomized in [T, 2T) (default: ${DEFAULT-VALUE}).")
    private int electionTicks;

    @Option(names = "--reads", defaultValue = "read-index", paramLabel = "POLICY",
            description = "read-index or lease: how the leader confirms a linearizable read. read-index asks a majority"
                    + " with a heartbeat round per batch of reads; lease answers from the leader's lease, with no round,"
                    + " and assumes the hosts' clocks drift apart by at most --clock-drift-ticks over an election"
                    + " timeout. Give every node the same (default: ${DEFAULT-VALUE}).")
    private String reads;

    @Option(names = "--clock-drift-ticks", defaultValue = "2", paramLabel = "T",
            description = "With --reads lease, the ticks a lease leaves out of the election timeout for the hosts'"
                    + " clocks to drift apart; below --election-ticks (default: ${DEFAULT-VALUE}).")
    private int clockDriftTicks;

    @Option(names = "--threads", defaultValue = "platform", paramLabel = "KIND",
            description = "platform or virtual: the kind of thread the node loop, its ticker and its sockets run on."
                    + " On platform threads the node's own thread reads and writes its peers' and clients'"
                    + " connections, so a message wakes one thread, which the OS wakes directly; on virtual"
                    + " threads each connection has reader and writer threads (default: ${DEFAULT-VALUE}).")
    private String threads;

    @Option(names = "--voters", split = ",", paramLabel = "ID,...",
            description = "The voters a new cluster starts with, among --peers (default: every peer); give every"
                    + " node, those added later too, the same list. A peer left out starts outside the cluster,"
                    + " never campaigns, and joins when the leader adds it (raftkv client add-node ID); it records"
                    + " them in --data, and later starts use the record and refuse another list. The first voters"
                    + " write them, with their addresses, as the first entry of their logs.")
    private java.util.List<Integer> voters;

    @Option(names = "--snapshot-every", defaultValue = "8m", paramLabel = "SIZE",
            description = "Snapshot the state and compact the log once this much log (bytes, or with k, m or g)"
                    + " has been applied since the last snapshot, or as much as the last snapshot's size if that"
                    + " is larger (default: ${DEFAULT-VALUE}).")
    private String snapshotEvery;

    @Option(names = "--log-cache", defaultValue = "4m", paramLabel = "SIZE",
            description = "Keep at most this much of the applied log on the heap (bytes, or with k, m or g); older"
                    + " entries are read back from --data when a follower behind needs them. This bounds what the"
                    + " JVM's young collections copy, whatever --snapshot-every (default: ${DEFAULT-VALUE}).")
    private String logCache;

    @Option(names = "--pid-file", paramLabel = "FILE",
            description = "Write this process's id to FILE at start and remove it at a clean exit (SIGTERM or"
                    + " Ctrl-C). The node refuses to start if FILE names a running process; a file left by one that"
                    + " has ended is replaced.")
    private Path pidFile;

    @Option(names = "--force-new-cluster",
            description = "Last resort after losing a majority of the voters for good: make this node a cluster of"
                    + " itself alone from its own data before it starts (its whole log kept and committed; what the"
                    + " lost nodes had and it had not is lost), then run as usual. Refused on a node with no data."
                    + " Never start the lost nodes on their old data again: wipe them, start them with --voters"
                    + " naming this node, and add them back one at a time (raftkv client add-node).")
    private boolean forceNewCluster;

    @Option(names = "--restore", paramLabel = "FILE",
            description = "Start a new cluster from a backup (raftkv client snapshot save FILE): seed the empty --data"
                    + " with FILE's state, as a cluster of this node alone, then run as usual. Refused if --data is not"
                    + " empty or FILE is damaged (its CRC is checked). Add more nodes as for --force-new-cluster: on"
                    + " empty --data, with --voters naming this node, then raftkv client add-node. Once only: take it"
                    + " out of the command line after the first start.")
    private Path restore;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "A file that holds the cluster's admin token (its text, surrounding white space left out):"
                    + " membership changes and leadership transfers are taken only from clients that present it"
                    + " (raftkv client --admin-token-file). Give every node the same; keep the file readable by"
                    + " the node's user only. Without it, admin requests are taken only from clients on this host.")
    private Path adminTokenFile;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Run every connection, peers' and clients', under TLS, presenting this certificate: a PEM"
                    + " chain (leaf first, with --tls-key) or a PKCS#12 store (.p12, with --tls-password-file if it has"
                    + " a password). Peers must present certificates --tls-ca trusts (mutual TLS); clients must use"
                    + " TLS, and a client certificate --tls-ca trusts makes a client an administrator. Give every"
                    + " node TLS, or none.")
    private Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The PEM private key (PKCS#8, unencrypted) of --tls-cert.")
    private Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "The certificates to trust (the cluster's CA): PEM, or a PKCS#12 trust store.")
    private Path tlsCa;

    @Option(names = "--tls-password-file", paramLabel = "FILE",
            description = "A file that holds the password of a PKCS#12 --tls-cert (and --tls-ca).")
    private Path tlsPasswordFile;

    @Option(names = "--allow-unauthenticated-admin",
            description = "Without --admin-token-file, take admin requests from any client that reaches the node,"
                    + " not only from this host: only on a network where every client is trusted.")
    private boolean allowUnauthenticatedAdmin;

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        if (join != null) {
            if (peers != null || address == null) {
                throw new CommandLine.ParameterException(cl, "--join takes --address HOST:PORT (this node's) and no --peers:"
                        + " the members and their addresses come from the seeds");
            }
            java.util.Map<Integer, java.net.InetSocketAddress> self = new java.util.TreeMap<>();
            self.put(id, parseAddress(cl, "--address", address));
            peers = new PeerList(self);
            seeds = new java.util.ArrayList<>();
            for (String seed : join) seeds.add(parseAddress(cl, "--join", seed));
        } else if (peers == null) {
            throw new CommandLine.ParameterException(cl, "Missing required option: '--peers=ID=HOST:PORT,...' (or --join)");
        } else if (address != null) {
            throw new CommandLine.ParameterException(cl, "--address goes with --join; without it, this node's address is in --peers");
        }
        if (!peers.addresses().containsKey(id)) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--id': node " + id
                    + " is not in --peers " + peers.addresses().keySet());
        }
        if (!threads.equals("virtual") && !threads.equals("platform")) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--threads': '" + threads
                    + "'; expected virtual or platform");
        }
        if (!reads.equals("read-index") && !reads.equals("lease")) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--reads': '" + reads
                    + "'; expected read-index or lease");
        }
        if (tickMillis < 1) throw new CommandLine.ParameterException(cl, "Invalid value for option '--tick-ms': must be >= 1");
        if (electionTicks < 2) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--election-ticks': must be >= 2");
        }
        long snapshotBytes = parseSize(cl, snapshotEvery, "--snapshot-every");
        long logCacheBytes = parseSize(cl, logCache, "--log-cache");
        java.util.Set<Integer> initialVoters = voters == null ? java.util.Set.of() : new java.util.TreeSet<>(voters);
        if (!peers.addresses().keySet().containsAll(initialVoters)) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--voters': " + initialVoters
                    + " names nodes that are not in --peers " + peers.addresses().keySet());
        }
        if (restore != null && forceNewCluster) {
            throw new CommandLine.ParameterException(cl, "--restore and --force-new-cluster exclude each other: --restore"
                    + " starts a new cluster from a backup, on empty --data");
        }
        if (restore != null && !initialVoters.isEmpty() && !initialVoters.equals(java.util.Set.of(id))) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--voters': " + initialVoters
                    + "; with --restore this node becomes the only first voter: give --voters " + id + " or none");
        }
        if (forceNewCluster && !initialVoters.isEmpty() && !initialVoters.equals(java.util.Set.of(id))) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '--voters': " + initialVoters
                    + "; with --force-new-cluster this node becomes the only first voter: give --voters " + id + " or none");
        }
        if (adminTokenFile != null && allowUnauthenticatedAdmin) {
            throw new CommandLine.ParameterException(cl, "--admin-token-file and --allow-unauthenticated-admin exclude"
                    + " each other: with a token, admin requests need it");
        }
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        AdminAccess admin;
        try {
            admin = adminTokenFile != null ? AdminAccess.tokenFile(adminTokenFile)
                    : allowUnauthenticatedAdmin ? AdminAccess.anyone() : AdminAccess.loopbackOnly();
        } catch (UncheckedIOException | IllegalArgumentException e) {
            say(err, "raftkv node: " + e.getMessage());
            return 1;
        }
        TlsConfig tls;
        try {
            tls = new TlsFiles(tlsCert, tlsKey, tlsCa, tlsPasswordFile).load(true);
        } catch (IllegalArgumentException e) {
            say(err, "raftkv node: " + e.getMessage());
            return 1;
        }
        PidFile pid = null;
        if (pidFile != null) {
            try {
                pid = PidFile.claim(pidFile);
            } catch (IllegalStateException e) {
                say(err, "raftkv node: " + e.getMessage());
                return 1;
            } catch (IOException e) {
                say(err, "raftkv node: cannot write --pid-file " + pidFile + ": " + e);
                return 1;
            }
        }
        try {
            return run(out, err, snapshotBytes, logCacheBytes, initialVoters, admin, tls, pid);
        } finally {
            if (pid != null) pid.release(); // a shutdown hook releases it too, when the JVM is told to stop
        }
    }

    private int run(PrintWriter out, PrintWriter err, long snapshotBytes, long logCacheBytes,
                    java.util.Set<Integer> initialVoters, AdminAccess admin, TlsConfig tls, PidFile pid)
            throws InterruptedException {
        Semaphore changed = new Semaphore(0);
        SocketNode.Options options = SocketNode.Options.defaults().withClusterId(clusterId).withSync(!noFsync)
                .withTiming(Duration.ofMillis(tickMillis), electionTicks, 1)
                .withPlatformThreads(threads.equals("platform"))
                .withSnapshots(SnapshotPolicy.defaults().withLogBytes(snapshotBytes)).withLogCacheBytes(logCacheBytes)
                .withInitialVoters(initialVoters).withAdminAccess(admin).withTls(tls)
                .withReadPolicy(reads.equals("lease") ? ReadPolicy.LEASE : ReadPolicy.READ_INDEX, clockDriftTicks);
        SocketNode node;
        try {
            if (forceNewCluster) {
                // Loudly, on the error stream: this may have lost writes, and whoever reads the log must see it.
                say(err, "raftkv node: --force-new-cluster: " + SocketNode.forceNewCluster(id, data, options).describe());
            }
            if (restore != null) {
                try {
                    say(out, "raftkv node: --restore: " + SocketNode.restore(id, restore, data, options));
                } catch (UncheckedIOException e) {
                    say(err, "raftkv node: " + e.getMessage()); // it names the file; its cause may not
                    return 1;
                }
            }
            node = seeds != null
                    ? SocketNode.join(id, peers.addresses().get(id), seeds, data, options, changed::release, JOIN_TIMEOUT)
                    : SocketNode.start(id, peers.addresses(), data, options, changed::release);
        } catch (UncheckedIOException e) {
            say(err, "raftkv node: " + e.getCause().getMessage());
            return 1;
        } catch (StorageException | IllegalArgumentException | IllegalStateException | io.raftkv.client.ClientException e) {
            say(err, "raftkv node: " + e.getMessage());
            return 1;
        }
        say(out, String.format("node %d of cluster '%s' listening on %s for peers %s and clients%s; data in %s%s", id,
                clusterId, node.address(), node.peers().keySet(), tls != null ? " (TLS)" : "", data,
                noFsync ? " (no fsync)" : ""));

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Thread hook = new Thread(() -> {
            try {
                stopping.set(true);
                // A graceful stop: a leader hands leadership over first; then the transport, client connections
                // and store are closed in order.
                int to = node.stopGracefully();
                if (to != 0) say(out, "node " + id + " handed leadership to node " + to);
                if (pid != null) pid.release();
                say(out, "node " + id + " stopped");
                stopped.countDown();
            } finally {
                ExitAwareLogManager.done(); // what the node logged while stopping has gone out
            }
        }, "raftkv-node-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        ExitAwareLogManager.holdAtExit(); // after the hook is in: a SIGTERM before it would leave no one to say done

        NodeStatus shown = null;
        long installedShown = 0;
        while (stopped.getCount() > 0) {
            changed.tryAcquire(1, TimeUnit.SECONDS);
            changed.drainPermits();
            if (node.failure() != null) {
                say(err, "raftkv node: node " + id + " failed: " + node.failure());
                return 1;
            }
            NodeStatus s = node.status();
            if (stopping.get()) continue; // what a closing node publishes is not news
            if (shown == null || s.role() != shown.role() || s.term() != shown.term() || s.leader() != shown.leader()) {
                say(out, "term " + s.term() + ": " + s.role().name().toLowerCase(Locale.ROOT).replace('_', '-')
                        + (s.leader() == 0 ? ", no leader known" : s.leader() == id ? "" : ", leader is node " + s.leader()));
                shown = s;
            }
            SnapshotStats snapshots = node.snapshotStats();
            if (snapshots.installed() > installedShown) {
                installedShown = snapshots.installed();
                say(out, "installed the leader's snapshot up to index " + snapshots.snapshotIndex());
            }
        }
        return 0;
    }

    /** How long --join waits for a seed to answer and for the leader to add this node. */
    static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);

    /** The seeds --join names, parsed; null without --join. */
    private java.util.List<java.net.InetSocketAddress> seeds;

    private static java.net.InetSocketAddress parseAddress(CommandLine cl, String option, String value) {
        try {
            return io.raftkv.kv.net.MemberAddress.parse(value.strip());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '" + option + "': " + e.getMessage());
        }
    }

    /**
     * Prints one line of the node's own, with the time as its log records have it: a node's output and its
     * logs usually end up in one file, where every line should say when it happened.
     */
    private static void say(PrintWriter w, String line) {
        w.println(LogFormat.now() + " " + line);
        w.flush();
    }

    /** A size such as 65536, 512k, 64m or 1g (binary multiples). */
    static long parseSize(CommandLine cl, String text, String option) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> { }
            }
        }
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long n = Long.parseLong(digits);
            if (n < 1 || n > Long.MAX_VALUE / unit) throw new NumberFormatException();
            return n * unit;
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(cl, "Invalid value for option '" + option + "': '" + text
                    + "'; expected a positive size in bytes, optionally with k, m or g (e.g. 64m)");
        }
    }
}

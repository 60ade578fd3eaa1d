package io.raftkv.bench;

import io.raftkv.client.ReadFrom;
import io.raftkv.cluster.Cluster;
import io.raftkv.kv.KvClient;

import java.time.Duration;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/** An embedded raftkv cluster as a {@link CommitTarget}: writes are {@link KvClient#put} calls. */
public final class RaftkvTarget implements CommitTarget {
    private final Cluster cluster;
    private final boolean ownsCluster;
    private final Queue<KvClient> clients = new ConcurrentLinkedQueue<>();
    private final ReadFrom readFrom;

    /** Starts {@code builder}'s cluster and waits for its leader; {@link #close} closes the cluster. */
    public RaftkvTarget(Cluster.Builder builder) {
        this(builder, ReadFrom.LEADER);
    }

    /** As {@link #RaftkvTarget(Cluster.Builder)}, its readers reading from {@code readFrom}. */
    public RaftkvTarget(Cluster.Builder builder, ReadFrom readFrom) {
        this.readFrom = Objects.requireNonNull(readFrom, "readFrom");
        this.cluster = builder.start();
        this.ownsCluster = true;
        try {
            cluster.awaitLeader(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private RaftkvTarget(Cluster cluster) {
        this.readFrom = ReadFrom.LEADER;
        this.cluster = cluster;
        this.ownsCluster = false;
    }

    /**
     * A target over a cluster that is already running, such as the one of the cluster shell;
     * {@link #close} closes the clients it made and leaves the cluster running.
     */
    public static RaftkvTarget over(Cluster cluster) {
        return new RaftkvTarget(Objects.requireNonNull(cluster, "cluster"));
    }

    public Cluster cluster() {
        return cluster;
    }

    @Override
    public String name() {
        return "raftkv";
    }

    @Override
    public Writer newWriter() {
        KvClient client = cluster.newClient();
        clients.add(client);
        return client::put;
    }

    @Override
    public Reader newReader() {
        KvClient client = cluster.newClient().readFrom(readFrom);
        clients.add(client);
        return key -> client.get(key).orElse(null);
    }

    @Override
    public void close() {
        if (ownsCluster) {
            cluster.close();
        } else {
            for (KvClient c; (c = clients.poll()) != null; ) c.close();
        }
    }
}

package io.raftkv.bench;

import io.raftkv.cluster.Cluster;
import io.raftkv.kv.KvClient;

import java.time.Duration;

/** An embedded raftkv cluster as a {@link CommitTarget}: writes are {@link KvClient#put} calls. */
public final class RaftkvTarget implements CommitTarget {
    private final Cluster cluster;

    /** Starts {@code builder}'s cluster and waits for its leader. */
    public RaftkvTarget(Cluster.Builder builder) {
        this.cluster = builder.start();
        try {
            cluster.awaitLeader(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
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
        return client::put;
    }

    @Override
    public void close() {
        cluster.close();
    }
}

package io.raftkv.cluster;

import io.raftkv.kv.KvConnector;
import io.raftkv.transport.InMemoryNetwork;

import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;

/** Nodes joined by the in-memory network, which hands message objects over and injects its faults. */
final class MemoryWiring implements ClusterWiring {
    private final InMemoryNetwork network;

    MemoryWiring(InMemoryNetwork network) {
        this.network = network;
    }

    @Override
    public Joint join(int id, ThreadFactory threads) {
        return new Joint(sink -> network.connect(id, sink), null);
    }

    @Override
    public void left(int id) {
        network.disconnect(id);
    }

    @Override
    public KvConnector clients(KvConnector inProcess) {
        return inProcess;
    }

    @Override
    public String describe(Collection<Integer> members) {
        return String.valueOf(network.stats());
    }

    @Override
    public Optional<InetSocketAddress> address(int id) {
        return Optional.empty();
    }

    @Override
    public Optional<String> clusterId() {
        return Optional.empty();
    }

    @Override
    public void close() {}
}

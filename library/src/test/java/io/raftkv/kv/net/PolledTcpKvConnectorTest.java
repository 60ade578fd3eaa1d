package io.raftkv.kv.net;

import io.raftkv.cluster.Cluster;

/**
 * Every test of {@link TcpKvConnectorTest} again against nodes on platform threads, whose own threads
 * read their clients' requests and write the answers ({@code KvSocketServer.servedBy}) rather than a
 * reader and a writer thread per connection.
 */
class PolledTcpKvConnectorTest extends TcpKvConnectorTest {
    @Override
    Cluster.Builder builder() {
        return Cluster.builder().platformThreads(true);
    }
}

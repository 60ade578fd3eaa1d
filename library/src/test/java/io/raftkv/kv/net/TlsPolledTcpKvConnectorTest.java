package io.raftkv.kv.net;

import io.raftkv.cluster.Cluster;
import io.raftkv.transport.TlsConfig;

/**
 * Every test of {@link TcpKvConnectorTest} again under TLS, with each node's thread serving its clients'
 * connections itself: what a TLS connection holds of records already read (which the selector does not
 * report) is read all the same, a client that pipelines past the node's in-flight bound included.
 */
class TlsPolledTcpKvConnectorTest extends TcpKvConnectorTest {
    private static final TlsConfig NODE = TlsSocketTest.node();

    @Override
    Cluster.Builder builder() {
        return Cluster.builder().platformThreads(true).tls(NODE);
    }

    @Override
    TlsConfig tls() {
        return NODE;
    }
}

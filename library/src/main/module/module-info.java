/**
 * raftkv: Raft nodes, their storage and transports, the replicated key-value store, your own
 * replicated application, and {@link io.raftkv.cluster.Cluster}, a whole cluster in one JVM. The
 * exported packages are the API; the TCP wire format and links ({@code io.raftkv.transport.tcp}) are
 * not exported: socket mode's API is {@code io.raftkv.kv.net} (a node, and a client's connector).
 */
module io.raftkv {
    requires transitive io.raftkv.core;
    requires org.jctools.core;
    requires org.agrona;
    requires jdk.jfr;

    exports io.raftkv.app;
    exports io.raftkv.client;
    exports io.raftkv.cluster;
    exports io.raftkv.kv;
    exports io.raftkv.kv.net;
    exports io.raftkv.node;
    exports io.raftkv.storage;
    exports io.raftkv.transport;
}

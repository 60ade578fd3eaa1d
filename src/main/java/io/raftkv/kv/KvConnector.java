package io.raftkv.kv;

import java.util.List;
import java.util.function.Consumer;

/** How a {@link KvClient} reaches the nodes: in memory within one JVM, or over a network. */
public interface KvConnector {
    /** The ids of the nodes to try. */
    List<Integer> nodes();

    /** Sends {@code request} to {@code node}; {@code reply} is called at most once, from any thread. */
    void send(int node, KvRequest request, Consumer<KvResponse> reply);
}

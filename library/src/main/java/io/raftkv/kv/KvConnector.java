package io.raftkv.kv;

import java.util.List;
import java.util.function.Consumer;

/** How a {@link KvClient} reaches the nodes: in memory within one JVM, or over a network. */
public interface KvConnector {
    /**
     * The ids of the nodes to try, as they are now. A client asks again after each round of tries that
     * found no leader, so a connector whose nodes change (a cluster whose membership changes) keeps its
     * clients' list current.
     */
    List<Integer> nodes();

    /** Sends {@code request} to {@code node}; {@code reply} is called at most once, from any thread. */
    void send(int node, KvRequest request, Consumer<KvResponse> reply);

    /**
     * Sends a write whose command the client has already encoded as the log will hold it
     * ({@code command}, which nobody changes afterwards): a node in this process can propose those bytes
     * as they are (it checks them first). The default sends {@code request} alone, and the node encodes
     * it again: what a connector that crosses a process boundary does.
     */
    default void send(int node, KvRequest request, byte[] command, Consumer<KvResponse> reply) {
        send(node, request, reply);
    }

    /**
     * Proposes a write the client has encoded as the log will hold it, session and sequence number set
     * ({@code command}, which nobody changes afterwards), to a node in this process, with no request
     * object: the command says what it is. Returns false if this connector cannot (the default: one that
     * crosses a process boundary), and the client then uses {@link #send(int, KvRequest, byte[], Consumer)};
     * if it returns true, {@code reply} is called at most once, from any thread.
     */
    default boolean propose(int node, byte[] command, Consumer<KvResponse> reply) {
        return false;
    }
}

package io.raftkv.app;

import io.raftkv.node.Reply;

import java.util.List;

/** How an {@link AppClient} reaches the nodes of a cluster that runs its application. */
public interface AppConnector {
    /** The ids of the nodes to try, as they are now; asked again after a round of tries that found no leader. */
    List<Integer> nodes();

    /**
     * Proposes {@code entry} (which nobody changes afterwards) to {@code node}; {@code reply} is called at
     * most once, from any thread: with the entry's answer once it is committed and applied there, or with
     * why that node cannot take it.
     */
    void propose(int node, byte[] entry, Reply reply);

    /** Asks {@code node} for a linearizable read of {@code query}; {@code reply} as for {@link #propose}. */
    void read(int node, Object query, Reply reply);
}

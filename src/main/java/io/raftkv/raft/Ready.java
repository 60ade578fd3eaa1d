package io.raftkv.raft;

import java.util.List;

/**
 * Everything a {@link RaftCore} asks of its runtime after a batch of inputs. Handle it in this order:
 * <ol>
 *   <li>send {@link #messages()}, which promise nothing durable (a leader's appends go out before its
 *       own write, thesis §10.2.1);</li>
 *   <li>persist {@link #hardState()} (if not null) and {@link #entries()}: storage first drops any
 *       entries at or after the first one given, then appends them; one sync for both. If
 *       {@link #snapshot()} is not null, install that snapshot (which the runtime received from the leader:
 *       restore the state machine from it and make it the storage's snapshot, dropping the log the core
 *       dropped) after the hard state and before the entries, so that no crash leaves a stored snapshot of
 *       a term newer than the stored current term;</li>
 *   <li>send {@link #messagesAfterPersist()} (votes and acknowledgements, which promise durability);</li>
 *   <li>apply {@link #committedEntries()} in order, then serve {@link #readStates()}, whose indexes
 *       are at or below the last entry applied;</li>
 *   <li>call {@link RaftCore#advance(Ready)}.</li>
 * </ol>
 * {@link #droppedReads()} are reads this node can no longer serve (it lost leadership before a majority
 * confirmed it): answer them with a redirect. A read whose confirmation completed before the node lost
 * leadership is still released in {@link #readStates()}, possibly after the node became a follower;
 * it is linearizable all the same. {@link #role()}, {@link #term()} and {@link #leader()} describe the node afterwards.
 */
public record Ready(HardState hardState,
                    SnapshotMeta snapshot,
                    List<Entry> entries,
                    List<Message> messages,
                    List<Message> messagesAfterPersist,
                    List<Entry> committedEntries,
                    List<ReadState> readStates,
                    List<Long> droppedReads,
                    Role role,
                    long term,
                    int leader) {

    /** Whether there is anything to store before {@link #messagesAfterPersist()} may be sent. */
    public boolean mustPersist() {
        return hardState != null || snapshot != null || !entries.isEmpty();
    }
}

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
 * confirmed it; or, for a read a follower forwarded to its leader, the leader refused it, did not answer within
 * an election timeout, or a new term began): answer them with a redirect, and the reader may try again. A read
 * whose confirmation completed before the node lost leadership is still released in {@link #readStates()},
 * possibly after the node became a follower; it is linearizable all the same. {@link #role()}, {@link #term()} and {@link #leader()} describe the node afterwards.
 *
 * <p><b>Lifetime.</b> The Ready that {@link RaftCore#ready()} returns, and its lists, belong to the core,
 * which refills them on its next {@code ready()}: so that the steady state allocates no output objects
 * per pass, a runtime handles a Ready (and calls {@link RaftCore#advance(Ready)}) before it asks for the
 * next. A runtime that holds on to one for longer (a write still in flight, a test that compares two)
 * keeps {@link #copy()}, which stays as it is. The lists are read-only; the messages and entries in
 * them are immutable and may be kept.
 */
public final class Ready {
    private HardState hardState;
    private SnapshotMeta snapshot;
    private List<Entry> entries;
    private List<Message> messages;
    private List<Message> messagesAfterPersist;
    private List<Entry> committedEntries;
    private List<ReadState> readStates;
    private List<Long> droppedReads;
    private Role role;
    private long term;
    private int leader;

    /** The core's reusable one, filled by {@link #fill}. */
    Ready() {}

    private Ready(HardState hardState, SnapshotMeta snapshot, List<Entry> entries, List<Message> messages,
                  List<Message> messagesAfterPersist, List<Entry> committedEntries, List<ReadState> readStates,
                  List<Long> droppedReads, Role role, long term, int leader) {
        fill(hardState, snapshot, entries, messages, messagesAfterPersist, committedEntries, readStates, droppedReads,
                role, term, leader);
    }

    void fill(HardState hardState, SnapshotMeta snapshot, List<Entry> entries, List<Message> messages,
              List<Message> messagesAfterPersist, List<Entry> committedEntries, List<ReadState> readStates,
              List<Long> droppedReads, Role role, long term, int leader) {
        this.hardState = hardState;
        this.snapshot = snapshot;
        this.entries = entries;
        this.messages = messages;
        this.messagesAfterPersist = messagesAfterPersist;
        this.committedEntries = committedEntries;
        this.readStates = readStates;
        this.droppedReads = droppedReads;
        this.role = role;
        this.term = term;
        this.leader = leader;
    }

    /** An independent copy that later calls to {@link RaftCore#ready()} leave as it is. */
    public Ready copy() {
        return new Ready(hardState, snapshot, List.copyOf(entries), List.copyOf(messages), List.copyOf(messagesAfterPersist),
                List.copyOf(committedEntries), List.copyOf(readStates), List.copyOf(droppedReads), role, term, leader);
    }

    /** The hard state to persist, or null if it has not changed since the last Ready. */
    public HardState hardState() { return hardState; }

    /** A snapshot received from the leader to install, or null. */
    public SnapshotMeta snapshot() { return snapshot; }

    /** Entries to persist, replacing any stored at or after the first one's index. */
    public List<Entry> entries() { return entries; }

    /** Messages that may go out before the write. */
    public List<Message> messages() { return messages; }

    /** Messages that may go out only once the write is durable. */
    public List<Message> messagesAfterPersist() { return messagesAfterPersist; }

    /** Committed entries to apply, in order. */
    public List<Entry> committedEntries() { return committedEntries; }

    /** Confirmed reads whose index is applied once {@link #committedEntries()} are. */
    public List<ReadState> readStates() { return readStates; }

    /** Contexts of reads this node can no longer serve. */
    public List<Long> droppedReads() { return droppedReads; }

    public Role role() { return role; }

    public long term() { return term; }

    public int leader() { return leader; }

    /** Whether there is anything to store before {@link #messagesAfterPersist()} may be sent. */
    public boolean mustPersist() {
        return hardState != null || snapshot != null || !entries.isEmpty();
    }

    @Override
    public String toString() {
        return "Ready[hardState=" + hardState + ", snapshot=" + snapshot + ", entries=" + entries + ", messages=" + messages
                + ", messagesAfterPersist=" + messagesAfterPersist + ", committedEntries=" + committedEntries
                + ", readStates=" + readStates + ", droppedReads=" + droppedReads + ", role=" + role + ", term=" + term
                + ", leader=" + leader + "]";
    }
}

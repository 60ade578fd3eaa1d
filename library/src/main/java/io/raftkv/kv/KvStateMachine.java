package io.raftkv.kv;

import io.raftkv.app.Sessions;
import io.raftkv.node.StateMachine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The replicated key-value map with its client sessions. The writes: PUT; REPLACE (only if the key exists);
 * DELETE (says whether there was a value); CAS (sets the key only if it holds the expected value, or, expecting
 * none, only if it is absent; says whether it did). A session remembers a client's last sequence number and
 * answer, so that a retried write applies at most once and gets the first answer: a retried CAS whose first
 * answer was lost gets that answer, not a second comparison against what the map holds by then. Sessions are replicated state: they live and expire by the log alone (least recently used
 * beyond {@code maxSessions}), so every node expires the same ones at the same index. A client opens
 * its session with a registration entry whose log index becomes its id (Raft thesis §6.3); a
 * registration carries a nonce, and a retried one finds the session its first try opened.
 */
public final class KvStateMachine implements StateMachine {
    /** Default bound on sessions kept. */
    public static final int DEFAULT_MAX_SESSIONS = 100_000;

    private KvTable data = new KvTable();
    private final Sessions<KvResult> sessions;
    /** The command being applied, parsed in place (apply runs on the node's thread only). */
    private final KvCommand.Parsed command = new KvCommand.Parsed();

    public KvStateMachine(int maxSessions) {
        this.sessions = new Sessions<>(maxSessions);
    }

    public KvStateMachine() {
        this(DEFAULT_MAX_SESSIONS);
    }

    @Override
    public Object apply(long index, byte[] bytes) {
        KvCommand.Parsed c = command;
        c.parse(bytes); // checked again here: a node's propose() takes any bytes, and a bad value must not reach a snapshot
        if (c.op == KvCommand.Op.REGISTER) {
            // A retry of a registration that was applied already (its answer lost) gets that session again.
            Sessions.Session<KvResult> opened = sessions.useByNonce(c.clientId);
            if (opened != null) return new KvResult.Registered(opened.id);
            sessions.open(index, c.clientId);
            return new KvResult.Registered(index);
        }
        Sessions.Session<KvResult> s = sessions.use(c.clientId);
        // Sessions are opened only by registration, so an unknown id is one that was evicted: a
        // write under it could be a late retry of one already applied, and must not apply again.
        if (s == null) return KvResult.SESSION_EXPIRED;
        if (c.seq < s.lastSeq) return KvResult.STALE;
        if (c.seq == s.lastSeq) return s.lastResult;
        KvResult result = switch (c.op) {
            case PUT -> {
                data.put(bytes, c.keyOffset, c.keyLength, bytes, c.valueOffset, c.valueLength);
                yield KvResult.WRITTEN;
            }
            case REPLACE -> {
                if (data.containsKey(bytes, c.keyOffset, c.keyLength)) {
                    data.put(bytes, c.keyOffset, c.keyLength, bytes, c.valueOffset, c.valueLength);
                    yield KvResult.APPLIED;
                }
                yield KvResult.NOT_APPLIED;
            }
            case DELETE -> data.remove(bytes, c.keyOffset, c.keyLength) ? KvResult.APPLIED : KvResult.NOT_APPLIED;
            case CAS -> data.compareAndPut(bytes, c.keyOffset, c.keyLength, c.expectedLength < 0 ? null : bytes,
                    c.expectedOffset, c.expectedLength, bytes, c.valueOffset, c.valueLength)
                    ? KvResult.APPLIED : KvResult.NOT_APPLIED;
            case REGISTER -> throw new IllegalStateException("handled above");
        };
        s.lastSeq = c.seq;
        s.lastResult = result;
        return result;
    }

    /** Answers a GET: the query is the key; the answer its value, or null. */
    @Override
    public Object query(Object key) {
        return data.get((String) key);
    }

    /** Writes the map and the sessions (with their LRU order) in {@link KvSnapshot}'s format. */
    @Override
    public boolean canSnapshot() {
        return true;
    }

    @Override
    public void snapshot(OutputStream out) throws IOException {
        KvSnapshot.write(data, sessionsOldestFirst(), out);
    }

    /** A copy of the map's slots and of the sessions (values are shared: nobody changes a command's bytes). */
    @Override
    public Frozen freeze() {
        KvTable map = data.copy();
        LinkedHashMap<Long, KvSnapshot.Session> lruFirst = sessionsOldestFirst();
        return out -> KvSnapshot.write(map, lruFirst, out);
    }

    private LinkedHashMap<Long, KvSnapshot.Session> sessionsOldestFirst() {
        LinkedHashMap<Long, KvSnapshot.Session> lruFirst = new LinkedHashMap<>();
        sessions.forEachOldestFirst(s -> lruFirst.put(s.id, new KvSnapshot.Session(s.nonce, s.lastSeq, s.lastResult)));
        return lruFirst;
    }

    /** Replaces the map and the sessions with a snapshot's; a damaged one is refused and changes nothing. */
    @Override
    public void restore(InputStream in) throws IOException {
        KvSnapshot.State state = KvSnapshot.read(in); // fully checked before anything here changes
        data = state.data(); // read into a table of its own: nothing to copy
        sessions.clear();
        // Least recently used first, so the access order (and what is evicted next) is as it was.
        for (Map.Entry<Long, KvSnapshot.Session> e : state.sessions().entrySet()) {
            Sessions.Session<KvResult> s = sessions.open(e.getKey(), e.getValue().nonce());
            s.lastSeq = e.getValue().lastSeq();
            s.lastResult = e.getValue().lastResult();
        }
    }

    int sessionCount() {
        return sessions.size();
    }

    int size() {
        return data.size();
    }
}

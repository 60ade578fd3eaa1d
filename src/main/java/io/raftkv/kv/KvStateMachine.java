package io.raftkv.kv;

import io.raftkv.node.StateMachine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The replicated key-value map with its client sessions. A session remembers a client's last
 * sequence number and answer, so that a retried write applies at most once and gets the first
 * answer. Sessions are replicated state: they live and expire by the log alone (least recently used
 * beyond {@code maxSessions}), so every node expires the same ones at the same index. A client opens
 * its session with a registration entry whose log index becomes its id (Raft thesis §6.3).
 */
public final class KvStateMachine implements StateMachine {
    /** Default bound on sessions kept. */
    public static final int DEFAULT_MAX_SESSIONS = 100_000;

    private final Map<String, KvCommand.Utf8> data = new HashMap<>();
    private final LinkedHashMap<Long, Session> sessions;

    private static final class Session {
        long lastSeq;
        KvResult lastResult;
    }

    public KvStateMachine(int maxSessions) {
        if (maxSessions < 1) throw new IllegalArgumentException("maxSessions must be >= 1, was " + maxSessions);
        this.sessions = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Session> eldest) {
                return size() > maxSessions;
            }
        };
    }

    public KvStateMachine() {
        this(DEFAULT_MAX_SESSIONS);
    }

    @Override
    public Object apply(long index, byte[] command) {
        KvCommand.View c = KvCommand.decodeView(command);
        if (c.op() == KvCommand.Op.REGISTER) {
            sessions.put(index, new Session());
            return new KvResult.Registered(index);
        }
        Session s = sessions.get(c.clientId());
        // Sessions are opened only by registration, so an unknown id is one that was evicted: a
        // write under it could be a late retry of one already applied, and must not apply again.
        if (s == null) return KvResult.SESSION_EXPIRED;
        if (c.seq() < s.lastSeq) return KvResult.STALE;
        if (c.seq() == s.lastSeq) return s.lastResult;
        KvResult result = switch (c.op()) {
            case PUT -> {
                data.put(c.key(), c.value());
                yield KvResult.WRITTEN;
            }
            case REPLACE -> {
                if (data.containsKey(c.key())) {
                    data.put(c.key(), c.value());
                    yield KvResult.REPLACED;
                }
                yield KvResult.NOT_REPLACED;
            }
            case REGISTER -> throw new IllegalStateException("handled above");
        };
        s.lastSeq = c.seq();
        s.lastResult = result;
        return result;
    }

    /** Answers a GET: the query is the key; the answer its value, or null. */
    @Override
    public Object query(Object key) {
        KvCommand.Utf8 value = data.get((String) key);
        return value == null ? null : value.toString();
    }

    /** Writes the map and the sessions (with their LRU order) in {@link KvSnapshot}'s format. */
    @Override
    public boolean canSnapshot() {
        return true;
    }

    @Override
    public void snapshot(OutputStream out) throws IOException {
        LinkedHashMap<Long, KvSnapshot.Session> lruFirst = new LinkedHashMap<>();
        for (Map.Entry<Long, Session> e : sessions.entrySet()) {
            lruFirst.put(e.getKey(), new KvSnapshot.Session(e.getValue().lastSeq, e.getValue().lastResult));
        }
        KvSnapshot.write(data, lruFirst, out);
    }

    /** Replaces the map and the sessions with a snapshot's; a damaged one is refused and changes nothing. */
    @Override
    public void restore(InputStream in) throws IOException {
        KvSnapshot.State state = KvSnapshot.read(in); // fully checked before anything here changes
        data.clear();
        data.putAll(state.data());
        sessions.clear();
        // Least recently used first, so the access order (and what is evicted next) is as it was.
        for (Map.Entry<Long, KvSnapshot.Session> e : state.sessions().entrySet()) {
            Session s = new Session();
            s.lastSeq = e.getValue().lastSeq();
            s.lastResult = e.getValue().lastResult();
            sessions.put(e.getKey(), s);
        }
    }

    int sessionCount() {
        return sessions.size();
    }

    int size() {
        return data.size();
    }
}

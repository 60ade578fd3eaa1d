package io.raftkv.kv;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.function.Consumer;

/**
 * The client sessions of a {@link KvStateMachine}, by id, in least-recently-used order: a session
 * used is moved to the back, and beyond {@code max} the front one is evicted. A primitive-keyed map
 * and a list threaded through the sessions themselves: looking one up allocates nothing. Not
 * thread-safe: the node's thread owns it.
 */
final class KvSessions {
    /** One client's session: its last sequence number and the answer to it. */
    static final class Session {
        final long id;
        long lastSeq;
        KvResult lastResult;
        private Session older;
        private Session newer;

        Session(long id) {
            this.id = id;
        }
    }

    private final int max;
    private final Long2ObjectHashMap<Session> byId = new Long2ObjectHashMap<>();
    private Session oldest;
    private Session newest;

    KvSessions(int max) {
        if (max < 1) throw new IllegalArgumentException("maxSessions must be >= 1, was " + max);
        this.max = max;
    }

    int size() {
        return byId.size();
    }

    /** The session, now the most recently used; or null if there is none (never opened, or evicted). */
    Session use(long id) {
        Session s = byId.get(id);
        if (s != null && s != newest) {
            unlink(s);
            append(s);
        }
        return s;
    }

    /** Opens a new session as the most recently used one, evicting the least recently used beyond the bound. */
    Session open(long id) {
        Session s = new Session(id);
        Session old = byId.put(id, s);
        if (old != null) unlink(old);
        append(s);
        if (byId.size() > max) {
            Session evicted = oldest;
            unlink(evicted);
            byId.remove(evicted.id);
        }
        return s;
    }

    void clear() {
        byId.clear();
        oldest = newest = null;
    }

    /** Calls {@code visitor} for every session, least recently used first. */
    void forEachOldestFirst(Consumer<Session> visitor) {
        for (Session s = oldest; s != null; s = s.newer) visitor.accept(s);
    }

    private void append(Session s) {
        s.older = newest;
        s.newer = null;
        if (newest != null) newest.newer = s; else oldest = s;
        newest = s;
    }

    private void unlink(Session s) {
        if (s.older != null) s.older.newer = s.newer; else oldest = s.newer;
        if (s.newer != null) s.newer.older = s.older; else newest = s.older;
        s.older = s.newer = null;
    }
}

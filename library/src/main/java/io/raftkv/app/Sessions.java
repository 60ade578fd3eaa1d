package io.raftkv.app;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.function.Consumer;

/**
 * Client sessions of a replicated state machine, by id, in least-recently-used order: a session
 * used is moved to the back, and beyond {@code max} the front one is evicted. A primitive-keyed map
 * and a list threaded through the sessions themselves: looking one up allocates nothing. Not
 * thread-safe: the node's thread owns it. Both the key-value store and {@link SessionMachine} keep
 * their sessions here; an application never sees it.
 *
 * @param <R> the answers a session remembers
 */
public final class Sessions<R> {
    /** One client's session: its last sequence number and the answer to it. */
    public static final class Session<R> {
        public final long id;
        /** The nonce of the registration that opened it, or 0. */
        public final long nonce;
        public long lastSeq;
        public R lastResult;
        private Session<R> older;
        private Session<R> newer;

        Session(long id, long nonce) {
            this.id = id;
            this.nonce = nonce;
        }
    }

    private final int max;
    private final Long2ObjectHashMap<Session<R>> byId = new Long2ObjectHashMap<>();
    /** The live sessions opened by a registration that carried a nonce, by that nonce. */
    private final Long2ObjectHashMap<Session<R>> byNonce = new Long2ObjectHashMap<>();
    private Session<R> oldest;
    private Session<R> newest;

    public Sessions(int max) {
        if (max < 1) throw new IllegalArgumentException("maxSessions must be >= 1, was " + max);
        this.max = max;
    }

    public int size() {
        return byId.size();
    }

    /** The session, now the most recently used; or null if there is none (never opened, or evicted). */
    public Session<R> use(long id) {
        Session<R> s = byId.get(id);
        if (s != null && s != newest) {
            unlink(s);
            append(s);
        }
        return s;
    }

    /** The live session a registration with {@code nonce} opened, now the most recently used; or null. */
    public Session<R> useByNonce(long nonce) {
        Session<R> s = nonce == 0 ? null : byNonce.get(nonce);
        return s == null ? null : use(s.id);
    }

    /**
     * Opens a new session as the most recently used one, evicting the least recently used beyond the bound.
     * {@code nonce} is its registration's nonce, or 0.
     */
    public Session<R> open(long id, long nonce) {
        Session<R> s = new Session<>(id, nonce);
        Session<R> old = byId.put(id, s);
        if (old != null) {
            unlink(old);
            forget(old);
        }
        if (nonce != 0) byNonce.put(nonce, s); // apply looked it up first, and a snapshot holds no nonce twice
        append(s);
        if (byId.size() > max) {
            Session<R> evicted = oldest;
            unlink(evicted);
            byId.remove(evicted.id);
            forget(evicted);
        }
        return s;
    }

    private void forget(Session<R> s) {
        if (s.nonce != 0 && byNonce.get(s.nonce) == s) byNonce.remove(s.nonce);
    }

    public void clear() {
        byId.clear();
        byNonce.clear();
        oldest = newest = null;
    }

    /** Calls {@code visitor} for every session, least recently used first. */
    public void forEachOldestFirst(Consumer<Session<R>> visitor) {
        for (Session<R> s = oldest; s != null; s = s.newer) visitor.accept(s);
    }

    private void append(Session<R> s) {
        s.older = newest;
        s.newer = null;
        if (newest != null) newest.newer = s; else oldest = s;
        newest = s;
    }

    private void unlink(Session<R> s) {
        if (s.older != null) s.older.newer = s.newer; else oldest = s.newer;
        if (s.newer != null) s.newer.older = s.older; else newest = s.older;
        s.older = s.newer = null;
    }
}

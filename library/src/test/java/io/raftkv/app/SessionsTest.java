package io.raftkv.app;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The state machine's client sessions on their own: the least-recently-used list, eviction and the index of
 * registrations' nonces. In a cluster a session's id is the log index of its registration, so an id never
 * comes back; the tests below reuse ids on purpose, because that is the only way the API shows whether an
 * entry that should be gone is gone.
 */
class SessionsTest {

    private static List<Long> idsOldestFirst(Sessions<?> sessions) {
        List<Long> ids = new ArrayList<>();
        sessions.forEachOldestFirst(s -> ids.add(s.id));
        return ids;
    }

    /**
     * use() moves a session to the back of the eviction order, and eviction takes the front. A session that
     * use() took out of the order and did not put back would stay in the map but never be evicted (the bound
     * broken) and be missing from every snapshot: a follower restored from one would refuse that live client's
     * next write as expired while the leader applied it.
     */
    @Test
    void usingASessionMovesItToTheBackOfTheEvictionOrder() {
        Sessions<String> sessions = new Sessions<>(3);
        sessions.open(1, 0);
        sessions.open(2, 0);
        sessions.open(3, 0);
        assertNotNull(sessions.use(1));
        assertEquals(List.of(2L, 3L, 1L), idsOldestFirst(sessions));
        assertNotNull(sessions.use(1)); // the newest already
        assertEquals(List.of(2L, 3L, 1L), idsOldestFirst(sessions));
        assertNotNull(sessions.use(3));
        assertEquals(List.of(2L, 1L, 3L), idsOldestFirst(sessions));
        assertNull(sessions.use(99));
        sessions.open(4, 0); // evicts 2, the least recently used
        assertNull(sessions.use(2));
        assertEquals(List.of(1L, 3L, 4L), idsOldestFirst(sessions));
        assertEquals(3, sessions.size());
        sessions.open(5, 0); // then 1
        assertEquals(List.of(3L, 4L, 5L), idsOldestFirst(sessions));
        assertNull(sessions.use(1));
    }

    /**
     * Opening an id that is open already replaces that session in the map, in the use order and in the nonce
     * index. Apply never does it (ids are log indexes), but if a caller did and the old session stayed linked,
     * the use order would list one id twice: a snapshot would carry it twice, and evicting the ghost would
     * take the live session out of the map.
     */
    @Test
    void openingAnIdThatIsOpenReplacesItsSessionEverywhere() {
        Sessions<String> sessions = new Sessions<>(3);
        sessions.open(1, 41);
        sessions.open(2, 0);
        Sessions.Session<String> again = sessions.open(1, 41);
        assertEquals(2, sessions.size());
        assertEquals(List.of(2L, 1L), idsOldestFirst(sessions), "one entry for id 1, now the newest");
        assertSame(again, sessions.use(1));
        assertSame(again, sessions.useByNonce(41), "the nonce names the new session, not the replaced one");

        Sessions.Session<String> other = sessions.open(1, 42);
        assertNull(sessions.useByNonce(41), "the replaced session's nonce names nothing now");
        assertSame(other, sessions.useByNonce(42));
        assertEquals(List.of(2L, 1L), idsOldestFirst(sessions));
    }

    /**
     * An evicted session's nonce is forgotten with it. In a cluster what this bounds is memory: the nonce
     * index would otherwise keep one entry per registration ever evicted, and maxSessions would bound
     * nothing. Through the API it shows when the id comes back: the nonce must not find a session that
     * its registration did not open.
     */
    @Test
    void anEvictedSessionsNonceFindsNothingEvenWhenItsIdIsOpenedAgain() {
        Sessions<String> sessions = new Sessions<>(1);
        sessions.open(1, 41);
        sessions.open(2, 0); // evicts 1
        assertNull(sessions.use(1));
        assertNull(sessions.useByNonce(41));
        sessions.open(1, 0); // evicts 2; id 1 again, opened by no nonce
        assertNull(sessions.useByNonce(41), "nonce 41's session was evicted; this id 1 is another session");
        assertEquals(List.of(1L), idsOldestFirst(sessions));
    }

    /**
     * clear() (a snapshot being restored) empties the nonce index too, for the same reason as eviction:
     * otherwise every restore would leave the nonces of the sessions it replaced behind for good.
     */
    @Test
    void clearForgetsTheNoncesWithTheSessions() {
        Sessions<String> sessions = new Sessions<>(4);
        sessions.open(1, 41);
        sessions.open(2, 42);
        sessions.clear();
        assertEquals(0, sessions.size());
        assertEquals(List.of(), idsOldestFirst(sessions));
        sessions.open(1, 0);
        assertNull(sessions.useByNonce(41), "the cleared session's nonce names nothing");
        assertNull(sessions.useByNonce(42));
    }
}

package io.raftkv.kv;

import io.raftkv.client.SessionExpiredException;
import io.raftkv.node.RaftNode;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Role;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One node's KV service over a lone node (voters {1}): how requests map to log entries and reads, and
 * how state machine results map to responses, including the "session expired" refusal the client
 * turns into {@link SessionExpiredException}.
 */
class KvServiceTest {
    private static final long WAIT_MILLIS = 5_000;

    private final MemoryStorage storage = new MemoryStorage();
    private RaftNode node;
    private KvService service;
    private KvStateMachine machine;

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    private void startLoneNode(int maxSessions, boolean lead) {
        RaftConfig config = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).electionTicks(10).build();
        Transport nowhere = new Transport() {
            @Override
            public void send(Message message) {}

            @Override
            public void close() {}
        };
        machine = new KvStateMachine(maxSessions);
        node = RaftNode.builder(config, storage, machine).transport(sink -> nowhere).tickInterval(Duration.ofMillis(50)).build();
        node.start();
        service = new KvService(node, new KvLimits(8, 16));
        if (!lead) return;
        node.campaign();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (node.status().role() != Role.LEADER) {
            if (System.nanoTime() - deadline >= 0) fail("node 1 did not lead within " + WAIT_MILLIS + " ms: " + node.status());
            LockSupport.parkNanos(1_000_000);
        }
    }

    private KvResponse call(KvRequest request) {
        CompletableFuture<KvResponse> answer = new CompletableFuture<>();
        service.handle(request, answer::complete);
        return answer.orTimeout(WAIT_MILLIS, TimeUnit.MILLISECONDS).join();
    }

    private long register() {
        KvResponse r = call(new KvRequest(KvRequest.Kind.REGISTER, 0, 0, null, null));
        if (!(r instanceof KvResponse.Ok ok) || !(ok.value() instanceof Long id)) throw new AssertionError("register: " + r);
        return id;
    }

    /** A connector to the lone node 1, whose requests go to {@code send}. */
    private static KvConnector toTheNode(java.util.function.BiConsumer<KvRequest, Consumer<KvResponse>> send) {
        return new KvConnector() {
            @Override
            public List<Integer> nodes() {
                return List.of(1);
            }

            @Override
            public void send(int n, KvRequest request, Consumer<KvResponse> reply) {
                send.accept(request, reply);
            }
        };
    }

    private static KvRequest put(long client, long seq, String key, String value) {
        return new KvRequest(KvRequest.Kind.PUT, client, seq, key, value);
    }

    @Test
    void requestsMapToTheStateMachineAndBack() {
        startLoneNode(10, true);
        long session = register();
        assertTrue(session >= 2, "the session id is its entry's index, after the leader's no-op: " + session);

        assertEquals(new KvResponse.Ok(null), call(put(session, 1, "a", "1")));
        assertEquals(new KvResponse.Ok("1"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
        assertEquals(new KvResponse.Ok(true), call(new KvRequest(KvRequest.Kind.REPLACE, session, 2, "a", "2")));
        assertEquals(new KvResponse.Ok(false), call(new KvRequest(KvRequest.Kind.REPLACE, session, 3, "b", "2")));
        assertEquals(new KvResponse.Ok(null), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "b", null)));
        assertEquals(new KvResponse.Ok("2"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
    }

    @Test
    void deleteAndCasRequestsMapToTheStateMachineAndBack() {
        startLoneNode(10, true);
        long session = register();
        call(put(session, 1, "a", "1"));
        assertEquals(new KvResponse.Ok(false), call(new KvRequest(KvRequest.Kind.CAS, session, 2, "a", "x", "other")));
        assertEquals(new KvResponse.Ok(true), call(new KvRequest(KvRequest.Kind.CAS, session, 3, "a", "2", "1")));
        assertEquals(new KvResponse.Ok("2"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
        assertEquals(new KvResponse.Ok(true), call(new KvRequest(KvRequest.Kind.CAS, session, 4, "b", "new", null)));
        assertEquals(new KvResponse.Ok(false), call(new KvRequest(KvRequest.Kind.CAS, session, 5, "b", "again", null)));
        assertEquals(new KvResponse.Ok(true), call(new KvRequest(KvRequest.Kind.DELETE, session, 6, "a", null)));
        assertEquals(new KvResponse.Ok(false), call(new KvRequest(KvRequest.Kind.DELETE, session, 7, "a", null)));
        assertEquals(new KvResponse.Ok(null), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
        assertEquals(new KvResponse.Ok("new"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "b", null)));
    }

    @Test
    void aRetriedCasGetsItsFirstAnswer() {
        startLoneNode(10, true);
        long session = register();
        call(put(session, 1, "a", "1"));
        KvRequest cas = new KvRequest(KvRequest.Kind.CAS, session, 2, "a", "2", "1");
        assertEquals(new KvResponse.Ok(true), call(cas));
        assertEquals(new KvResponse.Ok(true), call(cas), "the retry is answered as the first try, not compared again");
        assertEquals(new KvResponse.Ok("2"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
    }

    @Test
    void badDeleteAndCasRequestsAreRefusedWithTheReason() {
        startLoneNode(10, true);
        assertEquals(new KvResponse.Refused("a DELETE carries no value"), call(new KvRequest(KvRequest.Kind.DELETE, 2, 1, "k", "v")));
        assertEquals(new KvResponse.Refused("key must not be null"), call(new KvRequest(KvRequest.Kind.DELETE, 2, 1, null, null)));
        assertEquals(new KvResponse.Refused("a write needs a sequence number >= 1, was 0"),
                call(new KvRequest(KvRequest.Kind.DELETE, 2, 0, "k", null)));
        assertEquals(new KvResponse.Refused("key is 9 bytes in UTF-8; the limit is 8"),
                call(new KvRequest(KvRequest.Kind.DELETE, 2, 1, "123456789", null)));
        assertEquals(new KvResponse.Refused("value must not be null"), call(new KvRequest(KvRequest.Kind.CAS, 2, 1, "k", null, "e")));
        assertEquals(new KvResponse.Refused("expected value is 17 bytes in UTF-8; the limit on values is 16"),
                call(new KvRequest(KvRequest.Kind.CAS, 2, 1, "k", "v", "x".repeat(17))));
        assertEquals(new KvResponse.Refused("only a CAS carries an expected value, not a PUT"),
                call(new KvRequest(KvRequest.Kind.PUT, 2, 1, "k", "v", "e")));
        assertEquals(1, storage.lastIndex(), "nothing but the leader's no-op reached the log");
    }

    @Test
    void aRetryGetsTheFirstAnswerAndAnOlderRequestIsRefused() {
        startLoneNode(10, true);
        long session = register();
        call(put(session, 1, "a", "1"));
        call(put(session, 2, "a", "2"));
        assertEquals(new KvResponse.Ok(null), call(put(session, 2, "a", "2")));
        assertEquals(new KvResponse.Refused("an older request of this session"), call(put(session, 1, "a", "1")));
        assertEquals(new KvResponse.Ok("2"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
    }

    @Test
    void anEvictedSessionIsRefusedAsSessionExpiredAndTheClientGoesOnUnderANewOne() {
        startLoneNode(1, true);
        KvConnector connector = toTheNode((request, reply) -> service.handle(request, reply));
        Duration wait = Duration.ofMillis(WAIT_MILLIS);
        try (KvClient first = new KvClient(connector, KvLimits.DEFAULT, wait, wait);
             KvClient second = new KvClient(connector, KvLimits.DEFAULT, wait, wait)) {
            first.put("a", "1");
            long firstSession = storage.lastIndex() - 1; // its registration, then its put
            second.put("b", "2"); // its registration evicts the first client's session (max 1)
            // A write under the evicted session is refused, and not applied.
            assertEquals(new KvResponse.Refused("session expired"), call(put(firstSession, 2, "a", "lost")));
            assertEquals(Optional.of("1"), second.get("a"), "the expired session's write was not applied");
            // The client's own write, refused so on its only try, goes again under a new session.
            first.put("a", "2");
            assertEquals(Optional.of("2"), first.get("a"));
        }
    }

    /**
     * A registration whose answer is lost is tried again with the same nonce and gets the session its first try
     * opened: no orphan session, which (at the session bound) would have pushed out another client's live one.
     */
    @Test
    void aRegistrationRetriedAfterALostAnswerOpensNoSecondSession() {
        startLoneNode(2, true);
        long other = register();
        assertEquals(new KvResponse.Ok(null), call(put(other, 1, "b", "1")));
        java.util.concurrent.atomic.AtomicInteger registrations = new java.util.concurrent.atomic.AtomicInteger();
        KvConnector losesTheFirstRegistrationAnswer = toTheNode((request, reply) -> {
            if (request.kind() == KvRequest.Kind.REGISTER && registrations.incrementAndGet() == 1) {
                service.handle(request, lost -> {}); // applied, but the answer never arrives
            } else {
                service.handle(request, reply);
            }
        });
        Duration wait = Duration.ofMillis(WAIT_MILLIS);
        try (KvClient client = new KvClient(losesTheFirstRegistrationAnswer, KvLimits.DEFAULT, wait, Duration.ofMillis(200))) {
            client.put("a", "1");
        }
        assertEquals(2, registrations.get(), "the registration was tried twice");
        assertEquals(2, machine.sessionCount(), "the other client's and this one's: no orphan");
        assertEquals(new KvResponse.Ok(null), call(put(other, 2, "b", "2")), "the other client's session is still live");
    }

    @Test
    void badRequestsAreRefusedWithTheReason() {
        startLoneNode(10, true);
        assertEquals(new KvResponse.Refused("request and its kind must not be null"), call(null));
        assertEquals(new KvResponse.Refused("request and its kind must not be null"), call(new KvRequest(null, 0, 0, "a", "b")));
        assertEquals(new KvResponse.Refused("key must not be null"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, null, null)));
        assertEquals(new KvResponse.Refused("key is 9 bytes in UTF-8; the limit is 8"), call(put(2, 1, "123456789", "v")));
        assertEquals(new KvResponse.Refused("value must not be null"), call(put(2, 1, "k", null)));
        assertEquals(new KvResponse.Refused("value is 17 bytes in UTF-8; the limit is 16"), call(put(2, 1, "k", "x".repeat(17))));
        assertEquals(new KvResponse.Refused("a write needs a sequence number >= 1, was 0"), call(put(2, 0, "k", "v")));
        assertEquals(1, storage.lastIndex(), "nothing but the leader's no-op reached the log");
    }

    private KvResponse call(KvRequest request, byte[] command) {
        CompletableFuture<KvResponse> answer = new CompletableFuture<>();
        service.handle(request, command, answer::complete);
        return answer.orTimeout(WAIT_MILLIS, TimeUnit.MILLISECONDS).join();
    }

    @Test
    void aWriteEncodedByTheClientIsCheckedThenProposedAsItIs() {
        startLoneNode(10, true);
        long session = register();
        long before = storage.lastIndex();
        byte[] good = KvCommand.encode(KvCommand.Op.PUT, session, 1, "a", "1");
        assertEquals(new KvResponse.Ok(null), call(put(session, 1, "a", "1"), good));
        assertEquals(new KvResponse.Ok("1"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
        assertEquals(before + 1, storage.lastIndex());

        // Bytes that do not say what the request says, break the limits or are not one command: refused, nothing logged.
        assertEquals(new KvResponse.Refused("the encoded command (PUT, session " + session + ", seq 2) does not match the request"
                        + " (REPLACE, session " + session + ", seq 2)"),
                call(new KvRequest(KvRequest.Kind.REPLACE, session, 2, "a", "2"), KvCommand.encode(KvCommand.Op.PUT, session, 2, "a", "2")));
        assertEquals(new KvResponse.Refused("the encoded command (PUT, session " + session + ", seq 3) does not match the request"
                        + " (PUT, session " + session + ", seq 2)"),
                call(put(session, 2, "a", "2"), KvCommand.encode(KvCommand.Op.PUT, session, 3, "a", "2")));
        assertEquals(new KvResponse.Refused("key is 9 bytes in UTF-8; the limit is 8"),
                call(put(session, 2, "123456789", "v"), KvCommand.encode(KvCommand.Op.PUT, session, 2, "123456789", "v")));
        assertEquals(new KvResponse.Refused("value is 17 bytes in UTF-8; the limit is 16"),
                call(put(session, 2, "k", "x".repeat(17)), KvCommand.encode(KvCommand.Op.PUT, session, 2, "k", "x".repeat(17))));
        byte[] badUtf8 = KvCommand.encode(KvCommand.Op.PUT, session, 2, "k", "v");
        badUtf8[badUtf8.length - 1] = (byte) 0xFF;
        assertTrue(call(put(session, 2, "k", "v"), badUtf8) instanceof KvResponse.Refused);
        assertTrue(call(put(session, 2, "k", "v"), java.util.Arrays.copyOf(good, 5)) instanceof KvResponse.Refused);
        assertEquals(new KvResponse.Refused("a write needs a sequence number >= 1, was 0"),
                call(put(session, 0, "k", "v"), KvCommand.encode(KvCommand.Op.PUT, session, 0, "k", "v")));
        assertEquals(before + 1, storage.lastIndex(), "no refused write reached the log");
    }

    private KvResponse propose(byte[] command) {
        CompletableFuture<KvResponse> answer = new CompletableFuture<>();
        service.propose(command, answer::complete);
        return answer.orTimeout(WAIT_MILLIS, TimeUnit.MILLISECONDS).join();
    }

    @Test
    void aWriteProposedAsItsCommandAloneIsCheckedAsTheCommandSays() {
        startLoneNode(10, true);
        long session = register();
        long before = storage.lastIndex();
        assertEquals(new KvResponse.Ok(null), propose(KvCommand.encode(KvCommand.Op.PUT, session, 1, "a", "1")));
        assertEquals(new KvResponse.Ok(true), propose(KvCommand.encode(KvCommand.Op.REPLACE, session, 2, "a", "2")));
        assertEquals(new KvResponse.Ok("2"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
        assertEquals(new KvResponse.Ok(true), propose(new KvCommand(KvCommand.Op.CAS, session, 3, "c", "x", null).encode()));
        assertEquals(new KvResponse.Ok(true), propose(new KvCommand(KvCommand.Op.DELETE, session, 4, "c", "").encode()));
        assertEquals(new KvResponse.Ok(null), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "c", null)));
        assertEquals(new KvResponse.Refused("expected value is 17 bytes in UTF-8; the limit on values is 16"),
                propose(new KvCommand(KvCommand.Op.CAS, session, 5, "c", "x", "x".repeat(17)).encode()));
        assertEquals(before + 4, storage.lastIndex(), "the refused CAS reached no entry");
        before += 2; // the CAS and the DELETE

        // Not a write, not one command, past the limits, bad UTF-8, no sequence number: refused, nothing logged.
        assertEquals(new KvResponse.Refused("not the command of a PUT, a REPLACE, a DELETE or a CAS"), propose(KvCommand.register().encode()));
        assertEquals(new KvResponse.Refused("not the command of a PUT, a REPLACE, a DELETE or a CAS"), propose(new byte[3]));
        byte[] good = KvCommand.encode(KvCommand.Op.PUT, session, 3, "a", "3");
        assertTrue(propose(java.util.Arrays.copyOf(good, good.length - 1)) instanceof KvResponse.Refused);
        assertEquals(new KvResponse.Refused("key is 9 bytes in UTF-8; the limit is 8"),
                propose(KvCommand.encode(KvCommand.Op.PUT, session, 3, "123456789", "v")));
        byte[] badUtf8 = KvCommand.encode(KvCommand.Op.PUT, session, 3, "k", "v");
        badUtf8[badUtf8.length - 1] = (byte) 0xFF;
        assertTrue(propose(badUtf8) instanceof KvResponse.Refused);
        assertEquals(new KvResponse.Refused("a write needs a sequence number >= 1, was 0"),
                propose(KvCommand.encode(KvCommand.Op.PUT, session, 0, "k", "v")));
        assertEquals(before + 2, storage.lastIndex(), "no refused write reached the log");
    }

    /**
     * Bytes beside a request count only for a write: a GET or a REGISTER that carries some (a connector that
     * attached them to the wrong request) is served as what it asks for. Otherwise a read would be proposed as
     * the write the bytes hold, and a client that asked to read would get a refusal, or change the map.
     */
    @Test
    void aCommandBesideARequestThatIsNotAWriteIsIgnored() {
        startLoneNode(10, true);
        long session = register();
        assertEquals(new KvResponse.Ok(null), call(put(session, 1, "a", "1")));
        byte[] write = KvCommand.encode(KvCommand.Op.PUT, session, 2, "a", "2");
        assertEquals(new KvResponse.Ok("1"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null), write));
        long next = storage.lastIndex() + 1;
        assertEquals(new KvResponse.Ok(next), call(new KvRequest(KvRequest.Kind.REGISTER, 0, 0, null, null), write),
                "a new session, whose id is its registration's index");
        assertEquals(new KvResponse.Refused("request and its kind must not be null"),
                call(new KvRequest(null, session, 2, "a", "2"), write));
        assertEquals(new KvResponse.Ok("1"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)), "nothing wrote a");
        assertEquals(next, storage.lastIndex(), "the registration was the only entry");
    }

    /** No bytes at all are not a write: refused as such, not thrown at the caller (a connection's thread). */
    @Test
    void proposingNoCommandIsRefusedAsNotAWrite() {
        startLoneNode(10, true);
        assertEquals(new KvResponse.Refused("not the command of a PUT, a REPLACE, a DELETE or a CAS"), propose(null));
        assertEquals(1, storage.lastIndex(), "nothing but the leader's no-op reached the log");
    }

    /**
     * A REPLACE is checked as a PUT is, and a missing key is refused for both: without the checks a REPLACE with
     * no sequence number would be logged, and its retry could never be told from a new write; a null key would
     * throw on the caller's thread and the client would get no answer.
     */
    @Test
    void aReplaceIsCheckedAsAPutAndAMissingKeyIsRefusedForBoth() {
        startLoneNode(10, true);
        for (KvRequest.Kind kind : new KvRequest.Kind[] {KvRequest.Kind.PUT, KvRequest.Kind.REPLACE}) {
            assertEquals(new KvResponse.Refused("key must not be null"), call(new KvRequest(kind, 2, 1, null, "v")), kind.name());
            assertEquals(new KvResponse.Refused("value must not be null"), call(new KvRequest(kind, 2, 1, "k", null)), kind.name());
            assertEquals(new KvResponse.Refused("a write needs a sequence number >= 1, was 0"),
                    call(new KvRequest(kind, 2, 0, "k", "v")), kind.name());
            assertEquals(new KvResponse.Refused("key is 9 bytes in UTF-8; the limit is 8"),
                    call(new KvRequest(kind, 2, 1, "123456789", "v")), kind.name());
        }
        assertEquals(1, storage.lastIndex(), "nothing but the leader's no-op reached the log");
    }

    /** Waits, parked, until {@code answer} is answered (the answer unparks this thread, its waiter). */
    private static KvResponse awaitAnswer(KvClient.PendingAnswer answer) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (!answer.isAnswered()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) fail("no answer within " + WAIT_MILLIS + " ms");
            LockSupport.parkNanos(answer, left);
        }
        return answer.response();
    }

    /**
     * A client in this process hands its own answer object over as the proposal (no adapter per write) and
     * gets the node's answer through it, converted as any reply is. Only bytes that were checked are logged:
     * an answer object that carries other bytes than the command proposed is answered through an adapter,
     * and its bytes are not proposed.
     */
    @Test
    void aClientsOwnAnswerObjectIsProposedWithItsCheckedCommandAndAnswered() {
        startLoneNode(10, true);
        long session = register();
        long before = storage.lastIndex();
        byte[] command = KvCommand.encode(KvCommand.Op.PUT, session, 1, "a", "1");
        KvClient.PendingAnswer answer = new KvClient.PendingAnswer(Thread.currentThread(), Long.MAX_VALUE, command);
        service.propose(command, answer);
        assertEquals(new KvResponse.Ok(null), awaitAnswer(answer));
        assertEquals(new KvResponse.Ok("1"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));

        byte[] checked = KvCommand.encode(KvCommand.Op.REPLACE, session, 2, "a", "2");
        byte[] other = KvCommand.encode(KvCommand.Op.PUT, session, 2, "b", "unchecked");
        KvClient.PendingAnswer mismatched = new KvClient.PendingAnswer(Thread.currentThread(), Long.MAX_VALUE, other);
        service.propose(checked, mismatched);
        assertEquals(new KvResponse.Ok(true), awaitAnswer(mismatched));
        assertEquals(new KvResponse.Ok("2"), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)));
        assertEquals(new KvResponse.Ok(null), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "b", null)));
        assertEquals(before + 2, storage.lastIndex());
    }

    /**
     * A leader holding as many uncommitted bytes as it may (its followers cut off) answers a write Unavailable,
     * with the reason, rather than NotLeader: the client backs off instead of looking for another leader. Three
     * nodes driven pass by pass on this thread, so nothing here waits on time.
     */
    @Test
    void aLeaderAtItsUncommittedBoundAnswersUnavailableWithTheReason() {
        java.util.ArrayDeque<Message> wire = new java.util.ArrayDeque<>();
        boolean[] cut = {false};
        java.util.Map<Integer, RaftNode> nodes = new java.util.TreeMap<>();
        for (int id = 1; id <= 3; id++) {
            RaftConfig config = RaftConfig.builder(id, Set.of(1, 2, 3), new SplittableRandom(id)).electionTicks(10)
                    .maxUncommittedBytes(200).build();
            Transport t = new Transport() {
                @Override
                public void send(Message m) {
                    if (!cut[0]) wire.add(m);
                }

                @Override
                public void close() {}
            };
            nodes.put(id, io.raftkv.node.NodeDriver.create(config, new MemoryStorage(), sink -> t, new KvStateMachine(),
                    Duration.ofMillis(5), () -> 0L, io.raftkv.node.SnapshotPolicy.defaults()));
        }
        RaftNode leader = nodes.get(1);
        Runnable settle = () -> {
            for (int round = 0; round < 1_000; round++) {
                for (RaftNode n : nodes.values()) while (io.raftkv.node.NodeDriver.hasWork(n)) io.raftkv.node.NodeDriver.step(n, false);
                if (wire.isEmpty()) return;
                while (!wire.isEmpty()) {
                    Message m = wire.poll();
                    nodes.get(m.to()).deliver(m);
                }
            }
            fail("the nodes never settled");
        };
        leader.campaign();
        settle.run();
        assertEquals(Role.LEADER, leader.status().role());
        KvService service = new KvService(leader, new KvLimits(8, 128));
        List<KvResponse> answers = new java.util.ArrayList<>();
        service.handle(new KvRequest(KvRequest.Kind.REGISTER, 0, 0, null, null), answers::add);
        settle.run();
        long session = (Long) ((KvResponse.Ok) answers.remove(0)).value();

        cut[0] = true; // the followers hear nothing more: nothing commits
        for (int seq = 1; seq <= 10 && answers.isEmpty(); seq++) {
            service.handle(put(session, seq, "k", "v".repeat(100)), answers::add);
            settle.run();
        }
        KvResponse.Unavailable busy = org.junit.jupiter.api.Assertions.assertInstanceOf(KvResponse.Unavailable.class,
                answers.get(0), "turned away, not left waiting nor sent to another leader");
        assertTrue(busy.reason().contains("maxUncommittedBytes"), busy.reason());
        for (RaftNode n : nodes.values()) n.close();
    }

    @Test
    void aNodeThatDoesNotLeadAnswersNotLeader() {
        startLoneNode(10, false);
        assertEquals(new KvResponse.NotLeader(0), call(put(2, 1, "k", "v")));
        assertEquals(new KvResponse.NotLeader(0), call(new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null)));
        assertEquals(new KvResponse.NotLeader(0), call(new KvRequest(KvRequest.Kind.REGISTER, 0, 0, null, null)));
    }
}

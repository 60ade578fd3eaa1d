package io.raftkv.kv;

import io.raftkv.client.SessionExpiredException;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.cluster.Await;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiFunction;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client against a scripted cluster: a fake {@link KvConnector} answers each request as the test
 * says (or never), and records every request it was sent.
 */
class KvClientTest {
    private static final long SESSION = 17;
    /** Generous: only a client that never gives up would exceed it. */
    private static final Duration SLOW = Duration.ofSeconds(5);

    /** What the fake sent where. */
    record Sent(int node, KvRequest request) {
        KvRequest.Kind kind() {
            return request.kind();
        }
    }

    /** A scripted cluster; {@code answer} returns the response, or null for a node that never answers. */
    static final class FakeCluster implements KvConnector {
        private final List<Integer> nodes;
        private final BiFunction<Integer, KvRequest, KvResponse> answer;
        private final List<Sent> sent = new ArrayList<>();

        FakeCluster(List<Integer> nodes, BiFunction<Integer, KvRequest, KvResponse> answer) {
            this.nodes = nodes;
            this.answer = answer;
        }

        @Override
        public List<Integer> nodes() {
            return nodes;
        }

        @Override
        public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
            synchronized (sent) {
                sent.add(new Sent(node, request));
            }
            KvResponse response = answer.apply(node, request);
            if (response != null) reply.accept(response);
        }

        List<Sent> sent() {
            synchronized (sent) {
                return List.copyOf(sent);
            }
        }

        List<Sent> sent(KvRequest.Kind kind) {
            return sent().stream().filter(s -> s.kind() == kind).toList();
        }
    }

    /** How a working leader answers: a session for REGISTER, done for PUT, true for REPLACE, DELETE and CAS, "v" for GET. */
    static KvResponse leaderAnswer(KvRequest r) {
        return switch (r.kind()) {
            case REGISTER -> new KvResponse.Ok(SESSION);
            case PUT -> new KvResponse.Ok(null);
            case REPLACE, DELETE, CAS -> new KvResponse.Ok(Boolean.TRUE);
            case GET -> new KvResponse.Ok("v");
        };
    }

    /** Node {@code leader} leads; the others point at it. */
    static FakeCluster ledBy(int leader, Integer... nodes) {
        return new FakeCluster(List.of(nodes), (node, r) -> node == leader ? leaderAnswer(r) : new KvResponse.NotLeader(leader));
    }

    static KvClient client(KvConnector connector, long deadlineMillis, long attemptMillis) {
        return new KvClient(connector, KvLimits.DEFAULT, Duration.ofMillis(deadlineMillis), Duration.ofMillis(attemptMillis));
    }

    static KvClient patientClient(KvConnector connector) {
        return client(connector, 2_000, 500);
    }

    // ---------------------------------------------------------------- finding the leader

    @Test
    void followsANotLeaderHintToTheNamedNodeAndKeepsUsingIt() {
        FakeCluster cluster = ledBy(3, 1, 2, 3);
        try (KvClient client = patientClient(cluster)) {
            client.put("k", "v1");
            assertEquals(Optional.of("v"), client.get("k"));
        }
        List<Sent> sent = cluster.sent();
        assertEquals(List.of(1, 3, 3, 3), sent.stream().map(Sent::node).toList(), sent.toString());
        assertEquals(List.of(KvRequest.Kind.REGISTER, KvRequest.Kind.REGISTER, KvRequest.Kind.PUT, KvRequest.Kind.GET),
                sent.stream().map(Sent::kind).toList());
    }

    @Test
    void readsFromAnyNodeGoToEveryNodeInTurnWhileWritesStayWithTheLeader() {
        FakeCluster cluster = new FakeCluster(List.of(1, 2, 3), (node, r) -> r.kind() == KvRequest.Kind.GET
                ? new KvResponse.Ok("v" + node) : node == 2 ? leaderAnswer(r) : new KvResponse.NotLeader(2));
        java.util.Set<String> seen = new java.util.TreeSet<>();
        try (KvClient client = patientClient(cluster).readFrom(io.raftkv.client.ReadFrom.ANY)) {
            client.put("k", "v");
            for (int i = 0; i < 6; i++) seen.add(client.get("k").orElseThrow());
            client.put("k", "w");
        }
        assertEquals(java.util.Set.of("v1", "v2", "v3"), seen, "every node answered some");
        List<Sent> sent = cluster.sent();
        assertEquals(new Sent(2, sent.get(sent.size() - 1).request()), sent.get(sent.size() - 1),
                "a read's answer said nothing of who leads: the write went straight to the leader");
        assertEquals(KvRequest.Kind.GET, sent.get(sent.size() - 2).kind());
    }

    @Test
    void withoutAHintItTriesTheNextNode() {
        FakeCluster cluster = new FakeCluster(List.of(1, 2, 3),
                (node, r) -> node == 3 ? leaderAnswer(r) : new KvResponse.NotLeader(0));
        try (KvClient client = patientClient(cluster)) {
            client.put("k", "v");
        }
        assertEquals(List.of(1, 2, 3, 3), cluster.sent().stream().map(Sent::node).toList());
    }

    @Test
    void anUnavailableNodeIsPassedOver() {
        FakeCluster cluster = new FakeCluster(List.of(1, 2),
                (node, r) -> node == 2 ? leaderAnswer(r) : new KvResponse.Unavailable("node 1 is down"));
        try (KvClient client = patientClient(cluster)) {
            client.put("k", "v");
        }
        long nonce = cluster.sent().get(0).request().clientId();
        assertTrue(nonce != 0, "a registration carries a nonce");
        assertEquals(List.of(new Sent(1, new KvRequest(KvRequest.Kind.REGISTER, nonce, 0, null, null)),
                new Sent(2, new KvRequest(KvRequest.Kind.REGISTER, nonce, 0, null, null)),
                new Sent(2, new KvRequest(KvRequest.Kind.PUT, SESSION, 1, "k", "v"))), cluster.sent(),
                "the registration tried again elsewhere carries the same nonce");
    }

    @Test
    void nodesThatAllRefuseAtOnceAreAskedAgainOnlyAfterABackOff() {
        // Every node answers on the caller's own thread (all down): without a real pause between rounds the
        // client would spin through its whole deadline, holding a core (a virtual thread: a carrier) that the
        // nodes need to come back.
        FakeCluster down = new FakeCluster(List.of(1, 2, 3), (node, r) -> new KvResponse.Unavailable("node " + node + " is down"));
        try (KvClient client = client(down, 300, 100)) {
            assertThrows(OutcomeUnknownException.class, () -> client.put("k", "v"));
        }
        int tries = down.sent().size();
        // Back-offs of 1, 2, 4 .. 32 ms after each round of three fit at most ~15 rounds into 300 ms.
        assertTrue(tries >= 3 && tries <= 60, "tried " + tries + " times in 300 ms");
    }

    @Test
    void aClientFindsNodesThatJoinedAfterItStarted() {
        // The nodes it started with are all gone (removed from the cluster); the connector now names others.
        List<Integer> members = new java.util.concurrent.CopyOnWriteArrayList<>(List.of(1, 2));
        FakeCluster cluster = new FakeCluster(members,
                (node, r) -> node == 4 ? leaderAnswer(r) : new KvResponse.Unavailable("node " + node + " is down"));
        try (KvClient client = patientClient(cluster)) {
            members.clear();
            members.addAll(List.of(3, 4));
            client.put("k", "v");
        }
        assertEquals(new Sent(4, new KvRequest(KvRequest.Kind.PUT, SESSION, 1, "k", "v")), cluster.sent().getLast());
    }

    @Test
    void aClientWhoseNodesAllFellSilentFindsTheNodesThereAreNow() {
        // The nodes it started with are gone for good and never answer (as over a network); the cluster now has others.
        List<Integer> members = new java.util.concurrent.CopyOnWriteArrayList<>(List.of(1, 2));
        FakeCluster cluster = new FakeCluster(members, (node, r) -> node == 3 ? leaderAnswer(r) : null);
        try (KvClient client = client(cluster, 5_000, 50)) {
            members.clear();
            members.add(3);
            client.put("k", "v");
        }
        assertEquals(new Sent(3, new KvRequest(KvRequest.Kind.PUT, SESSION, 1, "k", "v")), cluster.sent().getLast());
    }

    @Test
    void answersMayComeFromAnotherThread() {
        FakeCluster leader = ledBy(1, 1);
        KvConnector async = new KvConnector() {
            @Override
            public List<Integer> nodes() {
                return leader.nodes();
            }

            @Override
            public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
                Thread.ofVirtual().start(() -> leader.send(node, request, reply));
            }
        };
        try (KvClient client = patientClient(async)) {
            client.put("k", "v");
            assertTrue(client.replace("k", "w"));
            assertEquals(Optional.of("v"), client.get("k"));
        }
    }

    // ---------------------------------------------------------------- sessions and sequence numbers

    @Test
    void opensASessionOnceAndNumbersItsWritesOneTwoThree() {
        FakeCluster cluster = ledBy(1, 1, 2, 3);
        try (KvClient client = patientClient(cluster)) {
            client.put("a", "1");
            assertTrue(client.replace("a", "2"));
            assertEquals(Optional.of("v"), client.get("a"));
            client.put("b", "3");
        }
        assertEquals(1, cluster.sent(KvRequest.Kind.REGISTER).size());
        List<KvRequest> writes = cluster.sent().stream().map(Sent::request)
                .filter(r -> r.kind() == KvRequest.Kind.PUT || r.kind() == KvRequest.Kind.REPLACE).toList();
        assertEquals(List.of(new KvRequest(KvRequest.Kind.PUT, SESSION, 1, "a", "1"),
                new KvRequest(KvRequest.Kind.REPLACE, SESSION, 2, "a", "2"),
                new KvRequest(KvRequest.Kind.PUT, SESSION, 3, "b", "3")), writes);
        assertEquals(List.of(new KvRequest(KvRequest.Kind.GET, 0, 0, "a", null)),
                cluster.sent(KvRequest.Kind.GET).stream().map(Sent::request).toList(), "a read carries no session or sequence");
    }

    @Test
    void aReadNeedsNoSession() {
        FakeCluster cluster = ledBy(1, 1);
        try (KvClient client = patientClient(cluster)) {
            client.get("k");
        }
        assertTrue(cluster.sent(KvRequest.Kind.REGISTER).isEmpty());
    }

    @Test
    void replaceReturnsWhatTheClusterAnswered() {
        FakeCluster cluster = new FakeCluster(List.of(1),
                (node, r) -> r.kind() == KvRequest.Kind.REPLACE ? new KvResponse.Ok(Boolean.FALSE) : leaderAnswer(r));
        try (KvClient client = patientClient(cluster)) {
            assertFalse(client.replace("k", "v"));
        }
    }

    @Test
    void deleteAndCompareAndSetSendTheirRequestsInTheSessionAndReturnWhatTheClusterAnswered() {
        FakeCluster cluster = new FakeCluster(List.of(1), (node, r) ->
                r.kind() == KvRequest.Kind.CAS && r.expected() == null ? new KvResponse.Ok(Boolean.FALSE) : leaderAnswer(r));
        try (KvClient client = patientClient(cluster)) {
            assertTrue(client.delete("a"));
            assertTrue(client.compareAndSet("a", "old", "new"));
            assertFalse(client.compareAndSet("b", null, "created"));
        }
        List<KvRequest> writes = cluster.sent().stream().map(Sent::request).filter(r -> r.kind() != KvRequest.Kind.REGISTER).toList();
        assertEquals(List.of(new KvRequest(KvRequest.Kind.DELETE, SESSION, 1, "a", null),
                new KvRequest(KvRequest.Kind.CAS, SESSION, 2, "a", "new", "old"),
                new KvRequest(KvRequest.Kind.CAS, SESSION, 3, "b", "created", null)), writes);
    }

    @Test
    void aCasRetriedAfterATimeoutCarriesTheSameSequenceNumberAndExpectedValue() {
        // Node 1 opens the session, then stops answering writes; node 2 answers everything.
        FakeCluster cluster = new FakeCluster(List.of(1, 2), (node, r) ->
                node == 2 || r.kind() == KvRequest.Kind.REGISTER ? leaderAnswer(r) : null);
        try (KvClient client = client(cluster, SLOW.toMillis(), 20)) {
            assertTrue(client.compareAndSet("k", "old", "new"));
        }
        List<KvRequest> tries = cluster.sent(KvRequest.Kind.CAS).stream().map(Sent::request).distinct().toList();
        assertEquals(List.of(new KvRequest(KvRequest.Kind.CAS, SESSION, 1, "k", "new", "old")), tries);
        assertTrue(cluster.sent(KvRequest.Kind.CAS).size() >= 2, "tried again after the first attempt timed out");
    }

    @Test
    void anAbsentKeyReadsAsEmpty() {
        FakeCluster cluster = new FakeCluster(List.of(1), (node, r) -> new KvResponse.Ok(null));
        try (KvClient client = patientClient(cluster)) {
            assertEquals(Optional.empty(), client.get("k"));
        }
    }

    // ---------------------------------------------------------------- timeouts and retries

    @Test
    void afterAnAttemptTimesOutTheWriteIsRetriedOnAnotherNodeWithTheSameSequenceNumber() {
        // Node 1 opens the session, then stops answering writes; node 2 answers everything.
        FakeCluster cluster = new FakeCluster(List.of(1, 2), (node, r) ->
                node == 2 || r.kind() == KvRequest.Kind.REGISTER ? leaderAnswer(r) : null);
        try (KvClient client = client(cluster, SLOW.toMillis(), 20)) {
            client.put("k", "v");
            client.put("k", "w");
        }
        List<Sent> puts = cluster.sent(KvRequest.Kind.PUT);
        assertEquals(List.of(new Sent(1, new KvRequest(KvRequest.Kind.PUT, SESSION, 1, "k", "v")),
                new Sent(2, new KvRequest(KvRequest.Kind.PUT, SESSION, 1, "k", "v")),
                new Sent(2, new KvRequest(KvRequest.Kind.PUT, SESSION, 2, "k", "w"))), puts);
    }

    @Test
    void afterAnAttemptTimesOutTheNextAttemptGoesToADifferentNode() {
        // Node 1 redirects to node 2, which opens the session and then hangs; node 3 would answer.
        FakeCluster cluster = new FakeCluster(List.of(1, 2, 3), (node, r) -> switch (node) {
            case 1 -> new KvResponse.NotLeader(2);
            case 2 -> r.kind() == KvRequest.Kind.REGISTER ? leaderAnswer(r) : null;
            default -> leaderAnswer(r);
        });
        try (KvClient client = client(cluster, SLOW.toMillis(), 20)) {
            client.put("k", "v");
        }
        List<Integer> putNodes = cluster.sent(KvRequest.Kind.PUT).stream().map(Sent::node).toList();
        assertEquals(2, putNodes.get(0));
        assertNotEquals(2, putNodes.get(1), "retried the node that had just timed out: " + putNodes);
    }

    @Test
    void aWriteNoNodeConfirmsBeforeTheDeadlineThrowsOutcomeUnknown() {
        FakeCluster cluster = new FakeCluster(List.of(1, 2),
                (node, r) -> r.kind() == KvRequest.Kind.REGISTER ? leaderAnswer(r) : null);
        try (KvClient client = client(cluster, 60, 15)) {
            long start = System.nanoTime();
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.put("k", "v"));
            long elapsed = System.nanoTime() - start;

            assertTrue(e.getMessage().startsWith("PUT k: no node confirmed it within 60 ms"), e.getMessage());
            assertTrue(e.getMessage().contains("may or may not have been applied"), e.getMessage());
            assertTrue(e.getMessage().contains("will not be applied twice"), e.getMessage());
            assertTrue(elapsed >= TimeUnit.MILLISECONDS.toNanos(60), "gave up after " + elapsed + " ns");
            assertTrue(elapsed < SLOW.toNanos(), "gave up only after " + elapsed + " ns");
        }
        List<Sent> puts = cluster.sent(KvRequest.Kind.PUT);
        assertFalse(puts.isEmpty());
        for (Sent s : puts) assertEquals(new KvRequest(KvRequest.Kind.PUT, SESSION, 1, "k", "v"), s.request());
    }

    @Test
    void aReplaceNoNodeConfirmsThrowsOutcomeUnknownToo() {
        FakeCluster cluster = new FakeCluster(List.of(1),
                (node, r) -> r.kind() == KvRequest.Kind.REGISTER ? leaderAnswer(r) : null);
        try (KvClient client = client(cluster, 40, 10)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.replace("k", "v"));
            assertTrue(e.getMessage().startsWith("REPLACE k: "), e.getMessage());
            assertTrue(e.getMessage().contains("may or may not have been applied"), e.getMessage());
        }
    }

    @Test
    void theWriteAfterAnUnknownOutcomeTakesTheNextSequenceNumber() {
        boolean[] answering = {false};
        FakeCluster cluster = new FakeCluster(List.of(1),
                (node, r) -> r.kind() == KvRequest.Kind.REGISTER || answering[0] ? leaderAnswer(r) : null);
        try (KvClient client = client(cluster, 40, 10)) {
            assertThrows(OutcomeUnknownException.class, () -> client.put("k", "v"));
            answering[0] = true;
            client.put("k", "w");
        }
        List<Sent> puts = cluster.sent(KvRequest.Kind.PUT);
        assertEquals(new KvRequest(KvRequest.Kind.PUT, SESSION, 2, "k", "w"), puts.get(puts.size() - 1).request());
        assertEquals(1, cluster.sent(KvRequest.Kind.REGISTER).size(), "the session outlives a timed-out write");
    }

    @Test
    void aSessionNoNodeOpensBeforeTheDeadlineThrowsOutcomeUnknownAndIsTriedAgainNextTime() {
        boolean[] answering = {false};
        FakeCluster cluster = new FakeCluster(List.of(1), (node, r) -> answering[0] ? leaderAnswer(r) : null);
        try (KvClient client = client(cluster, 40, 10)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.put("k", "v"));
            assertTrue(e.getMessage().startsWith("PUT k (opening a session): "), e.getMessage());
            assertTrue(cluster.sent(KvRequest.Kind.PUT).isEmpty());
            answering[0] = true;
            client.put("k", "v");
        }
        assertEquals(new KvRequest(KvRequest.Kind.PUT, SESSION, 1, "k", "v"), cluster.sent(KvRequest.Kind.PUT).get(0).request());
    }

    @Test
    void aReadNoNodeAnswersBeforeTheDeadlineThrowsOutcomeUnknownSayingNothingWasRead() {
        FakeCluster cluster = new FakeCluster(List.of(1, 2, 3), (node, r) -> null);
        try (KvClient client = client(cluster, 50, 10)) {
            long start = System.nanoTime();
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            long elapsed = System.nanoTime() - start;
            assertTrue(e.getMessage().matches("GET k: no node confirmed it within 50 ms; nothing was read"
                    + " \\(last problem: node [123] did not answer within 10 ms\\)"), e.getMessage());
            assertTrue(elapsed >= TimeUnit.MILLISECONDS.toNanos(50) && elapsed < SLOW.toNanos(), elapsed + " ns");
        }
        assertTrue(cluster.sent().stream().allMatch(s -> s.kind() == KvRequest.Kind.GET));
    }

    @Test
    void theDeadlineCoversOpeningTheSessionToo() {
        // The session opens late, 250 ms into a 300 ms deadline, and the write is never answered.
        KvConnector slowRegister = new KvConnector() {
            @Override
            public List<Integer> nodes() {
                return List.of(1);
            }

            @Override
            public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
                if (request.kind() == KvRequest.Kind.REGISTER) {
                    CompletableFuture.delayedExecutor(250, TimeUnit.MILLISECONDS)
                            .execute(() -> reply.accept(new KvResponse.Ok(SESSION)));
                }
            }
        };
        try (KvClient client = client(slowRegister, 300, 300)) {
            long start = System.nanoTime();
            assertThrows(OutcomeUnknownException.class, () -> client.put("k", "v"));
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(elapsedMillis < 450, "a put with a 300 ms deadline took " + elapsedMillis + " ms");
        }
    }

    @Test
    void anInterruptedCallThrowsOutcomeUnknownAndKeepsTheInterrupt() {
        FakeCluster cluster = new FakeCluster(List.of(1), (node, r) -> null);
        try (KvClient client = client(cluster, SLOW.toMillis(), SLOW.toMillis())) {
            Thread.currentThread().interrupt();
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            assertTrue(Thread.interrupted(), "the interrupt must be kept");
            assertEquals("GET k: interrupted while waiting for an answer", e.getMessage());
        } finally {
            Thread.interrupted();
        }
    }

    // ---------------------------------------------------------------- refusals

    @Test
    void aWriteRefusedForAnExpiredSessionOnItsOnlyTryGoesAgainOnceUnderANewSession() {
        long[] sessions = {0};
        FakeCluster cluster = new FakeCluster(List.of(1), (node, r) -> switch (r.kind()) {
            case REGISTER -> new KvResponse.Ok(100 + ++sessions[0]);
            // Session 101 was evicted; 102 is alive.
            case PUT -> r.clientId() == 101 ? new KvResponse.Refused("session expired") : new KvResponse.Ok(null);
            default -> leaderAnswer(r);
        });
        try (KvClient client = patientClient(cluster)) {
            client.put("k", "v");
            client.put("k", "w");
        }
        List<KvRequest> sent = cluster.sent().stream().map(Sent::request).toList();
        long first = sent.get(0).clientId(), second = sent.get(2).clientId();
        assertTrue(first != 0 && second != 0 && first != second, "a new registration draws a new nonce: " + sent);
        assertEquals(List.of(new KvRequest(KvRequest.Kind.REGISTER, first, 0, null, null),
                new KvRequest(KvRequest.Kind.PUT, 101, 1, "k", "v"),
                new KvRequest(KvRequest.Kind.REGISTER, second, 0, null, null),
                new KvRequest(KvRequest.Kind.PUT, 102, 1, "k", "v"),
                new KvRequest(KvRequest.Kind.PUT, 102, 2, "k", "w")), sent);
    }

    @Test
    void aSessionExpiredRefusalAfterARenewalThrowsAndTheNextWriteOpensANewSession() {
        long[] sessions = {0};
        FakeCluster cluster = new FakeCluster(List.of(1), (node, r) -> switch (r.kind()) {
            case REGISTER -> new KvResponse.Ok(100 + ++sessions[0]);
            // Sessions 101 and 102 are evicted at once; 103 lives.
            case PUT -> r.clientId() < 103 ? new KvResponse.Refused("session expired") : new KvResponse.Ok(null);
            default -> leaderAnswer(r);
        });
        try (KvClient client = patientClient(cluster)) {
            SessionExpiredException e = assertThrows(SessionExpiredException.class, () -> client.put("k", "v"));
            assertEquals("PUT k: the cluster expired this client's session", e.getMessage());
            client.put("k", "w");
        }
        assertEquals(List.of(101L, 102L, 103L), cluster.sent(KvRequest.Kind.PUT).stream().map(Sent::request)
                .map(KvRequest::clientId).toList(), "one renewal for the refused write; the next write opens its own");
    }

    @Test
    void aWriteTriedMoreThanOnceIsNotRenewedWhenItsSessionExpires() {
        int[] puts = {0};
        FakeCluster cluster = new FakeCluster(List.of(1), (node, r) -> switch (r.kind()) {
            // The first try gets no answer (it may have been applied); the retry finds the session evicted.
            case PUT -> ++puts[0] == 1 ? null : new KvResponse.Refused("session expired");
            default -> leaderAnswer(r);
        });
        try (KvClient client = client(cluster, 2_000, 50)) {
            SessionExpiredException e = assertThrows(SessionExpiredException.class, () -> client.put("k", "v"));
            assertEquals("PUT k: the cluster expired this client's session; an earlier try of this write may or may not"
                    + " have been applied", e.getMessage());
        }
        assertEquals(2, cluster.sent(KvRequest.Kind.PUT).size(), "not sent again under a new session");
    }

    @Test
    void aRefusalAfterATryThatGotNoAnswerLeavesTheOutcomeUnknown() {
        int[] deletes = {0};
        // The first try of the DELETE gets no answer (an old leader may have applied it); the next leader refuses it.
        FakeCluster cluster = new FakeCluster(List.of(1), (node, r) -> switch (r.kind()) {
            case DELETE -> ++deletes[0] == 1 ? null : new KvResponse.Refused("the cluster runs at feature level 1");
            default -> leaderAnswer(r);
        });
        try (KvClient client = client(cluster, 2_000, 50)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.delete("k"));
            assertEquals("DELETE k: refused on a later try (the cluster runs at feature level 1), and an earlier try got no"
                    + " answer; it may or may not have been applied, and will not be applied twice", e.getMessage());
        }
        // Told "not the leader" first, the write was not taken: the refusal says all.
        FakeCluster definite = new FakeCluster(List.of(1, 2), (node, r) -> switch (r.kind()) {
            case DELETE -> node == 1 ? new KvResponse.NotLeader(2) : new KvResponse.Refused("no");
            default -> leaderAnswer(r);
        });
        try (KvClient client = patientClient(definite)) {
            KvException e = assertThrows(KvException.class, () -> client.delete("k"));
            assertEquals("DELETE k: refused: no", e.getMessage());
        }
    }

    @Test
    void anyOtherRefusalThrowsKvExceptionWithTheReason() {
        FakeCluster cluster = new FakeCluster(List.of(1, 2), (node, r) ->
                r.kind() == KvRequest.Kind.REGISTER ? leaderAnswer(r) : new KvResponse.Refused("an older request of this session"));
        try (KvClient client = patientClient(cluster)) {
            KvException put = assertThrows(KvException.class, () -> client.replace("k", "v"));
            assertSame(KvException.class, put.getClass());
            assertEquals("REPLACE k: refused: an older request of this session", put.getMessage());
            KvException get = assertThrows(KvException.class, () -> client.get("k"));
            assertSame(KvException.class, get.getClass());
            assertEquals("GET k: refused: an older request of this session", get.getMessage());
        }
        assertEquals(1, cluster.sent(KvRequest.Kind.REPLACE).size(), "a refusal is final: no retry");
        assertEquals(1, cluster.sent(KvRequest.Kind.GET).size(), "a refusal is final: no retry");
    }

    // ---------------------------------------------------------------- bad input and misuse

    @Test
    void nullKeysAndValuesThrowBeforeAnythingIsSent() {
        FakeCluster cluster = ledBy(1, 1);
        try (KvClient client = patientClient(cluster)) {
            // Each says which argument was null, not what the encoder tripped over.
            assertEquals("key must not be null", assertThrows(NullPointerException.class, () -> client.put(null, "v")).getMessage());
            assertEquals("value must not be null", assertThrows(NullPointerException.class, () -> client.put("k", null)).getMessage());
            assertEquals("key must not be null", assertThrows(NullPointerException.class, () -> client.replace(null, "v")).getMessage());
            assertEquals("value must not be null", assertThrows(NullPointerException.class, () -> client.replace("k", null)).getMessage());
            assertEquals("key must not be null", assertThrows(NullPointerException.class, () -> client.get(null)).getMessage());
            assertEquals("key must not be null", assertThrows(NullPointerException.class, () -> client.delete(null)).getMessage());
            assertEquals("key must not be null",
                    assertThrows(NullPointerException.class, () -> client.compareAndSet(null, "e", "v")).getMessage());
            assertEquals("newValue must not be null (delete removes a key)",
                    assertThrows(NullPointerException.class, () -> client.compareAndSet("k", "e", null)).getMessage());
        }
        assertEquals(List.of(), cluster.sent());
    }

    @Test
    void oversizedKeysAndValuesThrowBeforeAnythingIsSent() {
        FakeCluster cluster = ledBy(1, 1);
        try (KvClient client = new KvClient(cluster, new KvLimits(3, 4), SLOW, SLOW)) {
            assertEquals("key is 4 bytes in UTF-8; the limit is 3",
                    assertThrows(IllegalArgumentException.class, () -> client.put("kkkk", "v")).getMessage());
            assertEquals("value is 6 bytes in UTF-8; the limit is 4",
                    assertThrows(IllegalArgumentException.class, () -> client.put("k", "ééé")).getMessage());
            assertThrows(IllegalArgumentException.class, () -> client.replace("€€", "v"));
            assertThrows(IllegalArgumentException.class, () -> client.replace("k", "vvvvv"));
            assertThrows(IllegalArgumentException.class, () -> client.get("kkkk"));
            assertThrows(IllegalArgumentException.class, () -> client.delete("kkkk"));
            assertThrows(IllegalArgumentException.class, () -> client.compareAndSet("kkkk", "e", "v"));
            assertThrows(IllegalArgumentException.class, () -> client.compareAndSet("k", "e", "vvvvv"));
            assertEquals("expected value is 5 bytes in UTF-8; the limit on values is 4",
                    assertThrows(IllegalArgumentException.class, () -> client.compareAndSet("k", "eeeee", "v")).getMessage());
        }
        assertEquals(List.of(), cluster.sent());
    }

    @Test
    void refusedInputDoesNotUseUpASequenceNumber() {
        FakeCluster cluster = ledBy(1, 1);
        try (KvClient client = new KvClient(cluster, new KvLimits(3, 4), SLOW, SLOW)) {
            client.put("k", "v");
            assertThrows(IllegalArgumentException.class, () -> client.put("k", "vvvvv"));
            client.put("k", "w");
        }
        assertEquals(List.of(1L, 2L), cluster.sent(KvRequest.Kind.PUT).stream().map(s -> s.request().seq()).toList());
    }

    @Test
    void aClosedClientThrowsIllegalStateAndSendsNothing() {
        FakeCluster cluster = ledBy(1, 1);
        KvClient client = patientClient(cluster);
        client.put("k", "v");
        int before = cluster.sent().size();
        client.close();
        assertEquals("this client is closed", assertThrows(IllegalStateException.class, () -> client.put("k", "v")).getMessage());
        assertThrows(IllegalStateException.class, () -> client.replace("k", "v"));
        assertThrows(IllegalStateException.class, () -> client.get("k"));
        assertEquals(before, cluster.sent().size());
    }

    @Test
    void aClientThatWasNeverUsedThrowsIllegalStateOnceClosed() {
        FakeCluster cluster = ledBy(1, 1);
        KvClient client = patientClient(cluster);
        client.close();
        assertThrows(IllegalStateException.class, () -> client.put("k", "v"));
        assertEquals(List.of(), cluster.sent());
    }

    @Test
    void theConstructorRefusesNonPositiveTimesAndAConnectorWithoutNodes() {
        FakeCluster cluster = ledBy(1, 1);
        assertEquals("deadline must be positive, was PT0S", assertThrows(IllegalArgumentException.class,
                () -> new KvClient(cluster, KvLimits.DEFAULT, Duration.ZERO, SLOW)).getMessage());
        assertEquals("attemptTimeout must be positive, was PT-0.001S", assertThrows(IllegalArgumentException.class,
                () -> new KvClient(cluster, KvLimits.DEFAULT, SLOW, Duration.ofMillis(-1))).getMessage());
        assertEquals("the connector names no nodes", assertThrows(IllegalArgumentException.class,
                () -> new KvClient(new FakeCluster(List.of(), (n, r) -> null), KvLimits.DEFAULT, SLOW, SLOW)).getMessage());
        assertThrows(NullPointerException.class, () -> new KvClient(null, KvLimits.DEFAULT, SLOW, SLOW));
    }

    /** Without it a zero attempt timeout (every attempt over before it began) or a negative deadline would be taken. */
    @Test
    void theConstructorRefusesAZeroAttemptTimeoutAndANegativeDeadline() {
        FakeCluster cluster = ledBy(1, 1);
        assertEquals("attemptTimeout must be positive, was PT0S", assertThrows(IllegalArgumentException.class,
                () -> new KvClient(cluster, KvLimits.DEFAULT, SLOW, Duration.ZERO)).getMessage());
        assertEquals("deadline must be positive, was PT-1S", assertThrows(IllegalArgumentException.class,
                () -> new KvClient(cluster, KvLimits.DEFAULT, Duration.ofSeconds(-1), SLOW)).getMessage());
    }

    // ---------------------------------------------------------------- threads

    /**
     * Runs {@code call} on another thread and waits for it to finish; fails at once if that thread parks on a
     * lock (the client's turn, which nothing would ever give back). The calls here are answered on the caller's
     * thread: the lock is the only thing they could wait for.
     */
    private static void inAnotherThread(Runnable call) throws InterruptedException {
        Throwable[] failure = new Throwable[1];
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                call.run();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        long give = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!t.join(Duration.ofMillis(5))) {
            if (LockSupport.getBlocker(t) instanceof java.util.concurrent.locks.AbstractQueuedSynchronizer) {
                throw new AssertionError("another thread's call waits for a turn the last call did not give back");
            }
            assertTrue(System.nanoTime() - give < 0, "another thread's call did not finish in 30 s");
        }
        if (failure[0] != null) throw new AssertionError(failure[0]);
    }

    /** Without it one call that returned (or threw) would leave every other thread's call waiting forever. */
    @Test
    void afterEachCallReturnsOrThrowsAnotherThreadTakesItsTurn() throws InterruptedException {
        FakeCluster cluster = ledBy(1, 1);
        try (KvClient client = patientClient(cluster)) {
            client.put("k", "v");
            inAnotherThread(() -> client.put("k", "w"));
            assertTrue(client.replace("k", "x"));
            inAnotherThread(() -> client.put("k", "y"));
            assertEquals(Optional.of("v"), client.get("k"));
            inAnotherThread(() -> client.put("k", "z"));
            assertThrows(IllegalArgumentException.class, () -> client.put("k", "v".repeat(KvLimits.DEFAULT.maxValueBytes() + 1)));
            inAnotherThread(() -> client.get("k"));
        }
        assertEquals(List.of(KvRequest.Kind.REGISTER, KvRequest.Kind.PUT, KvRequest.Kind.PUT, KvRequest.Kind.REPLACE,
                KvRequest.Kind.PUT, KvRequest.Kind.GET, KvRequest.Kind.PUT, KvRequest.Kind.GET),
                cluster.sent().stream().map(Sent::kind).toList());
    }

    /** Without it a call waiting for a slow node would keep a core busy (a virtual thread: a carrier the nodes need). */
    @Test
    void aCallWaitingForAnAnswerParksItsThreadUntilClosed() throws InterruptedException {
        FakeCluster silent = new FakeCluster(List.of(1), (node, r) -> null);
        KvClient client = client(silent, 60_000, 60_000);
        Throwable[] outcome = new Throwable[1];
        Thread caller = Thread.ofPlatform().daemon().start(() -> {
            try {
                client.get("k");
            } catch (Throwable e) {
                outcome[0] = e;
            }
        });
        try {
            Await.until("the waiting call parks", Duration.ofSeconds(30), () -> !caller.isAlive()
                    || (caller.getState() == Thread.State.WAITING && LockSupport.getBlocker(caller) instanceof KvClient.PendingAnswer),
                    () -> "it is " + caller.getState());
            assertTrue(caller.isAlive(), "the call ended: " + outcome[0]);
        } finally {
            client.close();
        }
        assertTrue(caller.join(Duration.ofSeconds(30)), "close() did not end the waiting call");
        assertEquals("GET k: the client was closed before an answer came; nothing was read", outcome[0].getMessage());
    }
}

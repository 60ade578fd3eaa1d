package io.raftkv.kv;

import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.node.Proposal;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client on a clock the test moves ({@link ClientTime}): its deadlines, attempt timeouts and back-offs,
 * checked to the nanosecond, on the caller's thread, with no real waiting.
 */
class KvClientTimeTest {
    private static final long MS = 1_000_000L;
    /** Far from zero: a client that added two readings of the clock where it should subtract them shows. */
    private static final long T0 = 1_000_000 * MS;
    private static final long SESSION = 17;

    /**
     * A clock that moves only when the client waits: an attempt that no answer ends lasts exactly until its
     * deadline, a pause exactly its length. A connector may move it too (a slow network).
     */
    static final class ManualTime implements ClientTime {
        long now = T0;
        /** How long each attempt was given, from when it began to wait. */
        final List<Long> attempts = new ArrayList<>();
        final List<Long> pauses = new ArrayList<>();
        /** Run on every reading of the clock, with the reading's number (1, 2 ..). */
        Consumer<Integer> onRead = n -> {};
        private int reads;
        private long nonces;

        @Override
        public long nanoTime() {
            onRead.accept(++reads);
            return now;
        }

        @Override
        public void await(long deadline, BooleanSupplier answered, Runnable expire) {
            attempts.add(deadline - now);
            if (answered.getAsBoolean()) return;
            now = Math.max(now, deadline);
            expire.run();
        }

        @Override
        public void pause(long nanos) {
            pauses.add(nanos);
            now += nanos;
        }

        @Override
        public long nonce() {
            return ++nonces;
        }

        long elapsed() {
            return now - T0;
        }
    }

    /**
     * A scripted cluster: {@code answer} gives each request's response, or null for a node that does not
     * answer; records what was sent where. It gives up loudly after 200 sends: a client that would never stop
     * fails the test at once instead of hanging it.
     */
    static final class Script implements KvConnector {
        final List<Integer> nodes;
        private final BiFunction<Integer, KvRequest, KvResponse> answer;
        final List<String> sent = new ArrayList<>();

        Script(List<Integer> nodes, BiFunction<Integer, KvRequest, KvResponse> answer) {
            this.nodes = new CopyOnWriteArrayList<>(nodes);
            this.answer = answer;
        }

        @Override
        public List<Integer> nodes() {
            return nodes;
        }

        @Override
        public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
            record("send " + node + " " + request.kind());
            KvResponse response = answer.apply(node, request);
            if (response != null) reply.accept(response);
        }

        void record(String what) {
            sent.add(what);
            if (sent.size() > 200) throw new AssertionError("the client does not stop: " + sent.subList(0, 20) + " ..");
        }

        List<Integer> sentTo() {
            return sent.stream().map(s -> Integer.parseInt(s.split(" ")[1])).toList();
        }
    }

    static KvClient client(KvConnector connector, long deadlineMillis, long attemptMillis, ManualTime time) {
        return new KvClient(connector, KvLimits.DEFAULT, Duration.ofMillis(deadlineMillis), Duration.ofMillis(attemptMillis), time);
    }

    static List<Long> millis(long... ms) {
        List<Long> nanos = new ArrayList<>();
        for (long m : ms) nanos.add(m * MS);
        return nanos;
    }

    // ---------------------------------------------------------------- deadlines

    /**
     * Without it a user's deadline would not hold: a call could outlive it by an attempt timeout, or a call
     * whose time is exactly up would send once more (and, with no time left to wait, again and again).
     */
    @Test
    void eachAttemptWaitsItsTimeoutTheLastOnlyWhatIsLeftAndTheCallEndsExactlyAtItsDeadline() {
        Script silent = new Script(List.of(1), (node, r) -> null);
        ManualTime time = new ManualTime();
        try (KvClient client = client(silent, 25, 10, time)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            assertEquals("GET k: no node confirmed it within 25 ms; nothing was read"
                    + " (last problem: node 1 did not answer within 10 ms)", e.getMessage());
        }
        assertEquals(millis(10, 10, 5), time.attempts);
        assertEquals(25 * MS, time.elapsed());
        assertEquals(List.of("send 1 GET", "send 1 GET", "send 1 GET"), silent.sent);
    }

    /**
     * The message names the most telling problem: a refusal before a last attempt that the deadline cut short,
     * rather than "did not answer" about an attempt that was given almost no time.
     */
    @Test
    void aLastAttemptCutShortByTheDeadlineLeavesTheProblemBeforeItInTheMessage() {
        ManualTime time = new ManualTime();
        int[] calls = {0};
        Script refusedThenSilent = new Script(List.of(1), (node, r) -> {
            if (calls[0]++ == 0) {
                time.now += 8 * MS;
                return new KvResponse.Unavailable("cannot reach node 1 at 127.0.0.1:9: Connection refused");
            }
            return null;
        });
        try (KvClient client = client(refusedThenSilent, 20, 15, time)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            assertEquals("GET k: no node confirmed it within 20 ms; nothing was read"
                    + " (last problem: cannot reach node 1 at 127.0.0.1:9: Connection refused)", e.getMessage());
        }
    }

    /**
     * The other side of it: a silent node is the problem when nothing came before, however short the attempt the
     * deadline left it; and an attempt given its whole timeout says more than the refusal before it.
     */
    @Test
    void aSilentLastAttemptIsTheProblemWhenNothingCameBeforeItOrItHadItsWholeTimeout() {
        ManualTime time = new ManualTime();
        Script silent = new Script(List.of(1), (node, r) -> null);
        try (KvClient client = client(silent, 5, 10, time)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            assertEquals("GET k: no node confirmed it within 5 ms; nothing was read"
                    + " (last problem: node 1 did not answer within 5 ms)", e.getMessage());
        }
        assertEquals(millis(5), time.attempts);

        ManualTime time2 = new ManualTime();
        int[] calls = {0};
        Script refusedThenSilent = new Script(List.of(1), (node, r) -> {
            if (calls[0]++ == 0) {
                time2.now += 8 * MS;
                return new KvResponse.Unavailable("cannot reach node 1 at 127.0.0.1:9: Connection refused");
            }
            return null;
        });
        try (KvClient client = client(refusedThenSilent, 20, 11, time2)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            assertEquals("GET k: no node confirmed it within 20 ms; nothing was read"
                    + " (last problem: node 1 did not answer within 11 ms)", e.getMessage());
        }
        assertEquals(millis(1), time2.pauses);
        assertEquals(millis(3, 11), time2.attempts); // the first began before the refusal took its 8 ms
    }

    /** Without it a user would read "(last problem: null)" when only redirects used up the time. */
    @Test
    void aDeadlinePassedWhileFollowingRedirectsNamesNoLastProblem() {
        // Nodes 1 and 2 each name the other as leader, each answer taking a millisecond.
        ManualTime time = new ManualTime();
        Script pingPong = new Script(List.of(1, 2), (node, r) -> {
            time.now += MS;
            return new KvResponse.NotLeader(3 - node);
        });
        try (KvClient client = client(pingPong, 10, 5, time)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.put("k", "v"));
            assertEquals("PUT k (opening a session): no node confirmed it within 10 ms; it may or may not have been"
                    + " applied, and will not be applied twice", e.getMessage());
        }
        assertEquals(List.of(1, 2, 1, 2, 1, 2, 1, 2, 1, 2), pingPong.sentTo());
    }

    /**
     * Without it a client would go back to the node that just fell silent while others are there to ask, or,
     * having passed over it, keep asking one node and never the rest (where the leader may be).
     */
    @Test
    void afterANodeFallsSilentTheOthersAreAskedInTurnPassingOverIt() {
        // Node 1 never answers; nodes 2 and 3 know no leader.
        Script cluster = new Script(List.of(1, 2, 3), (node, r) -> node == 1 ? null : new KvResponse.NotLeader(0));
        ManualTime time = new ManualTime();
        try (KvClient client = client(cluster, 50, 10, time)) {
            assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
        }
        assertEquals(List.of(1, 2, 3, 2, 3, 2, 3), cluster.sentTo());
        assertEquals(millis(1, 2, 4, 8, 16, 9), time.pauses);
        assertEquals(50 * MS, time.elapsed());
    }

    /**
     * Without it a client whose nodes were all removed from the cluster, and so never answer, would keep
     * asking them until its deadline instead of asking the connector which nodes there are now.
     */
    @Test
    void aClientWhoseNodesAllFellSilentAsksForTheNodesThereAreNow() {
        Script[] cluster = new Script[1];
        cluster[0] = new Script(List.of(1, 2), (node, r) -> {
            if (node == 3) return KvClientTest.leaderAnswer(r);
            cluster[0].nodes.clear(); // nodes 1 and 2 are removed, and silent for good; node 3 now leads
            cluster[0].nodes.add(3);
            return null;
        });
        ManualTime time = new ManualTime();
        try (KvClient client = client(cluster[0], 1_000, 10, time)) {
            assertEquals(java.util.Optional.of("v"), client.get("k"));
        }
        assertEquals(List.of("send 1 GET", "send 3 GET"), cluster[0].sent);
        assertEquals(10 * MS, time.elapsed());
    }

    // ---------------------------------------------------------------- back-off

    /**
     * Without it a client would hammer nodes during an election (no pause, or pauses that do not grow), wait
     * longer than it should, or sleep past its own deadline.
     */
    @Test
    void withNoLeaderKnownItPausesOneTwoFourUpToThirtyTwoMillisecondsAndNotPastItsDeadline() {
        Script noLeader = new Script(List.of(1), (node, r) -> new KvResponse.NotLeader(0));
        ManualTime time = new ManualTime();
        try (KvClient client = client(noLeader, 100, 10, time)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            assertEquals("GET k: no node confirmed it within 100 ms; nothing was read (last problem: node 1 knows no leader)",
                    e.getMessage());
        }
        assertEquals(millis(1, 2, 4, 8, 16, 32, 32, 5), time.pauses);
        assertEquals(100 * MS, time.elapsed());
        assertEquals(8, noLeader.sent.size());
    }

    /**
     * Without it a client whose answer came slowly would then pause as if the answer had been instant, and
     * overrun its deadline by up to a whole pause (32 ms).
     */
    @Test
    void aPauseAfterASlowAnswerEndsAtTheDeadlineAndNoneFollowsAnAnswerThatCameAtOrAfterIt() {
        // No leader is known; the sixth answer, sent 31 ms into a 100 ms deadline, takes `slow` ms to come.
        record Case(long slow, List<Long> pauses, long elapsed) {}
        for (Case c : List.of(new Case(60, millis(1, 2, 4, 8, 16, 9), 100 * MS),
                new Case(69, millis(1, 2, 4, 8, 16), 100 * MS),
                new Case(80, millis(1, 2, 4, 8, 16), 111 * MS))) {
            ManualTime time = new ManualTime();
            int[] sends = {0};
            Script noLeader = new Script(List.of(1), (node, r) -> {
                if (++sends[0] == 6) time.now += c.slow() * MS;
                return new KvResponse.NotLeader(0);
            });
            try (KvClient client = client(noLeader, 100, 100, time)) {
                assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            }
            assertEquals(c.pauses(), time.pauses, "an answer " + c.slow() + " ms slow");
            assertEquals(c.elapsed(), time.elapsed(), "an answer " + c.slow() + " ms slow");
        }
    }

    /** Without it a client would pause after every refusal (slow to find the one node that works), or too long. */
    @Test
    void nodesThatAllAnswerUnavailableAreAskedRoundByRoundWithAGrowingPauseAfterEachRound() {
        Script down = new Script(List.of(1, 2, 3), (node, r) -> new KvResponse.Unavailable("node " + node + " is down"));
        ManualTime time = new ManualTime();
        try (KvClient client = client(down, 10, 5, time)) {
            OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.get("k"));
            assertEquals("GET k: no node confirmed it within 10 ms; nothing was read (last problem: node 3 is down)",
                    e.getMessage());
        }
        assertEquals(millis(1, 2, 4, 3), time.pauses);
        assertEquals(List.of(1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3), down.sentTo());
    }

    /**
     * Without it a client whose nodes all left the cluster, and which still answer that they know no leader,
     * would never find the nodes that replaced them.
     */
    @Test
    void aClientWhoseNodesKnowNoLeaderAsksForTheNodesThereAreNow() {
        Script[] cluster = new Script[1];
        cluster[0] = new Script(List.of(1, 2), (node, r) -> {
            if (node == 3) return KvClientTest.leaderAnswer(r);
            cluster[0].nodes.clear(); // nodes 1 and 2 are removed; node 3 now leads
            cluster[0].nodes.add(3);
            return new KvResponse.NotLeader(0);
        });
        ManualTime time = new ManualTime();
        try (KvClient client = client(cluster[0], 1_000, 10, time)) {
            assertEquals(java.util.Optional.of("v"), client.get("k"));
        }
        assertEquals(List.of("send 1 GET", "send 3 GET"), cluster[0].sent);
        assertEquals(millis(1), time.pauses);
    }

    // ---------------------------------------------------------------- close

    /** Without it a call would wait out its attempt timeout (seconds, over a network) after its client was closed. */
    @Test
    void closeEndsACallWaitingForAnAnswerAtOnce() {
        KvClient[] client = new KvClient[1];
        // The node never answers; the client is closed while the request is out (as from another thread).
        Script closing = new Script(List.of(1), (node, r) -> {
            client[0].close();
            return null;
        });
        ManualTime time = new ManualTime();
        client[0] = client(closing, 1_000, 100, time);
        OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client[0].get("k"));
        assertEquals("GET k: the client was closed before an answer came; nothing was read", e.getMessage());
        assertEquals(millis(100), time.attempts);
        assertTrue(time.elapsed() < 100 * MS, "the call waited out its attempt after close(): " + time.elapsed() + " ns");
        assertEquals(List.of(), time.pauses, "the call backed off after close() before it saw it");
        assertEquals(List.of("send 1 GET"), closing.sent);
    }

    /**
     * Without it a call that began as another thread closed the client could send its request anyway, and
     * then wait for it with nobody left to wake it.
     */
    @Test
    void aCallThatStartsAsItsClientIsClosedSendsNothing() {
        Script cluster = new Script(List.of(1), (node, r) -> KvClientTest.leaderAnswer(r));
        ManualTime time = new ManualTime();
        KvClient client = client(cluster, 1_000, 100, time);
        // The first reading is the call's start; close() lands on the second, after the call found the client open.
        time.onRead = n -> {
            if (n == 2) client.close();
        };
        assertEquals("this client is closed", assertThrows(IllegalStateException.class, () -> client.get("k")).getMessage());
        assertEquals(List.of(), cluster.sent);
    }

    // ---------------------------------------------------------------- a node in this process

    /**
     * Without it a node in this process would be proposed bytes with no session or sequence number (its
     * duplicate detection void), or a read or a registration as a write with no bytes; and its answers, given
     * as a proposal's (ok, notLeader, unavailable), would not reach the client.
     */
    @Test
    void aNodeInThisProcessIsProposedEachWriteAsBytesWithSessionAndSequenceSetAndAnswersAsAProposal() {
        List<String> seen = new ArrayList<>();
        KvConnector inProcess = new KvConnector() {
            @Override
            public List<Integer> nodes() {
                return List.of(1, 2, 3);
            }

            @Override
            public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
                seen.add("send " + node + " " + request);
                reply.accept(KvClientTest.leaderAnswer(request));
            }

            @Override
            public boolean propose(int node, byte[] command, Consumer<KvResponse> reply) {
                assertNotNull(command, "proposed without a command");
                KvCommand c = KvCommand.decode(command);
                seen.add("propose " + node + " " + c);
                Proposal p = (Proposal) reply;
                assertSame(command, p.command(), "the answer object carries the command it answers");
                switch (node) {
                    case 1 -> p.notLeader(3);
                    case 3 -> p.unavailable("leadership lost");
                    default -> p.ok(c.op() == KvCommand.Op.PUT ? new KvResult.Written() : new KvResult.Conditional(false));
                }
                return true;
            }
        };
        ManualTime time = new ManualTime();
        try (KvClient client = client(inProcess, 1_000, 100, time)) {
            client.put("k", "v");
            assertFalse(client.replace("k", "w"));
            assertEquals(java.util.Optional.of("v"), client.get("k"));
        }
        assertEquals(0, time.elapsed(), "every answer came at once: no attempt was left to time out");
        assertEquals(List.of(
                "send 1 " + new KvRequest(KvRequest.Kind.REGISTER, 1, 0, null, null),
                "propose 1 " + new KvCommand(KvCommand.Op.PUT, SESSION, 1, "k", "v"),
                "propose 3 " + new KvCommand(KvCommand.Op.PUT, SESSION, 1, "k", "v"),
                "propose 2 " + new KvCommand(KvCommand.Op.PUT, SESSION, 1, "k", "v"),
                "propose 2 " + new KvCommand(KvCommand.Op.REPLACE, SESSION, 2, "k", "w"),
                "send 2 " + new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null)), seen);
    }
}

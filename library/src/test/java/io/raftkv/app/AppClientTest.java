package io.raftkv.app;

import io.raftkv.cluster.Await;
import io.raftkv.client.ClientException;
import io.raftkv.client.CommandFailedException;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.client.SessionExpiredException;
import io.raftkv.node.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The typed client against a scripted cluster: a fake {@link AppConnector} whose nodes share one real
 * {@link SessionMachine} (the log they all agree on), and answer, drop the answer, stay silent, redirect or
 * refuse as each test's script says, on the caller's thread or on another.
 */
class AppClientTest {
    private static final Duration SLOW = Duration.ofSeconds(5);

    /** A counter that counts the commands it applied; adding 0 throws. */
    static final class Counter implements Application<Long, String, Long> {
        long value;
        int applied;

        @Override
        public Long apply(Long delta) {
            applied++;
            if (delta == 0) throw new IllegalArgumentException("adding 0 changes nothing");
            value += delta;
            return value;
        }

        @Override
        public Long query(String what) {
            if (!what.equals("value")) throw new IllegalArgumentException("unknown query " + what);
            return value;
        }
    }

    static final AppSpec<Long, String, Long> COUNTER = AppSpec.of(Counter::new, Codec.longs(), Codec.strings(), Codec.longs());

    /** How a node is to treat one request. */
    record Action(Kind kind, int hint, String reason, Object answer) {
        enum Kind { APPLY, DROP, SILENT, NOT_LEADER, UNAVAILABLE, ANSWER }

        static final Action APPLY = new Action(Kind.APPLY, 0, null, null);
        /** Applied (committed), but the answer is lost on the way back. */
        static final Action DROP = new Action(Kind.DROP, 0, null, null);
        /** Never reaches the log, never answered. */
        static final Action SILENT = new Action(Kind.SILENT, 0, null, null);

        static Action notLeader(int hint) {
            return new Action(Kind.NOT_LEADER, hint, null, null);
        }

        static Action unavailable(String reason) {
            return new Action(Kind.UNAVAILABLE, 0, reason, null);
        }

        static Action answer(Object answer) {
            return new Action(Kind.ANSWER, 0, null, answer);
        }
    }

    /** One request the fake was sent: an entry proposed, or a query to read. */
    record Sent(int node, byte[] entry, Object query) {
        boolean isRegistration() {
            return entry != null && entry.length == AppCommand.REGISTER_BYTES && entry[0] == AppCommand.REGISTER;
        }

        boolean isCommand() {
            return entry != null && entry.length >= AppCommand.HEADER_BYTES && entry[0] == AppCommand.COMMAND;
        }

        long session() {
            return AppCommand.getLong(entry, 1);
        }

        long seq() {
            return AppCommand.getLong(entry, 9);
        }

        @Override
        public String toString() {
            return "node " + node + ": " + (isRegistration() ? "register nonce " + AppCommand.getLong(entry, 1)
                    : isCommand() ? "command session " + session() + " seq " + seq() : "query " + query);
        }
    }

    /** Whether the fake answers on the caller's thread or on a thread of its own. */
    enum Answering { SYNCHRONOUSLY, ON_ANOTHER_THREAD }

    /** Nodes that share one log, kept by one {@link SessionMachine}; a script says what each request meets. */
    static final class FakeCluster implements AppConnector, AutoCloseable {
        private final List<Integer> nodes;
        private final SessionMachine<Long, String, Long> machine;
        private final ExecutorService answerer;
        private final List<Sent> sent = new ArrayList<>();
        private volatile BiFunction<Integer, Sent, Action> script = (node, s) -> Action.APPLY;
        private long index;
        /** Random pauses before each answer on the answering thread, to shuffle the timing (0: none). */
        private volatile long maxLatencyNanos;
        private final SplittableRandom latency = new SplittableRandom(1);

        FakeCluster(Answering answering, int maxSessions, Integer... nodes) {
            this.nodes = List.of(nodes);
            this.machine = new SessionMachine<>(COUNTER, maxSessions);
            this.answerer = answering == Answering.SYNCHRONOUSLY ? null
                    : Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("fake-cluster").factory());
        }

        FakeCluster script(BiFunction<Integer, Sent, Action> s) {
            this.script = s;
            return this;
        }

        @Override
        public List<Integer> nodes() {
            return nodes;
        }

        @Override
        public void propose(int node, byte[] entry, Reply reply) {
            handle(new Sent(node, entry.clone(), null), reply);
        }

        @Override
        public void read(int node, Object query, Reply reply) {
            handle(new Sent(node, null, query), reply);
        }

        private void handle(Sent s, Reply reply) {
            Runnable r = () -> {
                long pause = maxLatencyNanos;
                if (pause > 0) LockSupport.parkNanos(latency.nextLong(pause)); // simulated latency, not a wait
                synchronized (this) {
                    sent.add(s);
                    Action a = script.apply(s.node(), s);
                    switch (a.kind()) {
                        case APPLY -> reply.ok(run(s));
                        case DROP -> run(s);
                        case SILENT -> { }
                        case NOT_LEADER -> reply.notLeader(a.hint());
                        case UNAVAILABLE -> reply.unavailable(a.reason());
                        case ANSWER -> reply.ok(a.answer());
                    }
                }
            };
            if (answerer == null) r.run();
            else answerer.execute(r);
        }

        private Object run(Sent s) {
            return s.entry() != null ? machine.apply(++index, s.entry()) : machine.query(s.query());
        }

        /** Another client registers: with room for few sessions, the least recently used is evicted. */
        synchronized long registerOther() {
            long i = ++index;
            machine.apply(i, AppCommand.register(0x5EED0000L + i));
            return i;
        }

        synchronized List<Sent> sent() {
            return List.copyOf(sent);
        }

        synchronized List<Sent> commands() {
            return sent.stream().filter(Sent::isCommand).toList();
        }

        synchronized List<Sent> registrations() {
            return sent.stream().filter(Sent::isRegistration).toList();
        }

        synchronized long value() {
            return ((Counter) machine.application()).value;
        }

        synchronized int applied() {
            return ((Counter) machine.application()).applied;
        }

        synchronized int sessions() {
            return machine.sessionCount();
        }

        @Override
        public void close() {
            if (answerer != null) answerer.shutdownNow();
        }
    }

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) c.close();
    }

    private FakeCluster cluster(Answering answering, int maxSessions, Integer... nodes) {
        FakeCluster c = new FakeCluster(answering, maxSessions, nodes);
        toClose.add(c);
        return c;
    }

    private <C, Q, R> AppClient<C, Q, R> client(AppSpec<C, Q, R> spec, AppConnector connector, Duration deadline, Duration attempt) {
        AppClient<C, Q, R> c = new AppClient<>(spec, connector, deadline, attempt);
        toClose.add(c);
        return c;
    }

    private AppClient<Long, String, Long> client(AppConnector connector, Duration deadline, Duration attempt) {
        return client(COUNTER, connector, deadline, attempt);
    }

    private static <T> Throwable failureOf(CompletableFuture<T> f) throws InterruptedException, TimeoutException {
        try {
            f.get(SLOW.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("the future completed normally: " + f.join());
    }

    // ---------------------------------------------------------------- retries, redirects, deadlines

    @ParameterizedTest
    @EnumSource(Answering.class)
    void aLostAnswerIsRetriedElsewhereWithTheSameEntryAndGetsTheFirstAnswer(Answering answering) {
        FakeCluster cluster = cluster(answering, 10, 1, 2, 3);
        cluster.script((node, s) -> {
            if (s.isCommand() && cluster.commands().size() == 1) return Action.DROP; // committed; the answer is lost
            if (s.isCommand() && cluster.commands().size() == 2) {
                // Before the retry lands, another client changes the counter: applying the retry again
                // would answer 105, not 5.
                long other = cluster.registerOther();
                cluster.machine.apply(++cluster.index, AppCommand.command(other, 1, Codec.longs().encode(100L)));
            }
            return Action.APPLY;
        });
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofMillis(100));
        assertEquals(5, client.apply(5L), "the retry's answer is the first try's");
        assertEquals(105, cluster.value(), "applied once, not twice");
        assertEquals(2, cluster.applied());

        List<Sent> tries = cluster.commands();
        assertEquals(2, tries.size(), tries.toString());
        assertNotEquals(tries.get(0).node(), tries.get(1).node(), "the retry goes to another node: " + tries);
        assertArrayEquals(tries.get(0).entry(), tries.get(1).entry(), "the same bytes: the same session and seq");
        assertEquals(1, tries.get(0).seq());
        assertEquals(cluster.registrations().get(0).node(), tries.get(0).node(), "the command went first where the session opened");

        // The next command takes the next sequence number, under the same session.
        assertEquals(107, client.apply(2L));
        Sent next = cluster.commands().getLast();
        assertEquals(tries.get(0).session(), next.session());
        assertEquals(2, next.seq());
    }

    @ParameterizedTest
    @EnumSource(Answering.class)
    void aLostRegistrationAnswerIsRetriedWithTheSameNonceAndOpensOneSession(Answering answering) {
        FakeCluster cluster = cluster(answering, 10, 1, 2, 3);
        cluster.script((node, s) -> s.isRegistration() && cluster.registrations().size() == 1 ? Action.DROP : Action.APPLY);
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofMillis(100));
        assertEquals(3, client.apply(3L));
        List<Sent> registrations = cluster.registrations();
        assertEquals(2, registrations.size());
        assertArrayEquals(registrations.get(0).entry(), registrations.get(1).entry(), "the same nonce");
        assertEquals(1, cluster.sessions(), "the retry found the session the first try opened");
        assertEquals(1, cluster.commands().get(0).session(), "the session opened at index 1");
    }

    @ParameterizedTest
    @EnumSource(Answering.class)
    void aNotLeaderHintSendsTheCallToTheHintedNode(Answering answering) {
        FakeCluster cluster = cluster(answering, 10, 1, 2, 3);
        cluster.script((node, s) -> node == 3 ? Action.APPLY : Action.notLeader(3));
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        assertEquals(4, client.apply(4L));
        assertEquals(4, client.read("value"));
        // Node 1 first (the first of the list), which names 3; then 3 for everything.
        assertEquals(List.of(1, 3, 3, 3), cluster.sent().stream().map(Sent::node).toList(), cluster.sent().toString());
    }

    @Test
    void aNotLeaderWithoutAHintMovesOnToTheNextNode() {
        FakeCluster cluster = cluster(Answering.SYNCHRONOUSLY, 10, 1, 2, 3);
        cluster.script((node, s) -> node == 2 ? Action.APPLY : node == 1 ? Action.notLeader(0) : Action.notLeader(3));
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        assertEquals(4, client.apply(4L));
        assertEquals(List.of(1, 2, 2), cluster.sent().stream().map(Sent::node).toList(), cluster.sent().toString());
    }

    @ParameterizedTest
    @EnumSource(Answering.class)
    void whenEveryNodeIsUnavailableTheCallEndsAtItsDeadlineWithTheLastProblem(Answering answering) {
        FakeCluster cluster = cluster(answering, 10, 1, 2, 3);
        int[] count = {0};
        cluster.script((node, s) -> Action.unavailable("node " + node + " is down (refusal " + (++count[0]) + ")"));
        AppClient<Long, String, Long> client = client(cluster, Duration.ofMillis(300), Duration.ofMillis(100));
        long start = System.nanoTime();
        OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> client.apply(1L));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMillis >= 300, "gave up after " + tookMillis + " ms, before the deadline");
        assertTrue(tookMillis < 3_000, "gave up only after " + tookMillis + " ms");
        String m = e.getMessage();
        assertTrue(m.contains("within 300 ms"), m);
        assertTrue(m.contains("opening a session"), m);
        java.util.regex.Matcher problem = java.util.regex.Pattern
                .compile("last problem: node [123] is down \\(refusal (\\d+)\\)").matcher(m);
        assertTrue(problem.find(), m);
        int reported = Integer.parseInt(problem.group(1));
        synchronized (cluster) {
            // The last refusal the client heard; answering on another thread, one more may have come after it gave up.
            int given = count[0];
            assertTrue(answering == Answering.SYNCHRONOUSLY ? reported == given : reported >= given - 1,
                    "reported refusal " + reported + " of " + given + ": " + m);
        }
        // Back-offs between rounds: not a spin through the deadline.
        int tries = cluster.sent().size();
        assertTrue(tries >= 3 && tries <= 100, "tried " + tries + " times in 300 ms");
        assertEquals(0, cluster.sessions());

        // A command whose nodes fell silent after the session opened: may or may not have been applied.
        cluster.script((node, s) -> s.isRegistration() ? Action.APPLY : Action.SILENT);
        OutcomeUnknownException silent = assertThrows(OutcomeUnknownException.class, () -> client.apply(1L));
        assertTrue(silent.getMessage().contains("may or may not have been applied"), silent.getMessage());
        assertTrue(silent.getMessage().contains("did not answer within"), silent.getMessage());
        assertFalse(silent.getMessage().contains("opening a session"), silent.getMessage());
        // A query that no node answers read nothing.
        OutcomeUnknownException read = assertThrows(OutcomeUnknownException.class, () -> client.read("value"));
        assertTrue(read.getMessage().contains("nothing was read"), read.getMessage());
    }

    // ---------------------------------------------------------------- sessions

    @ParameterizedTest
    @EnumSource(Answering.class)
    void anExpiredSessionRefusedOnTheFirstTryIsRenewedOnceAndTheCommandApplies(Answering answering) {
        FakeCluster cluster = cluster(answering, 1, 1, 2, 3);
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        assertEquals(1, client.apply(1L));
        long firstSession = cluster.commands().getLast().session();
        cluster.registerOther(); // room for one session: this client's is evicted
        assertEquals(3, client.apply(2L));

        List<Sent> commands = cluster.commands();
        assertEquals(3, commands.size(), commands.toString());
        assertEquals(firstSession, commands.get(1).session(), "refused once under the old session");
        long renewed = commands.get(2).session();
        assertNotEquals(firstSession, renewed);
        assertEquals(1, commands.get(2).seq(), "a new session starts again at 1");
        assertEquals(2, cluster.registrations().size());
        assertEquals(2, cluster.applied(), "each command applied once");
        assertEquals(4, client.apply(1L));
        assertEquals(renewed, cluster.commands().getLast().session());
    }

    @ParameterizedTest
    @EnumSource(Answering.class)
    void anExpiredSessionAfterMoreThanOneTryIsTheCallersToJudge(Answering answering) {
        FakeCluster cluster = cluster(answering, 1, 1, 2, 3);
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofMillis(100));
        assertEquals(1, client.apply(1L));
        // The next command is applied but its answer lost; before the retry lands, the session is evicted.
        cluster.script((node, s) -> {
            if (s.isCommand() && cluster.commands().size() == 2) return Action.DROP;
            if (s.isCommand() && cluster.commands().size() == 3) cluster.registerOther();
            return Action.APPLY;
        });
        SessionExpiredException e = assertThrows(SessionExpiredException.class, () -> client.apply(10L));
        assertTrue(e.getMessage().contains("may or may not have been applied"), e.getMessage());
        assertEquals(11, cluster.value(), "it was applied, once");
        assertEquals(1, cluster.registrations().size(), "no session was opened to retry it under");

        // The client opens a new session for its next call.
        cluster.script((node, s) -> Action.APPLY);
        assertEquals(12, client.apply(1L));
        assertEquals(2, cluster.registrations().size());
    }

    @Test
    void aSessionExpiredAgainAfterItsRenewalEndsTheCall() {
        FakeCluster cluster = cluster(Answering.SYNCHRONOUSLY, 1, 1, 2, 3);
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        assertEquals(1, client.apply(1L));
        // From now on every session this client opens is evicted at once by another client's.
        cluster.registerOther();
        cluster.script((node, s) -> {
            if (s.isCommand()) cluster.registerOther();
            return Action.APPLY;
        });
        SessionExpiredException e = assertThrows(SessionExpiredException.class, () -> client.apply(5L));
        assertFalse(e.getMessage().contains("may or may not"), "each try was refused outright: " + e.getMessage());
        assertEquals(2, cluster.registrations().size(), "renewed once, not more");
        assertEquals(3, cluster.commands().size());
        assertEquals(1, cluster.value(), "nothing of it was applied");
    }

    // ---------------------------------------------------------------- answers

    @Test
    void whatTheApplicationThrewFailsTheCallWithItsMessage() {
        FakeCluster cluster = cluster(Answering.SYNCHRONOUSLY, 10, 1);
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        CommandFailedException e = assertThrows(CommandFailedException.class, () -> client.apply(0L));
        assertTrue(e.getMessage().contains("command 0") && e.getMessage().contains("adding 0 changes nothing"), e.getMessage());
        CommandFailedException q = assertThrows(CommandFailedException.class, () -> client.read("nonsense"));
        assertTrue(q.getMessage().contains("query nonsense") && q.getMessage().contains("unknown query nonsense"), q.getMessage());
        // The future fails the same way.
        assertInstanceOf(CommandFailedException.class, assertThrows(java.util.concurrent.CompletionException.class,
                () -> client.submit(0L).join()).getCause());
        assertEquals(7, client.apply(7L), "the client goes on");
    }

    @Test
    void aStaleRefusalIsNotTakenForAnAnswer() {
        FakeCluster cluster = cluster(Answering.SYNCHRONOUSLY, 10, 1);
        cluster.script((node, s) -> s.isCommand() ? Action.answer(SessionMachine.Refusal.STALE) : Action.APPLY);
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        ClientException e = assertThrows(ClientException.class, () -> client.apply(1L));
        assertFalse(e instanceof CommandFailedException, e.toString());
        assertTrue(e.getMessage().contains("newer command"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Answering.class)
    void futuresCompleteInTheOrderTheyWereSubmitted(Answering answering) throws Exception {
        FakeCluster cluster = cluster(answering, 10, 1, 2, 3);
        cluster.maxLatencyNanos = TimeUnit.MICROSECONDS.toNanos(300);
        cluster.script((node, s) -> node == 2 ? Action.APPLY : Action.notLeader(2));
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        List<Integer> completed = java.util.Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        List<Long> expected = new ArrayList<>();
        long sum = 0;
        for (int i = 1; i <= 60; i++) {
            int n = futures.size();
            CompletableFuture<Long> f;
            if (i % 3 == 0) {
                f = client.query("value");
            } else {
                f = client.submit((long) i);
                sum += i;
            }
            expected.add(sum);
            // The future whenComplete returns completes once the action has run: waiting on those, not on the
            // calls' own futures, sees every action's record.
            futures.add(f.whenComplete((v, t) -> completed.add(n)));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(SLOW.toMillis(), TimeUnit.MILLISECONDS);
        List<Long> answers = futures.stream().map(CompletableFuture::join).toList();
        assertEquals(expected, answers, "each call saw every earlier one applied, and no later one");
        List<Integer> inOrder = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) inOrder.add(i);
        assertEquals(inOrder, completed);
        assertEquals(40, cluster.applied());
        List<Long> seqs = cluster.commands().stream().filter(s -> s.node() == 2).map(Sent::seq).toList();
        assertEquals(40, seqs.size());
        for (int i = 0; i < seqs.size(); i++) assertEquals(i + 1, seqs.get(i), "one command at a time, in order");
    }

    // ---------------------------------------------------------------- closing

    @ParameterizedTest
    @EnumSource(Answering.class)
    void closeFailsTheQueuedCallsAndTheOneInFlight(Answering answering) throws Exception {
        FakeCluster cluster = cluster(answering, 10, 1, 2, 3);
        cluster.script((node, s) -> s.isRegistration() ? Action.APPLY : Action.SILENT);
        // An attempt timeout longer than the test: only close() can end the call in flight.
        AppClient<Long, String, Long> client = client(cluster, Duration.ofSeconds(30), Duration.ofSeconds(30));
        CompletableFuture<Long> inFlight = client.submit(1L);
        CompletableFuture<Long> queued = client.submit(2L);
        CompletableFuture<Long> queuedQuery = client.query("value");
        Await.until("the first command is sent", SLOW, () -> !cluster.commands().isEmpty(), cluster::sent);
        assertFalse(inFlight.isDone());

        long start = System.nanoTime();
        client.close();
        assertInstanceOf(IllegalStateException.class, failureOf(queued));
        assertInstanceOf(IllegalStateException.class, failureOf(queuedQuery));
        Throwable t = failureOf(inFlight);
        assertInstanceOf(OutcomeUnknownException.class, t);
        assertTrue(t.getMessage().contains("closed"), t.getMessage());
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMillis < 2_000, "the call in flight ended " + tookMillis + " ms after close");
        assertEquals(1, cluster.commands().size(), "the queued command was never sent");

        assertThrows(IllegalStateException.class, () -> client.submit(3L));
        assertThrows(IllegalStateException.class, () -> client.query("value"));
        assertThrows(IllegalStateException.class, () -> client.apply(3L));
        client.close(); // twice is fine
    }

    @ParameterizedTest
    @EnumSource(Answering.class)
    void callsRacingCloseNeverHang(Answering answering) throws Exception {
        FakeCluster cluster = cluster(answering, 1_000, 1, 2, 3);
        for (int round = 0; round < 50; round++) {
            AppClient<Long, String, Long> client = client(cluster, Duration.ofSeconds(30), Duration.ofSeconds(30));
            List<CompletableFuture<Long>> futures = java.util.Collections.synchronizedList(new ArrayList<>());
            java.util.concurrent.CountDownLatch submitting = new java.util.concurrent.CountDownLatch(1);
            Thread submitter = Thread.ofVirtual().start(() -> {
                submitting.countDown();
                try {
                    for (long i = 1; i <= 200; i++) futures.add(i % 2 == 0 ? client.submit(i) : client.query("value"));
                } catch (IllegalStateException closed) {
                    // the client is closed: submit says so from now on
                }
            });
            submitting.await();
            client.close();
            assertTrue(submitter.join(SLOW), "submit went on after close");
            for (CompletableFuture<Long> f : List.copyOf(futures)) {
                try {
                    f.get(SLOW.toMillis(), TimeUnit.MILLISECONDS); // answered before the close: fine
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof IllegalStateException || e.getCause() instanceof OutcomeUnknownException,
                            "round " + round + ": " + e.getCause());
                }
            }
        }
    }

    @Test
    void aClientClosedBeforeItsFirstCallRefusesIt() {
        FakeCluster cluster = cluster(Answering.SYNCHRONOUSLY, 10, 1);
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        client.close();
        assertThrows(IllegalStateException.class, () -> client.submit(1L));
        assertTrue(cluster.sent().isEmpty());
    }

    // ---------------------------------------------------------------- what is refused before anything is sent

    @Test
    void aCommandTheCodecRefusesThrowsFromSubmitBeforeAnythingIsSent() {
        FakeCluster cluster = cluster(Answering.SYNCHRONOUSLY, 10, 1);
        Codec<Long> positive = Codec.of(v -> {
            if (v < 0) throw new IllegalArgumentException("negative: " + v);
            return Codec.longs().encode(v);
        }, Codec.longs()::decode);
        Codec<Long> nulls = Codec.of(v -> null, Codec.longs()::decode);
        AppClient<Long, String, Long> client = client(AppSpec.of(Counter::new, positive, Codec.strings(), Codec.longs()),
                cluster, SLOW, Duration.ofSeconds(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client.submit(-1L));
        assertEquals("negative: -1", e.getMessage());
        assertTrue(cluster.sent().isEmpty(), "nothing was sent, not even a registration: " + cluster.sent());
        assertEquals(2, client.apply(2L), "the client goes on");

        AppClient<Long, String, Long> broken = client(AppSpec.of(Counter::new, nulls, Codec.strings(), Codec.longs()),
                cluster, SLOW, Duration.ofSeconds(1));
        NullPointerException npe = assertThrows(NullPointerException.class, () -> broken.submit(1L));
        assertTrue(npe.getMessage().contains("codec"), npe.getMessage());
        assertEquals(2, cluster.sent().size(), "only the first client's registration and command: " + cluster.sent());
    }

    @Test
    void nullCommandsAndQueriesAreRefused() {
        FakeCluster cluster = cluster(Answering.SYNCHRONOUSLY, 10, 1);
        AppClient<Long, String, Long> client = client(cluster, SLOW, Duration.ofSeconds(1));
        assertThrows(NullPointerException.class, () -> client.submit(null));
        assertThrows(NullPointerException.class, () -> client.apply(null));
        assertThrows(NullPointerException.class, () -> client.query(null));
        assertThrows(NullPointerException.class, () -> client.read(null));
        assertTrue(cluster.sent().isEmpty());
    }

    @Test
    void badConstructorArgumentsAreRefused() {
        FakeCluster cluster = cluster(Answering.SYNCHRONOUSLY, 10, 1);
        Duration d = Duration.ofSeconds(1);
        assertThrows(IllegalArgumentException.class, () -> new AppClient<>(COUNTER, cluster, Duration.ZERO, d));
        assertThrows(IllegalArgumentException.class, () -> new AppClient<>(COUNTER, cluster, Duration.ofMillis(-1), d));
        assertThrows(IllegalArgumentException.class, () -> new AppClient<>(COUNTER, cluster, d, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new AppClient<>(COUNTER, cluster, d, Duration.ofNanos(-5)));
        FakeCluster empty = cluster(Answering.SYNCHRONOUSLY, 10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AppClient<>(COUNTER, empty, d, d));
        assertTrue(e.getMessage().contains("no nodes"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new AppClient<>(null, cluster, d, d));
        assertThrows(NullPointerException.class, () -> new AppClient<>(COUNTER, null, d, d));
        assertThrows(NullPointerException.class, () -> new AppClient<>(COUNTER, cluster, null, d));
        assertThrows(NullPointerException.class, () -> new AppClient<>(COUNTER, cluster, d, null));
        assertTrue(cluster.sent().isEmpty());
    }
}

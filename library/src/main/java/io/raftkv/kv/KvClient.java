package io.raftkv.kv;

import io.raftkv.client.Timeouts;
import io.raftkv.client.SessionExpiredException;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.client.ReadFrom;
import io.raftkv.node.Proposal;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A client of the replicated key-value store. It finds the leader, follows redirects, and retries a
 * write with the same sequence number, so that the write applies at most once; after its deadline
 * it throws {@link OutcomeUnknownException}. Should the cluster evict its session (it keeps a bounded
 * number), a write refused on its only try is sent again under a new session; one tried more than
 * once throws {@link SessionExpiredException}, since an earlier try may have been applied. Reads go to the
 * leader, or with {@link #readFrom readFrom(ReadFrom.ANY)} to every node in turn. One request at a time: calls
 * from several threads take turns, so give each concurrent worker its own client.
 */
public final class KvClient implements AutoCloseable {
    private final KvConnector connector;
    private final KvLimits limits;
    /** The clock and the waits of a simulation, or null: the system's clock and the JDK's parking. */
    private final ClientTime time;
    private final long deadlineNanos;
    private final long attemptNanos;
    /** The nodes to try, as the connector last named them: asked again after a round that found no leader, or a silence. */
    private List<Integer> nodes;
    /** Not {@code synchronized}: on JDK 21-23 a virtual thread waiting inside it would pin its carrier. */
    private final ReentrantLock turn = new ReentrantLock();
    private final KvCommand.Encoder encoder = new KvCommand.Encoder();

    private long sessionId;
    private long seq;
    private int leaderGuess;
    private int nextNode;
    private volatile boolean closed;
    private volatile PendingAnswer inFlight;
    private volatile ReadFrom readFrom = ReadFrom.LEADER;
    private int attemptsOfCurrent;
    /** Waits in a row in which spinning (a platform thread's) did not see the answer; see PendingAnswer. */
    private int spinMisses;
    private int spinTries;

    /**
     * @param deadline       how long one call may take in all, retries included
     * @param attemptTimeout how long to wait for one node before trying another
     */
    public KvClient(KvConnector connector, KvLimits limits, Duration deadline, Duration attemptTimeout) {
        this(connector, limits, deadline, attemptTimeout, null);
    }

    /** As the public constructor, keeping time and waiting by {@code time} if it is not null (a simulation's). */
    KvClient(KvConnector connector, KvLimits limits, Duration deadline, Duration attemptTimeout, ClientTime time) {
        this.time = time;
        this.connector = Objects.requireNonNull(connector, "connector");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.deadlineNanos = Timeouts.positiveNanos(deadline, "deadline");
        this.attemptNanos = Timeouts.positiveNanos(attemptTimeout, "attemptTimeout");
        this.nodes = List.copyOf(connector.nodes());
        if (nodes.isEmpty()) throw new IllegalArgumentException("the connector names no nodes");
        if (time == null) AnswerTimeouts.register(this); // a simulation ends attempts on its own clock
    }

    /** Sets {@code key} to {@code value}. */
    public void put(String key, String value) {
        turn.lock();
        try {
            write(KvRequest.Kind.PUT, key, value, null, encode(KvCommand.Op.PUT, key, value));
        } finally {
            turn.unlock();
        }
    }

    /** Sets {@code key} to {@code value} only if the key exists; returns whether it did. */
    public boolean replace(String key, String value) {
        turn.lock();
        try {
            return (Boolean) write(KvRequest.Kind.REPLACE, key, value, null, encode(KvCommand.Op.REPLACE, key, value));
        } finally {
            turn.unlock();
        }
    }

    /**
     * Removes {@code key}; returns whether it held a value (false: it was absent, and nothing changed), as
     * etcd's delete counts the keys it deleted and Redis's DEL the keys it removed. Applied at most once: a
     * retry after a lost answer gets the first answer, so a delete that removed a value says true even if the
     * key was written again since.
     */
    public boolean delete(String key) {
        if (key == null) throw new NullPointerException("key must not be null");
        turn.lock();
        try {
            byte[] command = KvCommand.encode(KvCommand.Op.DELETE, 0, 0, key, "", limits); // checks the key
            return (Boolean) write(KvRequest.Kind.DELETE, key, null, null, command);
        } finally {
            turn.unlock();
        }
    }

    /**
     * Sets {@code key} to {@code newValue} only if it holds {@code expected} now, or, if {@code expected} is
     * null, only if the key is absent (create if absent, as etcd's transaction on a create revision of 0 or
     * Redis's SET NX); returns whether it set it. Values are compared exactly (as Strings, by their UTF-8
     * bytes), and an empty value is a value, not absence: expecting "" never matches an absent key. The
     * comparison and the write are one step of the log, so no other write comes between them.
     * Applied at most once: a retry after a lost answer gets the first answer, not a second comparison
     * against what the key holds by then.
     *
     * @throws IllegalArgumentException if the key, the new value or the expected value is past the limits
     *                                  (an expected value longer than any value could never match)
     */
    public boolean compareAndSet(String key, String expected, String newValue) {
        if (key == null) throw new NullPointerException("key must not be null");
        if (newValue == null) throw new NullPointerException("newValue must not be null (delete removes a key)");
        turn.lock();
        try {
            byte[] command = KvCommand.encode(KvCommand.Op.CAS, 0, 0, key, newValue, expected, limits);
            return (Boolean) write(KvRequest.Kind.CAS, key, newValue, expected, command);
        } finally {
            turn.unlock();
        }
    }

    /**
     * Sends reads to the nodes {@code where} says from now on (default {@link ReadFrom#LEADER}); every node
     * answers them linearizably. Returns this client.
     */
    public KvClient readFrom(ReadFrom where) {
        this.readFrom = Objects.requireNonNull(where, "where");
        return this;
    }

    /** The value of {@code key}, read linearizably: from the leader, or from any node (see {@link #readFrom}). */
    public Optional<String> get(String key) {
        limits.checkKey(key);
        turn.lock();
        try {
            Object v = call(new KvRequest(KvRequest.Kind.GET, 0, 0, key, null), null, KvRequest.Kind.GET, key, null, null, now());
            return Optional.ofNullable((String) v);
        } finally {
            turn.unlock();
        }
    }

    /**
     * The write as the log will hold it, its session and sequence number still to be set; checking the key
     * and the value against the limits (an {@link IllegalArgumentException} before anything is sent) in
     * the same pass that encodes them. A node in this process proposes these bytes as they are. Called
     * under the turn: the encoder's scratch buffer is this client's.
     */
    private byte[] encode(KvCommand.Op op, String key, String value) {
        if (key == null) throw new NullPointerException("key must not be null");
        if (value == null) throw new NullPointerException("value must not be null");
        return encoder.encode(op, key, value, limits);
    }

    /** {@code expected}: a CAS's expected value (null: absent); null for the other writes. */
    private Object write(KvRequest.Kind kind, String key, String value, String expected, byte[] command) {
        long start = now(); // one deadline for the whole call, opening the session included
        boolean renewed = false;
        while (true) {
            if (sessionId == 0) {
                // A nonce per registration, sent with each of its tries: a retry after a lost answer gets the session
                // the first try opened, not a second one (which would sit unused and push a live session out).
                long nonce = time == null ? registrationNonce() : time.nonce();
                sessionId = (Long) call(new KvRequest(KvRequest.Kind.REGISTER, nonce, 0, null, null), null, kind, key, null, null,
                        start);
                seq = 0;
            }
            // A new sequence number per write; every retry of this write carries the same one.
            seq++;
            KvCommand.setSession(command, sessionId, seq);
            try {
                // No request object unless a connector needs one: a node in this process takes the command alone.
                return call(null, command, kind, key, value, expected, start);
            } catch (SessionExpiredException e) {
                // The cluster evicted this session. If this write was sent once, that one try was refused, so
                // nothing of it was applied: it may go again, once, under a new session. After more tries an
                // earlier one may have been applied before the eviction: at most once forbids a new session.
                sessionId = 0; // gone: this write (if it may) or the next one opens a new session
                if (attemptsOfCurrent > 1 || renewed) throw e;
                renewed = true;
                command = command.clone(); // the refused bytes are in the log: never change them
            }
        }
    }

    /** A random, non-zero 64-bit number: two clients draw the same one with odds of about n²/2⁶⁵ among n sessions. */
    private static long registrationNonce() {
        long n;
        do {
            n = java.util.concurrent.ThreadLocalRandom.current().nextLong();
        } while (n == 0);
        return n;
    }

    /** What a call was for, in the words of its errors: "PUT k", or "PUT k (opening a session)". Built only for an error. */
    private static String what(KvRequest request, KvRequest.Kind kind, String key) {
        return kind + " " + key + (request != null && request.kind() == KvRequest.Kind.REGISTER ? " (opening a session)" : "");
    }

    /**
     * Sends {@code request} (or, if it is null, the write {@code command} of {@code kind} on {@code key} and
     * {@code value} (and a CAS's {@code expected}), under this client's session and sequence number) until a
     * node answers it.
     */
    private Object call(KvRequest request, byte[] command, KvRequest.Kind kind, String key, String value, String expected,
                        long start) {
        attemptsOfCurrent = 0;
        int setbacks = 0;
        int silent = 0; // the node that last let an attempt time out, not to be asked again straight away
        boolean sent = false;
        // Whether an earlier try of this write got no answer that says it was not taken (none came in time, or
        // "unavailable", which a leader that loses its leadership with the write pending answers): it may have
        // been applied, so a refusal of a later try does not say it was not.
        boolean maybeTaken = false;
        String lastProblem = null; // what went wrong last, for the message if the deadline passes
        // A read spread over the nodes goes to each in turn, and what answers it says nothing of who leads.
        boolean spread = request != null && request.kind() == KvRequest.Kind.GET && readFrom == ReadFrom.ANY;
        while (true) {
            if (closed) {
                if (!sent) throw new IllegalStateException("this client is closed");
                throw new OutcomeUnknownException(what(request, kind, key) + ": the client was closed before an answer came; "
                        + unknownOutcome(request));
            }
            long remaining = deadlineNanos - (now() - start);
            if (remaining <= 0) {
                throw new OutcomeUnknownException(what(request, kind, key) + ": no node confirmed it within "
                        + Duration.ofNanos(deadlineNanos).toMillis() + " ms; " + unknownOutcome(request)
                        + (lastProblem == null ? "" : " (last problem: " + lastProblem + ")"));
            }
            int target = spread ? 0 : leaderGuess;
            if (target == 0) {
                target = nodes.get(Math.floorMod(nextNode++, nodes.size()));
                if (target == silent && nodes.size() > 1) target = nodes.get(Math.floorMod(nextNode++, nodes.size()));
            }
            PendingAnswer answer = new PendingAnswer(Thread.currentThread(), now() + Math.min(attemptNanos, remaining),
                    command);
            inFlight = answer;
            if (closed) continue; // close() may have missed this future; the check above reports it
            sent = true;
            attemptsOfCurrent++;
            if (command == null) {
                connector.send(target, request, answer);
            } else if (!connector.propose(target, command, answer)) {
                if (request == null) request = new KvRequest(kind, sessionId, seq, key, value, expected); // once per write
                connector.send(target, request, command, answer);
            }
            KvResponse response;
            try {
                // Spin while spinning pays (answers come within it; four misses in a row say not), and try again
                // now and then when it has not.
                if (time == null) {
                    boolean spin = spinMisses < 4 || (++spinTries & 63) == 0;
                    response = answer.await(spin);
                    if (spin) spinMisses = answer.spunIn ? 0 : spinMisses + 1;
                } else {
                    time.await(answer.deadline, answer::isAnswered, answer::expire);
                    response = answer.response();
                }
                inFlight = null; // a late answer or close() must not wake this thread for an attempt that is over
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OutcomeUnknownException(what(request, kind, key) + ": interrupted while waiting for an answer");
            }
            if (response == null) { // this attempt timed out
                maybeTaken = true;
                leaderGuess = 0;
                silent = target;
                refreshNodes(); // the nodes it knows may all be gone for good, and silent
                // An attempt cut short by the call's deadline says less than the problem before it (a refused
                // connection, say): keep that one for the message.
                if (remaining >= attemptNanos || lastProblem == null) {
                    lastProblem = "node " + target + " did not answer within "
                            + Duration.ofNanos(Math.min(attemptNanos, remaining)).toMillis() + " ms";
                }
                continue;
            }
            switch (response) {
                case KvResponse.Ok ok -> {
                    if (!spread) leaderGuess = target;
                    return ok.value();
                }
                case KvResponse.NotLeader nl -> {
                    if (nl.leaderHint() != 0 && nl.leaderHint() != target) {
                        leaderGuess = nl.leaderHint();
                    } else {
                        leaderGuess = 0;
                        lastProblem = "node " + target + " knows no leader";
                        refreshNodes();
                        backOff(++setbacks, start);
                    }
                }
                case KvResponse.Unavailable u -> {
                    maybeTaken = true;
                    if (closed) continue; // close() woke this call: say so now, not after a back-off
                    leaderGuess = 0;
                    lastProblem = u.reason();
                    if (++setbacks % nodes.size() == 0) {
                        refreshNodes();
                        backOff(setbacks / nodes.size(), start);
                    }
                }
                case KvResponse.Refused r -> {
                    if ("session expired".equals(r.reason())) {
                        throw new SessionExpiredException(what(request, kind, key) + ": the cluster expired this client's session"
                                + (attemptsOfCurrent > 1 ? "; an earlier try of this write may or may not have been applied" : ""));
                    }
                    if (maybeTaken && isWrite(request)) {
                        // Refused now (a new leader that refuses what the old one took, say), but an earlier try
                        // may have been applied: the outcome is unknown, not "not applied".
                        throw new OutcomeUnknownException(what(request, kind, key) + ": refused on a later try ("
                                + r.reason() + "), and an earlier try got no answer; " + unknownOutcome(request));
                    }
                    throw new KvException(what(request, kind, key) + ": refused: " + r.reason());
                }
            }
        }
    }

    /** Whether the call is a write: a command of this client's (no request), or a request that changes the store. */
    private static boolean isWrite(KvRequest request) {
        return request == null || request.kind() != KvRequest.Kind.GET && request.kind() != KvRequest.Kind.REGISTER;
    }

    private static String unknownOutcome(KvRequest request) {
        return request != null && request.kind() == KvRequest.Kind.GET ? "nothing was read"
                : "it may or may not have been applied, and will not be applied twice";
    }

    /**
     * Asks the connector again which nodes there are: in a cluster whose membership changes, the nodes this
     * client started with may all be gone, and the new ones reachable only by name.
     */
    private void refreshNodes() {
        List<Integer> now = connector.nodes();
        if (!now.isEmpty() && !now.equals(nodes)) nodes = List.copyOf(now);
    }

    /**
     * With no leader known (an election is on), wait a little before asking again: 1, 2, 4 .. 32 ms, and never
     * past the deadline of the call that began at {@code start} (the answer that led here may have been slow).
     */
    private void backOff(int setbacks, long start) {
        long pause = Math.min(TimeUnit.MILLISECONDS.toNanos(1L << Math.min(setbacks - 1, 5)), deadlineNanos - (now() - start));
        if (pause <= 0) return;
        if (time == null) LockSupport.parkNanos(pause);
        else time.pause(pause);
    }

    private long now() {
        return time == null ? System.nanoTime() : time.nanoTime();
    }

    /** Stops this client; calls after this throw {@link IllegalStateException}. */
    @Override
    public void close() {
        closed = true;
        PendingAnswer f = inFlight;
        if (f != null) f.accept(new KvResponse.Unavailable("client closed")); // wake a waiting call now
    }

    /** The call in flight, if any; the {@link AnswerTimeouts} thread reads it to time it out. */
    PendingAnswer inFlight() {
        return inFlight;
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * The answer to one attempt; the first response wins. The waiter parks without a timeout: a timed
     * park of a virtual thread arms and cancels a timer in the JDK's scheduler on every call, which cost
     * more than the rest of a commit's wake-ups. {@link AnswerTimeouts} ends an attempt that passes its
     * deadline instead.
     */
    static final class PendingAnswer extends Proposal implements Consumer<KvResponse> {
        /** What {@link #expire} leaves: no answer came in time. */
        private static final KvResponse TIMED_OUT = new KvResponse.Unavailable("timed out");
        /** How long a platform thread spins for an answer before it parks: some tens of microseconds. */
        private static final int PLATFORM_SPINS = 1_000;
        /** Platform threads spinning for an answer now, and how many may: one per two cores beyond the first two. */
        private static final java.util.concurrent.atomic.AtomicInteger SPINNERS = new java.util.concurrent.atomic.AtomicInteger();
        private static final int MAX_SPINNERS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2 - 1);
        /** How often a platform thread that may not spin yields its core before it parks. */
        private static final int PLATFORM_YIELDS = 16;
        private static final VarHandle VALUE;

        static {
            try {
                VALUE = MethodHandles.lookup().findVarHandle(PendingAnswer.class, "value", KvResponse.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final Thread waiter;
        final long deadline;
        /** Whether the last {@link #await} got its answer while spinning. */
        boolean spunIn;
        private volatile KvResponse value;

        /** @param command the write's command, which a node in this process proposes with this object as its reply; or null */
        PendingAnswer(Thread waiter, long deadline, byte[] command) {
            super(command);
            this.waiter = waiter;
            this.deadline = deadline;
        }

        @Override
        public void accept(KvResponse response) {
            // An answer given on the waiter's own thread (a node that is down, a request refused before it was
            // sent) must not leave it a permit: its next timed park, a back-off, would return at once, and a
            // client among nodes that all refuse at once would spin on its carrier until its deadline.
            if (VALUE.compareAndSet(this, null, response) && waiter != Thread.currentThread()) LockSupport.unpark(waiter);
        }

        /** As a node's answer, when a node in this process takes this object as its proposal (KvService does). */
        @Override
        public void ok(Object result) {
            accept(KvService.toResponse(result));
        }

        @Override
        public void notLeader(int leaderHint) {
            accept(new KvResponse.NotLeader(leaderHint));
        }

        @Override
        public void unavailable(String reason) {
            accept(new KvResponse.Unavailable(reason));
        }

        boolean isAnswered() {
            return value != null;
        }

        /** The response once answered, or null if the attempt timed out (or is still open). */
        KvResponse response() {
            KvResponse v = value;
            return v == TIMED_OUT ? null : v;
        }

        /** Ends the wait with no answer, unless one has come. */
        void expire() {
            if (VALUE.compareAndSet(this, null, TIMED_OUT)) LockSupport.unpark(waiter);
        }

        /** The response, or null if none came by the deadline. */
        /**
         * The response, or null if none came by the deadline. A platform thread may first spin
         * ({@code spin}) or yield its core for a moment; returns whether the answer came while it spun.
         */
        KvResponse await(boolean spin) throws InterruptedException {
            KvResponse v;
            spunIn = false;
            if (spin && !waiter.isVirtual() && SPINNERS.incrementAndGet() <= MAX_SPINNERS) {
                // A platform thread with a core to spin on waits a moment that way: an in-memory cluster
                // usually answers within it, and the answer then costs no wake-up through the OS. Only a
                // few at once (a core's worth): many spinning clients would take the cores the nodes need.
                // A virtual thread never spins: it would hold a carrier the nodes need.
                try {
                    for (int i = 0; i < PLATFORM_SPINS && value == null; i++) Thread.onSpinWait();
                    spunIn = value != null;
                } finally {
                    SPINNERS.decrementAndGet();
                }
            } else if (!waiter.isVirtual()) {
                if (spin) SPINNERS.decrementAndGet();
                // No core to spin on: yield it a few times instead. The answer then often finds this thread
                // not yet parked, and waking it costs the node's thread no system call.
                for (int i = 0; i < PLATFORM_YIELDS && value == null; i++) Thread.yield();
            }
            if ((v = value) == null) AnswerTimeouts.watch();
            while ((v = value) == null) {
                if (Thread.interrupted()) throw new InterruptedException();
                LockSupport.park(this);
            }
            return v == TIMED_OUT ? null : v;
        }
    }
}

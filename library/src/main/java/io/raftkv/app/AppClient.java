package io.raftkv.app;

import io.raftkv.client.Timeouts;
import io.raftkv.client.CommandFailedException;
import io.raftkv.client.ClientException;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.client.ReadFrom;
import io.raftkv.client.SessionExpiredException;
import io.raftkv.node.Reply;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * A client of a cluster that runs an {@link Application}. It finds the leader and follows redirects; it
 * retries a command with the same sequence number of its session, so the command applies at most once
 * and every try gets the first answer; a query is served linearizably by the leader, or with
 * {@link #readFrom readFrom(ReadFrom.ANY)} by every node in turn (a follower with the leader's read index). A call
 * that no node confirms within the deadline fails with {@link OutcomeUnknownException}: a command may
 * then have been applied or not, and will not be applied twice. What the application threw fails the
 * call with {@link CommandFailedException}.
 *
 * <p>Calls complete one at a time, in the order they were made, on the client's own thread: a later
 * call waits for the earlier ones (a session has one command in flight). Actions chained on a returned
 * future without an executor run on that thread, so keep them short, or give them an executor. Give
 * workers that must not wait for each other a client each. Thread-safe.
 *
 * @param <C> the application's commands
 * @param <Q> its queries
 * @param <R> its answers
 */
public final class AppClient<C, Q, R> implements AutoCloseable {
    private static final Object TIMED_OUT = new Object();

    private final AppSpec<C, Q, R> spec;
    private final AppConnector connector;
    private final long deadlineNanos;
    private final long attemptNanos;
    private final LinkedBlockingQueue<Call> calls = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;
    private volatile ReadFrom readFrom = ReadFrom.LEADER;

    // The worker's own state.
    private List<Integer> nodes;
    private long sessionId;
    private long seq;
    private int leaderGuess;
    private int nextNode;

    /**
     * @param deadline       how long one call may take in all, retries included
     * @param attemptTimeout how long to wait for one node before trying another
     */
    public AppClient(AppSpec<C, Q, R> spec, AppConnector connector, Duration deadline, Duration attemptTimeout) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.connector = Objects.requireNonNull(connector, "connector");
        this.deadlineNanos = Timeouts.positiveNanos(deadline, "deadline");
        this.attemptNanos = Timeouts.positiveNanos(attemptTimeout, "attemptTimeout");
        this.nodes = List.copyOf(connector.nodes());
        if (nodes.isEmpty()) throw new IllegalArgumentException("the connector names no nodes");
        this.worker = Thread.ofVirtual().name("raftkv-app-client").start(this::work);
    }

    /**
     * Submits a command; the future completes with the application's answer once the command is committed
     * and applied, or fails with {@link OutcomeUnknownException}, {@link CommandFailedException} or
     * {@link SessionExpiredException}.
     *
     * @throws RuntimeException what the command codec throws on {@code command}, before anything is sent
     * @throws IllegalStateException if this client is closed
     */
    public CompletableFuture<R> submit(C command) {
        Objects.requireNonNull(command, "command");
        byte[] payload = Objects.requireNonNull(spec.commands().encode(command), "the command codec returned null");
        return enqueue(new Call(payload, null, command));
    }

    /**
     * Reads linearizably: the future completes with the application's answer to {@code query}, as of a
     * moment between this call and its completion, or fails as {@link #submit} does (a query is never
     * applied, so an {@link OutcomeUnknownException} only says nothing was read).
     */
    public CompletableFuture<R> query(Q query) {
        Objects.requireNonNull(query, "query");
        return enqueue(new Call(null, query, query));
    }

    /**
     * Sends queries to the nodes {@code where} says from now on (default {@link ReadFrom#LEADER}); every node
     * answers them linearizably. Returns this client.
     */
    public AppClient<C, Q, R> readFrom(ReadFrom where) {
        this.readFrom = Objects.requireNonNull(where, "where");
        return this;
    }

    /** {@link #submit} and wait: the answer, or the exception the future failed with. */
    public R apply(C command) {
        return join(submit(command));
    }

    /** {@link #query} and wait: the answer, or the exception the future failed with. */
    public R read(Q query) {
        return join(query(query));
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }

    /** Stops this client: calls not yet started fail with {@link IllegalStateException}, the one under way with {@link OutcomeUnknownException}. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        worker.interrupt();
        failQueued();
    }

    private CompletableFuture<R> enqueue(Call call) {
        if (closed) throw new IllegalStateException("this client is closed");
        calls.add(call);
        if (closed) failQueued(); // close() may have drained the queue before this call joined it
        return call.future;
    }

    private void failQueued() {
        List<Call> left = new ArrayList<>();
        calls.drainTo(left);
        for (Call c : left) c.future.completeExceptionally(new IllegalStateException("this client is closed"));
    }

    /** One call: a command's payload, or a query. */
    private final class Call {
        final byte[] payload;
        final Q query;
        final Object what;
        final CompletableFuture<R> future = new CompletableFuture<>();

        Call(byte[] payload, Q query, Object what) {
            this.payload = payload;
            this.query = query;
            this.what = what;
        }

        String describe() {
            return (payload != null ? "command " : "query ") + what;
        }
    }

    private void work() {
        while (!closed) {
            Call call;
            try {
                call = calls.take();
            } catch (InterruptedException e) {
                break;
            }
            try {
                call.future.complete(call.payload != null ? command(call)
                        : answer(call, attempts(call, null, null, call.query, System.nanoTime(), false)));
            } catch (RuntimeException e) {
                call.future.completeExceptionally(e);
            }
        }
        failQueued();
    }

    private R command(Call call) {
        long start = System.nanoTime(); // one deadline for the whole call, opening the session included
        boolean renewed = false;
        while (true) {
            if (sessionId == 0) {
                // A nonce per registration, the same on each of its tries: a retry after a lost answer gets the
                // session the first try opened, not a second one.
                Object registered = attempts(call, null, AppCommand.register(nonce()), null, start, true);
                sessionId = ((SessionMachine.Registered) registered).sessionId();
                seq = 0;
            }
            seq++; // a new sequence number per command; every retry of it carries the same one
            Attempts tries = new Attempts();
            Object answer = attempts(call, tries, AppCommand.command(sessionId, seq, call.payload), null, start, false);
            if (answer == SessionMachine.Refusal.SESSION_EXPIRED) {
                // Sent once and refused: nothing of it was applied, so it may go again, once, under a new
                // session. Tried more than once, an earlier try may have been applied before the eviction.
                sessionId = 0;
                if (tries.count > 1 || renewed) {
                    throw new SessionExpiredException(call.describe() + ": the cluster expired this client's session"
                            + (tries.count > 1 ? "; an earlier try may or may not have been applied" : ""));
                }
                renewed = true;
                continue;
            }
            return answer(call, answer);
        }
    }

    /** What the cluster answered, as the call's result or its exception. */
    @SuppressWarnings("unchecked")
    private R answer(Call call, Object answer) {
        if (answer instanceof SessionMachine.Failed f) throw new CommandFailedException(call.describe() + " failed: " + f.message());
        if (answer == SessionMachine.Refusal.STALE) {
            throw new ClientException(call.describe() + ": the cluster holds a newer command of this session");
        }
        return (R) answer;
    }

    private static final class Attempts {
        int count;
    }

    /**
     * Proposes {@code entry} (or, if it is null, reads {@code query}) until a node answers, and returns the
     * answer. {@code tries}, if given, counts the tries.
     */
    private Object attempts(Call call, Attempts tries, byte[] entry, Object query, long start, boolean registering) {
        int setbacks = 0;
        int silent = 0; // the node that last let an attempt time out, not to be asked again straight away
        boolean sent = false;
        String lastProblem = null;
        String what = call.describe() + (registering ? " (opening a session)" : "");
        String unknown = entry != null ? "it may or may not have been applied, and will not be applied twice"
                : "nothing was read";
        // A query spread over the nodes goes to each in turn, and what answers it says nothing of who leads.
        boolean spread = entry == null && readFrom == ReadFrom.ANY;
        while (true) {
            if (closed) {
                if (!sent) throw new IllegalStateException("this client is closed");
                throw new OutcomeUnknownException(what + ": the client was closed before an answer came; " + unknown);
            }
            long remaining = deadlineNanos - (System.nanoTime() - start);
            if (remaining <= 0) {
                throw new OutcomeUnknownException(what + ": no node confirmed it within "
                        + Duration.ofNanos(deadlineNanos).toMillis() + " ms; " + unknown
                        + (lastProblem == null ? "" : " (last problem: " + lastProblem + ")"));
            }
            int target = spread ? 0 : leaderGuess;
            if (target == 0) {
                target = nodes.get(Math.floorMod(nextNode++, nodes.size()));
                if (target == silent && nodes.size() > 1) target = nodes.get(Math.floorMod(nextNode++, nodes.size()));
            }
            Attempt attempt = new Attempt();
            sent = true;
            if (tries != null) tries.count++;
            if (entry != null) connector.propose(target, entry, attempt);
            else connector.read(target, query, attempt);
            Object response = attempt.await(Math.min(attemptNanos, remaining));
            if (response == TIMED_OUT) {
                leaderGuess = 0;
                silent = target;
                refreshNodes();
                if (remaining >= attemptNanos || lastProblem == null) {
                    lastProblem = "node " + target + " did not answer within "
                            + Duration.ofNanos(Math.min(attemptNanos, remaining)).toMillis() + " ms";
                }
                continue;
            }
            switch (response) {
                case Ok ok -> {
                    if (!spread) leaderGuess = target;
                    return ok.result();
                }
                case NotLeader nl -> {
                    if (nl.hint() != 0 && nl.hint() != target) {
                        leaderGuess = nl.hint();
                    } else {
                        leaderGuess = 0;
                        lastProblem = "node " + target + " knows no leader";
                        refreshNodes();
                        backOff(++setbacks, start);
                    }
                }
                case Unavailable u -> {
                    leaderGuess = 0;
                    lastProblem = u.reason();
                    if (++setbacks % nodes.size() == 0) {
                        refreshNodes();
                        backOff(setbacks / nodes.size(), start);
                    }
                }
                default -> throw new IllegalStateException("unexpected response " + response);
            }
        }
    }

    private void refreshNodes() {
        List<Integer> now = connector.nodes();
        if (!now.isEmpty() && !now.equals(nodes)) nodes = List.copyOf(now);
    }

    /** With no leader known, waits 1, 2, 4 .. 32 ms before asking again, never past the call's deadline. */
    private void backOff(int setbacks, long start) {
        long pause = Math.min(TimeUnit.MILLISECONDS.toNanos(1L << Math.min(setbacks - 1, 5)),
                deadlineNanos - (System.nanoTime() - start));
        if (pause > 0) LockSupport.parkNanos(pause);
    }

    private static long nonce() {
        long n;
        do {
            n = ThreadLocalRandom.current().nextLong();
        } while (n == 0);
        return n;
    }

    private record Ok(Object result) {}

    private record NotLeader(int hint) {}

    private record Unavailable(String reason) {}

    /** One try at one node; the first response wins. */
    private final class Attempt implements Reply {
        private final CompletableFuture<Object> response = new CompletableFuture<>();

        @Override
        public void ok(Object result) {
            response.complete(new Ok(result));
        }

        @Override
        public void notLeader(int leaderHint) {
            response.complete(new NotLeader(leaderHint));
        }

        @Override
        public void unavailable(String reason) {
            response.complete(new Unavailable(reason));
        }

        /** The response, or {@link #TIMED_OUT}; a closed client's wait ends as a refusal that the caller reports. */
        Object await(long nanos) {
            try {
                return response.get(nanos, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                return TIMED_OUT;
            } catch (InterruptedException e) {
                return new Unavailable("client closed"); // closed is set: the loop reports it
            } catch (ExecutionException e) {
                throw new IllegalStateException("an attempt failed", e.getCause());
            }
        }
    }
}

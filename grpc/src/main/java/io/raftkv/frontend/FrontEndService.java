package io.raftkv.frontend;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.raftkv.frontend.proto.FrontEndGrpc;
import io.raftkv.frontend.proto.GetKey;
import io.raftkv.frontend.proto.IntegerArg;
import io.raftkv.frontend.proto.KeyValue;
import io.raftkv.frontend.proto.Reply;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;
import java.lang.System.Logger.Level;

/**
 * The {@code FrontEnd} service: {@code StartRaft(n)} replaces the cluster with n new server processes and
 * returns without waiting for them; GET, PUT and REPLACE go to the current cluster's leader.
 */
final class FrontEndService extends FrontEndGrpc.FrontEndImplBase implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FrontEndService.class.getName());

    private final Path root;
    private final Function<Integer, PortPlan> plans;
    private final Supplier<ServerProcesses.Launch> launch;
    private final String clusterId;
    private final Duration timeout;
    private final Object lock = new Object();
    private volatile CompletableFuture<ServerProcesses> servers;
    /** Starts the servers of each StartRaft in turn, off the caller's thread. */
    private final java.util.concurrent.Executor starter = java.util.concurrent.Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("raftkv-frontend-starter").daemon().factory());
    private volatile LeaderClients clients;

    FrontEndService(Path root, Function<Integer, PortPlan> plans, Supplier<ServerProcesses.Launch> launch, String clusterId,
                    Duration timeout) {
        this.root = root;
        this.plans = plans;
        this.launch = launch;
        this.clusterId = clusterId;
        this.timeout = timeout;
    }

    @Override
    public void startRaft(IntegerArg request, StreamObserver<Reply> answer) {
        PortPlan plan;
        try {
            plan = plans.apply(request.getArg());
        } catch (IllegalArgumentException e) {
            answer.onError(Status.INVALID_ARGUMENT.withDescription("StartRaft(" + request.getArg() + "): "
                    + e.getMessage()).asRuntimeException());
            return;
        }
        ServerProcesses.Launch how = launch.get();
        try {
            for (int id = 1; id <= plan.servers(); id++) how.command(plan, id, root.resolve("server-" + id)); // checked now
        } catch (IllegalArgumentException e) {
            answer.onError(Status.FAILED_PRECONDITION.withDescription("StartRaft(" + request.getArg() + "): "
                    + e.getMessage()).asRuntimeException());
            return;
        }
        synchronized (lock) {
            // The old servers are gone before anything reaches the new ports: a write taken by an old server
            // now would be acknowledged and then lost with it.
            stopCluster();
            clients = new LeaderClients(plan.addresses(), clusterId, timeout);
            // The new ones start after the reply: starting JVMs saturates a small machine, and the reply
            // would wait for a core behind them. A failure is logged and answers the next calls.
            long t0 = System.nanoTime();
            servers = CompletableFuture.supplyAsync(() -> ServerProcesses.start(plan, root, how), starter);
            servers.whenComplete((started, failure) -> {
                if (failure != null) {
                    LOG.log(Level.WARNING, "StartRaft(" + plan.servers() + "): " + failure.getCause().getMessage());
                } else {
                    LOG.log(Level.INFO, () -> "StartRaft(" + plan.servers() + "): started servers on ports "
                            + (plan.serverBase() + 1) + ".." + (plan.serverBase() + plan.servers()) + " in "
                            + (System.nanoTime() - t0) / 1_000_000 + " ms; their data and logs in " + root);
                }
            });
        }
        answer.onNext(Reply.getDefaultInstance());
        answer.onCompleted();
    }

    @Override
    public void get(GetKey request, StreamObserver<Reply> answer) {
        serve(answer, c -> c.get(request.getKey()));
    }

    @Override
    public void put(KeyValue request, StreamObserver<Reply> answer) {
        serve(answer, c -> c.put(request.getKey(), request.getValue()));
    }

    @Override
    public void replace(KeyValue request, StreamObserver<Reply> answer) {
        serve(answer, c -> c.replace(request.getKey(), request.getValue()));
    }

    private void serve(StreamObserver<Reply> answer, Function<LeaderClients, Reply> op) {
        LeaderClients c = clients;
        if (c == null) {
            answer.onError(Status.FAILED_PRECONDITION.withDescription("no cluster: call StartRaft first").asRuntimeException());
            return;
        }
        CompletableFuture<ServerProcesses> s = servers;
        if (s != null && s.isCompletedExceptionally()) {
            answer.onError(Status.FAILED_PRECONDITION.withDescription("the servers of the last StartRaft could not be"
                    + " started: " + s.handle((ok, failure) -> failure.getCause().getMessage()).join()).asRuntimeException());
            return;
        }
        try {
            answer.onNext(op.apply(c));
            answer.onCompleted();
        } catch (StatusRuntimeException e) {
            answer.onError(e);
        } catch (RuntimeException e) {
            answer.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        }
    }

    private void stopCluster() {
        LeaderClients c = clients;
        clients = null;
        if (c != null) c.close();
        if (servers != null) {
            try {
                servers.join().close(); // once all have started, if they are still starting
            } catch (CompletionException failedToStart) {
                // logged when it failed; some may have started, and ServerProcesses.start killed those
            }
        }
        servers = null;
    }

    /** Kills the servers it started. */
    @Override
    public void close() {
        long t0 = System.nanoTime();
        synchronized (lock) {
            stopCluster();
        }
    }
}

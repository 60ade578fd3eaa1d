package io.raftkv.frontend;

import io.raftkv.client.ClientException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftkv.frontend.proto.Reply;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.client.SessionExpiredException;
import io.raftkv.kv.net.TcpKvConnector;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * GET, PUT and REPLACE on a cluster as gRPC replies: {@link KvClient}s that find and follow the leader,
 * one per request in flight (a client serves one call at a time), kept for reuse.
 *
 * <p>Each client has its own session and numbers its own writes; the {@code ClientId} and {@code RequestId}
 * of the gRPC messages are not used (the clients of this interface send {@code RequestId} 0 on every call,
 * and a retry within a call keeps its sequence number in {@link KvClient}). A write that no majority
 * confirmed within the deadline is a DEADLINE_EXCEEDED status, never an OK reply.
 */
final class LeaderClients implements AutoCloseable {
    private final TcpKvConnector connector;
    private final Duration deadline;
    private final Duration attempt;
    private final ConcurrentLinkedQueue<KvClient> idle = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    LeaderClients(Map<Integer, InetSocketAddress> servers, String clusterId, Duration deadline) {
        this.connector = new TcpKvConnector(servers, clusterId);
        this.deadline = deadline;
        // A leader that was cut off still takes requests, but commits none: move on well within the deadline.
        this.attempt = deadline.dividedBy(4).compareTo(Duration.ofMillis(500)) < 0 ? deadline.dividedBy(4) : Duration.ofMillis(500);
    }

    Reply get(String key) {
        return call(c -> {
            Optional<String> v = c.get(key);
            return v.isPresent() ? Reply.newBuilder().setValue(v.get()).build()
                    : Reply.newBuilder().setError("no such key: " + key).build();
        });
    }

    Reply put(String key, String value) {
        return call(c -> {
            c.put(key, value);
            return Reply.getDefaultInstance();
        });
    }

    Reply replace(String key, String value) {
        return call(c -> c.replace(key, value) ? Reply.getDefaultInstance()
                : Reply.newBuilder().setError("no such key to replace: " + key).build());
    }

    private Reply call(Function<KvClient, Reply> op) {
        if (closed) throw Status.UNAVAILABLE.withDescription("the cluster was stopped").asRuntimeException();
        KvClient c = idle.poll();
        if (c == null) c = new KvClient(connector, KvLimits.DEFAULT, deadline, attempt);
        boolean reusable = true;
        try {
            return op.apply(c);
        } catch (OutcomeUnknownException e) {
            reusable = false;
            throw status(Status.DEADLINE_EXCEEDED, e);
        } catch (SessionExpiredException e) {
            reusable = false;
            throw status(Status.ABORTED, e);
        } catch (IllegalArgumentException | NullPointerException e) { // KvLimits: a key or value it cannot take
            throw status(Status.INVALID_ARGUMENT, e);
        } catch (ClientException e) {
            throw status(Status.FAILED_PRECONDITION, e);
        } finally {
            if (reusable && !closed) idle.add(c);
            else c.close();
        }
    }

    private static StatusRuntimeException status(Status status, Exception e) {
        return status.withDescription(e.getMessage()).asRuntimeException();
    }

    @Override
    public void close() {
        closed = true;
        for (KvClient c; (c = idle.poll()) != null; ) c.close();
        connector.close();
    }
}

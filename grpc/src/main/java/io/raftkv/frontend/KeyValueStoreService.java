package io.raftkv.frontend;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.raftkv.frontend.proto.Empty;
import io.raftkv.frontend.proto.GetKey;
import io.raftkv.frontend.proto.KeyValue;
import io.raftkv.frontend.proto.KeyValueStoreGrpc;
import io.raftkv.frontend.proto.Reply;
import io.raftkv.frontend.proto.State;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;

import java.util.function.Supplier;

/**
 * The {@code KeyValueStore} service of one server: its state, and GET / PUT / REPLACE, which a follower
 * answers with {@code wrongLeader} and the leader carries out (linearizably, through the log or ReadIndex).
 */
final class KeyValueStoreService extends KeyValueStoreGrpc.KeyValueStoreImplBase {
    private final Supplier<NodeStatus> status;
    private final LeaderClients clients;

    KeyValueStoreService(Supplier<NodeStatus> status, LeaderClients clients) {
        this.status = status;
        this.clients = clients;
    }

    @Override
    public void getState(Empty request, StreamObserver<State> answer) {
        NodeStatus s = status.get();
        answer.onNext(State.newBuilder().setTerm((int) Math.min(Integer.MAX_VALUE, s.term()))
                .setIsLeader(s.alive() && s.role() == Role.LEADER).build());
        answer.onCompleted();
    }

    @Override
    public void get(GetKey request, StreamObserver<Reply> answer) {
        serve(answer, () -> clients.get(request.getKey()));
    }

    @Override
    public void put(KeyValue request, StreamObserver<Reply> answer) {
        serve(answer, () -> clients.put(request.getKey(), request.getValue()));
    }

    @Override
    public void replace(KeyValue request, StreamObserver<Reply> answer) {
        serve(answer, () -> clients.replace(request.getKey(), request.getValue()));
    }

    /** A follower says so at once; the leader serves (should it lose the lead meanwhile, the call follows the new one). */
    private void serve(StreamObserver<Reply> answer, Supplier<Reply> op) {
        try {
            NodeStatus s = status.get();
            answer.onNext(s.role() == Role.LEADER ? op.get() : Reply.newBuilder().setWrongLeader(true).build());
            answer.onCompleted();
        } catch (io.grpc.StatusRuntimeException e) {
            answer.onError(e);
        } catch (RuntimeException e) {
            answer.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        }
    }
}

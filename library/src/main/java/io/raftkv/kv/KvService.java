package io.raftkv.kv;

import io.raftkv.node.CommandFailure;
import io.raftkv.node.RaftNode;
import io.raftkv.node.Reply;
import io.raftkv.raft.FeatureLevel;
import io.raftkv.raft.Role;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Serves key-value requests on one node: writes (PUT, REPLACE, DELETE, CAS) go through the log (a follower
 * names the leader), GET through a read the leader confirms (ReadIndex, or its lease), which a follower
 * serves too.
 */
public final class KvService {
    private final RaftNode node;
    private final KvLimits limits;

    public KvService(RaftNode node, KvLimits limits) {
        this.node = Objects.requireNonNull(node, "node");
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /**
     * Handles a write whose command a client in this process has encoded ({@link KvConnector#send(int,
     * KvRequest, byte[], Consumer)}): the bytes are checked (well-formed, valid UTF-8, within the limits,
     * and of the request's kind, session and sequence number) and proposed as they are. Without a
     * command, as {@link #handle(KvRequest, Consumer)}.
     */
    public void handle(KvRequest request, byte[] command, Consumer<KvResponse> reply) {
        Objects.requireNonNull(reply, "reply");
        KvCommand.Op op = request == null ? null : writeOp(request.kind());
        if (command == null || op == null) {
            handle(request, reply);
            return;
        }
        proposeChecked(command, op, request.clientId(), request.seq(), reply);
    }

    /** The command op of a write request's kind, or null if the kind is not a client's write. */
    private static KvCommand.Op writeOp(KvRequest.Kind kind) {
        return switch (kind) {
            case PUT -> KvCommand.Op.PUT;
            case REPLACE -> KvCommand.Op.REPLACE;
            case DELETE -> KvCommand.Op.DELETE;
            case CAS -> KvCommand.Op.CAS;
            case GET, REGISTER -> null;
            case null -> null;
        };
    }

    /**
     * Handles a write whose command a client in this process has encoded, session and sequence number set,
     * with no request beside it ({@link KvConnector#propose}): the command says what it is (a PUT, a REPLACE,
     * a DELETE or a CAS), and is checked as {@link #handle(KvRequest, byte[], Consumer)} checks it.
     */
    public void propose(byte[] command, Consumer<KvResponse> reply) {
        Objects.requireNonNull(reply, "reply");
        KvCommand.Op op = command == null ? null : KvCommand.writeOp(command);
        if (op == null) {
            reply.accept(new KvResponse.Refused("not the command of a PUT, a REPLACE, a DELETE or a CAS"));
            return;
        }
        proposeChecked(command, op, KvCommand.clientId(command), KvCommand.seq(command), reply);
    }

    private void proposeChecked(byte[] command, KvCommand.Op op, long clientId, long seq, Consumer<KvResponse> reply) {
        if (seq < 1) {
            reply.accept(new KvResponse.Refused("a write needs a sequence number >= 1, was " + seq));
            return;
        }
        try {
            KvCommand.check(command, op, clientId, seq, limits);
        } catch (IllegalArgumentException e) {
            reply.accept(new KvResponse.Refused(e.getMessage()));
            return;
        }
        if (belowLevel(op, reply)) return;
        // A KvClient in this process hands its answer object over as the proposal itself (it converts the
        // node's answer as toReply does): no proposal and no adapter per write.
        if (reply instanceof KvClient.PendingAnswer direct && direct.command() == command) node.propose(direct);
        else node.propose(command, toReply(reply));
    }

    /** Handles one request; {@code reply} is called exactly once, possibly on the node's thread. */
    public void handle(KvRequest request, Consumer<KvResponse> reply) {
        Objects.requireNonNull(reply, "reply");
        String problem = check(request);
        if (problem != null) {
            reply.accept(new KvResponse.Refused(problem));
            return;
        }
        Reply r = toReply(reply);
        switch (request.kind()) {
            case GET -> node.read(request.key(), r);
            case PUT, REPLACE, DELETE, CAS -> {
                KvCommand.Op op = writeOp(request.kind());
                if (belowLevel(op, reply)) return;
                byte[] command;
                try {
                    // Checks the key, the value and a CAS's expected value against the limits as it encodes them.
                    command = KvCommand.encode(op, request.clientId(), request.seq(), request.key(),
                            request.kind() == KvRequest.Kind.DELETE ? "" : request.value(), request.expected(), limits);
                } catch (IllegalArgumentException e) {
                    reply.accept(new KvResponse.Refused(e.getMessage()));
                    return;
                }
                node.propose(command, r);
            }
            case REGISTER -> node.propose(KvCommand.register(request.clientId()).encode(), r); // its nonce, or 0
        }
    }

    /**
     * Refuses a DELETE or a CAS, which an older build cannot apply, while this node leads a cluster whose committed
     * {@link FeatureLevel feature level} is below the one they need (the client is told to retry if the level is
     * being raised); a follower names the leader as for any write.
     * One comparison for the other writes.
     */
    private boolean belowLevel(KvCommand.Op op, Consumer<KvResponse> reply) {
        if (op != KvCommand.Op.DELETE && op != KvCommand.Op.CAS) return false;
        int level = node.featureLevel();
        if (level >= FeatureLevel.DELETE_CAS_AND_ADDRESSES || node.status().role() != Role.LEADER) return false;
        if (node.featureLevelRising()) {
            // Every member supports it and the entry that raises the level is on its way: the client retries.
            reply.accept(new KvResponse.Unavailable("the cluster's feature level is being raised from " + level + " to "
                    + FeatureLevel.DELETE_CAS_AND_ADDRESSES + ", which a " + op + " needs"));
        } else {
            reply.accept(new KvResponse.Refused(FeatureLevel.refusal(level, FeatureLevel.DELETE_CAS_AND_ADDRESSES, "a " + op)));
        }
        return true;
    }

    private static Reply toReply(Consumer<KvResponse> reply) {
        return new Reply() {
            @Override
            public void ok(Object result) {
                reply.accept(toResponse(result));
            }

            @Override
            public void notLeader(int leaderHint) {
                reply.accept(new KvResponse.NotLeader(leaderHint));
            }

            @Override
            public void unavailable(String reason) {
                reply.accept(new KvResponse.Unavailable(reason));
            }
        };
    }

    private String check(KvRequest request) {
        if (request == null || request.kind() == null) return "request and its kind must not be null";
        try {
            if (request.kind() == KvRequest.Kind.GET) limits.checkKey(request.key());
            if (request.expected() != null && request.kind() != KvRequest.Kind.CAS) {
                return "only a CAS carries an expected value, not a " + request.kind();
            }
            if (writeOp(request.kind()) != null) {
                // The key and the value are checked as they are encoded.
                if (request.key() == null) return "key must not be null";
                if (request.kind() == KvRequest.Kind.DELETE) {
                    if (request.value() != null) return "a DELETE carries no value";
                } else if (request.value() == null) {
                    return "value must not be null";
                }
                if (request.seq() < 1) return "a write needs a sequence number >= 1, was " + request.seq();
            }
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        return null;
    }

    static KvResponse toResponse(Object result) {
        return switch (result) {
            case null -> KvResponse.Ok.NONE;
            case String value -> new KvResponse.Ok(value);
            case KvResult.Written w -> KvResponse.Ok.NONE;
            case KvResult.Conditional c -> new KvResponse.Ok(c.applied());
            case KvResult.Registered reg -> new KvResponse.Ok(reg.clientId());
            case KvResult.SessionExpired e -> new KvResponse.Refused("session expired");
            case KvResult.Stale s -> new KvResponse.Refused("an older request of this session");
            case CommandFailure f -> new KvResponse.Refused("the state machine failed on this write: " + f.cause());
            default -> throw new IllegalStateException("unexpected result " + result);
        };
    }
}

package io.raftkv.node;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * A command proposed to a {@link RaftNode}, and the answer to it: the node calls {@link #ok} or
 * {@link #notLeader} exactly once, on its own thread. {@link RaftNode#propose(byte[], Reply)} makes
 * one around a command and a reply; a caller with an answer object of its own can extend this class
 * instead and pass it to {@link RaftNode#propose(Proposal)}, one object per command rather than two.
 * An instance is proposed once: a second {@code propose} of it is refused.
 */
public abstract class Proposal implements Reply {
    private static final VarHandle PROPOSED;

    static {
        try {
            PROPOSED = MethodHandles.lookup().findVarHandle(Proposal.class, "proposed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final byte[] command;
    @SuppressWarnings("unused") // through PROPOSED
    private volatile boolean proposed;
    // The node's bookkeeping, on its thread only.
    long index;
    /**
     * The term of its entry once the node has appended it. Until then, when it entered the inbox if a recording
     * takes {@link NodePassEvent}s (else 0): one field for both keeps every in-process write 8 bytes smaller.
     */
    long term;

    /** @param command the command, which must not change afterwards; may be null in an instance never proposed */
    protected Proposal(byte[] command) {
        this.command = command;
    }

    /** The command. */
    public final byte[] command() {
        return command;
    }

    /** Marks this proposal as proposed; refuses a second time. */
    final void claim() {
        Objects.requireNonNull(command, "command");
        if (!PROPOSED.compareAndSet(this, false, true)) {
            throw new IllegalStateException("this proposal was proposed already: propose each instance once");
        }
    }

    /** A command and a separate reply: what {@link RaftNode#propose(byte[], Reply)} makes. */
    static final class Of extends Proposal {
        private final Reply reply;

        Of(byte[] command, Reply reply) {
            super(command);
            this.reply = reply;
        }

        @Override
        public void ok(Object result) {
            reply.ok(result);
        }

        @Override
        public void notLeader(int leaderHint) {
            reply.notLeader(leaderHint);
        }

        @Override
        public void unavailable(String reason) {
            reply.unavailable(reason);
        }
    }
}

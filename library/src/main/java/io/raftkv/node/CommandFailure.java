package io.raftkv.node;

import java.util.Objects;

/**
 * The result of a command whose {@link StateMachine#apply} threw a {@link RuntimeException}: the
 * exception is that command's output, the same on every replica of a deterministic state machine, so the
 * node answers the proposer with it (through {@link Reply#ok}) and goes on applying.
 *
 * @param index the command's index in the log
 * @param cause what {@code apply} threw (on the node that answers)
 */
public record CommandFailure(long index, RuntimeException cause) {
    public CommandFailure {
        Objects.requireNonNull(cause, "cause");
    }
}

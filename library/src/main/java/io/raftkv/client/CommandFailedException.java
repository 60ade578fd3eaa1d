package io.raftkv.client;

/**
 * The application threw on a command or a query (or its bytes did not decode): that is the command's
 * answer, the same on every node, and a retry of the same command gets it again. The command was
 * applied, so whatever the application changed before it threw stays changed.
 */
public final class CommandFailedException extends ClientException {
    public CommandFailedException(String message) {
        super(message);
    }
}

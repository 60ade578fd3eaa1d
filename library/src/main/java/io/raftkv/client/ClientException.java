package io.raftkv.client;

/**
 * Something a client call could not do: the base of what {@code KvClient} and {@code AppClient} throw
 * about a call (beside the argument checks' {@link IllegalArgumentException} and {@link NullPointerException},
 * and {@link IllegalStateException} for a closed client).
 */
public class ClientException extends RuntimeException {
    public ClientException(String message) {
        super(message);
    }
}

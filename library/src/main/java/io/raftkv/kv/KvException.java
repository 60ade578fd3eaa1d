package io.raftkv.kv;

import io.raftkv.client.ClientException;

/** A key-value request the cluster refused, with the reason; or a node that could not be asked. */
public class KvException extends ClientException {
    public KvException(String message) {
        super(message);
    }
}

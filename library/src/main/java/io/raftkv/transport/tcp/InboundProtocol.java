package io.raftkv.transport.tcp;

import java.io.DataInputStream;
import java.io.IOException;

/**
 * Another protocol served on a node's peer port, told apart by the first four bytes a connection sends
 * (such as the key-value client protocol): one address per node serves peers and clients alike.
 */
public interface InboundProtocol {
    /** The four bytes, big-endian, that open this protocol's connections; never the peer handshake's. */
    int magic();

    /**
     * Serves one connection until it ends, on a thread of the transport's own. The connection is in clear or,
     * on a transport that runs TLS, under TLS with its handshake done; {@code in} reads it, and the magic has
     * been read from it. The transport closes the socket when this returns and when it closes itself.
     */
    void serve(Connection connection, DataInputStream in) throws IOException;
}

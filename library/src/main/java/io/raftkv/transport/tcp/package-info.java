/**
 * Raft between processes and hosts: {@link io.raftkv.transport.tcp.TcpTransport} sends each peer its
 * messages over one outgoing TCP connection, on virtual threads, never blocking the node. Every frame on
 * the wire travels in one envelope ({@link io.raftkv.transport.tcp.FrameEnvelope}: length, version, type,
 * body and a CRC32C), and {@link io.raftkv.transport.tcp.FrameCodec} encodes Raft messages into it and
 * decodes them back, refusing anything that is not exactly such a frame with a
 * {@link io.raftkv.transport.tcp.FrameException}. A connection opens with a handshake that names the
 * cluster, so that nodes of another cluster are refused, and a node's port can serve another protocol
 * beside its peers' ({@link io.raftkv.transport.tcp.InboundProtocol}), such as the key-value clients'.
 * The module {@code io.raftkv} does not export this package: the wire format may change, and socket
 * mode's API is {@code io.raftkv.kv.net}.
 */
package io.raftkv.transport.tcp;

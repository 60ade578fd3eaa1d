/**
 * Socket mode's server side and client protocol, not exported: {@link io.raftkv.kv.net.internal.KvSocketServer}
 * serves a node's clients on the port its peers use, and {@link io.raftkv.kv.net.internal.ClientFrames}
 * encodes and decodes the client protocol's frames. Applications use {@code io.raftkv.kv.net}'s
 * {@code SocketNode} and {@code TcpKvConnector}, which are built on these.
 */
package io.raftkv.kv.net.internal;

/**
 * The key-value store over TCP, one node per process or host ("socket mode"):
 * {@link io.raftkv.kv.net.SocketNode} runs a node with its log on disk, its peers over
 * TCP ({@code io.raftkv.transport.tcp}, not exported) and its clients served on the same port
 * (by {@code io.raftkv.kv.net.internal}, not exported); {@link io.raftkv.kv.net.TcpKvConnector} is what
 * a {@link io.raftkv.kv.KvClient} in another process uses to reach such nodes, and what asks the leader
 * for membership changes ({@link io.raftkv.kv.net.MembershipOp}). The client protocol travels in the same
 * CRC-checked frame envelope as the peers' Raft messages; requests may be pipelined, and a node bounds
 * what one connection may leave unanswered.
 */
package io.raftkv.kv.net;

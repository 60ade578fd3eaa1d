/**
 * The replicated key-value store: {@link io.raftkv.kv.KvStateMachine}, a map of strings with GET, PUT,
 * REPLACE (a put only where the key exists), DELETE and CAS (a put only where the key holds the expected
 * value, or is absent), and the client sessions that make a retried write apply at most once;
 * {@link io.raftkv.kv.KvService}, which serves a node's clients (writes through the log, reads confirmed by
 * the leader, on the leader or a follower); and {@link io.raftkv.kv.KvClient}, which finds the leader, follows redirects, retries within
 * a deadline and reports what it could not confirm as one of the exceptions of
 * {@link io.raftkv.client}. A client reaches the nodes through a {@link io.raftkv.kv.KvConnector}: in
 * memory within one JVM, or over TCP ({@link io.raftkv.kv.net}).
 */
package io.raftkv.kv;

/**
 * Your own replicated state machine. Implement {@link io.raftkv.app.Application} (commands change its
 * state, queries read it, both answer), and name it to a cluster and its clients in an
 * {@link io.raftkv.app.AppSpec}, with a {@link io.raftkv.app.Codec} for its commands, queries and answers.
 * A node runs it inside a {@link io.raftkv.app.SessionMachine}, which keeps each client's session beside
 * the application's state, so that a command a client retries is applied once and the retry gets the first
 * answer; an {@link io.raftkv.app.AppClient} applies commands and runs linearizable queries, with the same
 * leader-finding, retries, deadlines and exceptions as the key-value store's client. The same sessions,
 * snapshots and faults apply as to the key-value store.
 */
package io.raftkv.app;

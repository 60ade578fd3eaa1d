/**
 * The {@code raftkv} command line ({@link io.raftkv.cli.RaftkvCommand}, on picocli):
 * {@code raftkv cluster} starts a cluster in this JVM and opens a shell on it to write, read and inject
 * faults; {@code raftkv node} runs one node of a cluster in socket mode, one per process or host;
 * {@code raftkv client} sends such a cluster one request, membership changes included; {@code raftkv bench}
 * runs the open-loop latency harness of {@link io.raftkv.bench}. {@link io.raftkv.cli.Demo} is the
 * short demonstration the README starts with.
 */
package io.raftkv.cli;

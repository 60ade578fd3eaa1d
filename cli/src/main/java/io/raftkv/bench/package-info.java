/**
 * The open-loop latency harness behind {@code raftkv bench}: {@link io.raftkv.bench.LatencyHarness}
 * drives a {@link io.raftkv.bench.CommitTarget} (an embedded raftkv cluster, or one in socket mode) at
 * each of a list of fixed rates, times every write from the moment it was due to be sent rather than from
 * when it was sent (so a stalled system's queueing counts against it), and writes an HdrHistogram file per
 * rate, a JSON summary and a percentile plot. {@link io.raftkv.bench.HarnessArgs} holds the options,
 * shared by the command and {@link io.raftkv.bench.LatencyHarnessMain}.
 */
package io.raftkv.bench;

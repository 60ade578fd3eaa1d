#!/usr/bin/env bash
# Socket mode's benchmark campaign: raftkv over TCP beside SOFAJRaft 1.4.1 (three nodes in one JVM over
# loopback with its own RPC, log sync off: bench-results/README.md, "SOFAJRaft as a peer"), in fresh JVMs,
# interleaved, closed loops of 128 B puts, each window measured after a warm-up. The raftkv settings:
#   raftkv-tcp             Cluster over TCP in one JVM, virtual threads (the Cluster default)
#   raftkv-tcp-platform    the same on platform threads: each node's thread serves its own connections
#   raftkv-procs-platform  three `raftkv node` processes (their default, platform threads), this JVM the client
#   raftkv-procs           the same with `raftkv node --threads virtual`
# Then the open-loop harness against the three processes at 10K, 30K and 100K writes/s.
# Writes bench-results/<date>-socket-mode/: machine.txt, vmstat.txt, summary.txt (one line per JVM run),
# an .hlog and a per-second file per setting, plot-*.svg and the open-loop results.
#
#   bench/socket-mode.sh                                        # about 40 minutes on 2 cores
#   RUNS=1 SECONDS_MEASURED=20 WARMUP=5 bench/socket-mode.sh    # a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-2}
seconds=${SECONDS_MEASURED:-60}
warmup=${WARMUP:-10}
systems=${SYSTEMS:-raftkv-tcp raftkv-tcp-platform jraft raftkv-procs-platform raftkv-procs}
out=${OUT:-bench-results/$(date -u +%Y-%m-%d)-socket-mode}
mkdir -p "$out"
./mvn21 -q package -Pbenchmarks -DskipTests
java="$(./jdk21)/bin/java"
bench/machine.sh "$java" > "$out/machine.txt"
cat "$out/machine.txt"
vmstat 5 > "$out/vmstat.txt" &
vmstat_pid=$!
trap 'kill $vmstat_pid 2>/dev/null || true' EXIT

closed() { # system clients dir
  "$java" -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench "$1" 3 "$2" 128 "$warmup" "$seconds" "$out/$3" \
    | grep -v '^SLF4J' | tee -a "$out/summary.txt"
}

for c in 1 64; do
  echo "== $c client(s), 3 nodes: $runs JVMs each, interleaved" | tee -a "$out/summary.txt"
  for i in $(seq "$runs"); do for s in $systems; do closed "$s" "$c" "$c-clients"; done; done
  "$java" -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench plot "$out/$c-clients" \
    "commit latency over TCP, $c client(s), 128 B values"
done

echo "== open loop against 3 node processes: 64 clients at 10,000, 30,000 and 100,000 writes/s" | tee -a "$out/summary.txt"
bench/loopback-processes.sh "$out/open-loop" 2>&1 | tail -20 | tee -a "$out/summary.txt"

#!/usr/bin/env bash
# Read figures: linearizable reads (KvClient.get) at 1 and 64 clients, for each of raftkv's read
# policies (READ_INDEX, LEASE) and places to read (the leader; ANY node in turn), 3 nodes in one JVM
# beside MicroRaft 0.7's LINEARIZABLE and LEADER_LEASE queries, and 3 raftkv node processes over
# loopback. Fresh JVMs, interleaved, no JVM flags, 128-byte values, every key written once first.
# Writes bench-results/<date>-reads/: machine.txt, vmstat.txt, summary.txt (one line per JVM run) and
# an .hlog per setting.
#
#   bench/reads.sh                              # about 20 minutes on 2 cores
#   RUNS=1 SECONDS_MEASURED=5 WARMUP=3 bench/reads.sh   # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-2}
seconds=${SECONDS_MEASURED:-15}
warmup=${WARMUP:-5}
out=${OUT:-bench-results/$(date -u +%Y-%m-%d)-reads}
mkdir -p "$out"
[ -n "${SKIP_BUILD:-}" ] || ./mvn21 -q package -Pbenchmarks -DskipTests -Dmaven.javadoc.skip=true
java="$(./jdk21)/bin/java"
bench/machine.sh "$java" > "$out/machine.txt"
vmstat 5 > "$out/vmstat.txt" &
vmstat_pid=$!
trap 'kill $vmstat_pid 2>/dev/null || true' EXIT

read_run() { # label system clients -D...
  local label=$1 system=$2 clients=$3; shift 3
  printf '%-28s ' "$label" | tee -a "$out/summary.txt"
  "$java" -Dbench.op=get "$@" -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench "$system" 3 "$clients" 128 \
    "$warmup" "$seconds" "$out/$label-${clients}c" | grep -v '^SLF4J' | tee -a "$out/summary.txt"
}

for clients in 1 64; do
  echo "== one JVM, $clients client(s): $runs JVMs each, interleaved" | tee -a "$out/summary.txt"
  for i in $(seq "$runs"); do
    read_run raftkv-readindex-leader raftkv "$clients" -Dbench.readPolicy=READ_INDEX -Dbench.readFrom=LEADER
    read_run raftkv-lease-leader     raftkv "$clients" -Dbench.readPolicy=LEASE -Dbench.readFrom=LEADER
    read_run raftkv-readindex-any    raftkv "$clients" -Dbench.readPolicy=READ_INDEX -Dbench.readFrom=ANY
    read_run raftkv-lease-any        raftkv "$clients" -Dbench.readPolicy=LEASE -Dbench.readFrom=ANY
    read_run microraft-linearizable  microraft "$clients" -Dbench.query=LINEARIZABLE
    read_run microraft-leader-lease  microraft "$clients" -Dbench.query=LEADER_LEASE
  done
done
for clients in 1 64; do
  echo "== 3 node processes over loopback, $clients client(s): 1 JVM each" | tee -a "$out/summary.txt"
  read_run procs-readindex-leader raftkv-procs "$clients" -Dbench.readFrom=LEADER
  read_run procs-lease-leader     raftkv-procs "$clients" -Dbench.readFrom=LEADER "-Dbench.nodeArgs=--reads lease"
  read_run procs-readindex-any    raftkv-procs "$clients" -Dbench.readFrom=ANY
  read_run procs-lease-any        raftkv-procs "$clients" -Dbench.readFrom=ANY "-Dbench.nodeArgs=--reads lease"
done

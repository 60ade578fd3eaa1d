#!/usr/bin/env bash
# What TLS costs a commit, and what the connection layer under it costs in clear: closed loops of 1 and
# 64 clients against a Cluster over TCP on platform threads (the way raftkv node runs by default), in
# clear and under mutual TLS (the tests' certificates), and in clear with an older build's benchmarks
# jar (OLD_JAR, optional) for a before/after in the same sitting. 3 nodes, 128-byte values, fresh JVMs,
# interleaved, no JVM flags. Writes bench-results/<date>-tls/: machine.txt, summary.txt (one line per
# JVM run) and an .hlog per run.
#
#   bench/tls.sh                                   # about 6 minutes on 2 cores
#   OLD_JAR=/path/to/old/target/benchmarks.jar bench/tls.sh
#   RUNS=1 SECONDS_MEASURED=5 WARMUP=3 bench/tls.sh   # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-2}
seconds=${SECONDS_MEASURED:-20}
warmup=${WARMUP:-5}
out=${OUT:-bench-results/$(date -u +%Y-%m-%d)-tls}
mkdir -p "$out/new" "$out/tls"
[ -z "${OLD_JAR:-}" ] || mkdir -p "$out/old"
[ -n "${SKIP_BUILD:-}" ] || ./mvn21 -q package -Pbenchmarks -DskipTests -Dmaven.javadoc.skip=true
java="$(./jdk21)/bin/java"
bench/machine.sh "$java" > "$out/machine.txt"

run() { # jar system clients dir label
  "$java" -cp "$1" io.raftkv.bench.ClosedLoopBench "$2" 3 "$3" 128 "$warmup" "$seconds" "$out/$4" "$5" 2>&1 \
    | grep -v '^SLF4J' | tail -1 | tee -a "$out/summary.txt"
}

for round in $(seq 1 "$runs"); do
  for clients in 1 64; do
    [ -z "${OLD_JAR:-}" ] || run "$OLD_JAR" raftkv-tcp-platform "$clients" old "old-r$round"
    run target/benchmarks.jar raftkv-tcp-platform "$clients" new "new-r$round"
    run target/benchmarks.jar raftkv-tls-platform "$clients" tls "tls-r$round"
  done
done

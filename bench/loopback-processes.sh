#!/usr/bin/env bash
# Commit latency of a cluster of 3 raftkv node processes on loopback TCP, no fsync (DESIGN's target:
# p50 at most 100 us), measured by the open-loop harness (raftkv bench --peers) in a fourth process.
# Writes bench-results/<date>-loopback/ with the machine it ran on. About 2 minutes.
#   bench/loopback-processes.sh [OUT_DIR]        (NODE_ARGS="--snapshot-every 64m" adds raftkv node options)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-results/$(date -u +%Y-%m-%d)-loopback}"
mkdir -p "$out"

./mvn21 -q package -DskipTests
# The JDK ./mvn21 builds with (./jdk21 picks it), so the nodes and the harness run on what the build used.
java="$(./jdk21)/bin/java"
"$java" -version 2>&1 | head -1

{
  bench/machine.sh "$java"
  echo "setup: 3 node processes (raftkv node --no-fsync, -Xmx1g) + 1 harness process, all on 127.0.0.1"
} > "$out/machine.txt"
cat "$out/machine.txt"

base=${RAFTKV_BENCH_PORT:-17301}
peers="1=127.0.0.1:$base,2=127.0.0.1:$((base + 1)),3=127.0.0.1:$((base + 2))"
data=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for id in 1 2 3; do
  "$java" -Xmx1g -jar target/raftkv.jar node --id "$id" --peers "$peers" --data "$data/$id" --no-fsync ${NODE_ARGS:-} \
    > "$out/node-$id.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 100); do
  if "$java" -jar target/raftkv.jar client --peers "$peers" --timeout-ms 500 put bench-ready yes >/dev/null 2>&1; then break; fi
done
"$java" -jar target/raftkv.jar client --peers "$peers" status | tee "$out/status-before.txt"

# One client: each write's latency is its commit latency (a write every 5 ms, well apart, so none queues).
"$java" -Xmx1g -jar target/raftkv.jar bench --peers "$peers" --rates 200 --duration 20s --warmup 5s \
  --clients 1 --value-bytes 128 --out "$out/one-client" | tee "$out/one-client.txt"
# 64 clients, rising rates: where queueing starts.
"$java" -Xmx1g -jar target/raftkv.jar bench --peers "$peers" --rates 10000,30000,100000 --duration 10s --warmup 3s \
  --clients 64 --value-bytes 128 --out "$out/64-clients" | tee "$out/64-clients.txt"
"$java" -jar target/raftkv.jar client --peers "$peers" status | tee "$out/status-after.txt"

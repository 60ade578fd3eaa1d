#!/usr/bin/env bash
# The commit path's benchmark campaign: raftkv beside MicroRaft 0.7, in fresh JVMs, interleaved, no JVM
# flags, each window measured after a warm-up. Writes bench-results/<date>-commit-path/: machine.txt,
# vmstat.txt (steal time: the machine is shared), summary.txt (one line per JVM run), an .hlog and a
# per-second file per setting, plot-*.svg, the open-loop harness's results, JMH's allocation and floors,
# and a JFR recording per client count with its stage table (io.raftkv.bench.StageTable; the recordings
# themselves, hundreds of MB, are left out of git).
#
#   bench/commit-path.sh            # everything, about 50 minutes on 2 cores
#   RUNS=2 SECONDS_MEASURED=20 WARMUP=5 SOAK=60 bench/commit-path.sh   # a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
seconds=${SECONDS_MEASURED:-60}
warmup=${WARMUP:-10}
soak=${SOAK:-600}
out=${OUT:-bench-results/$(date -u +%Y-%m-%d)-commit-path}
mkdir -p "$out"
./mvn21 -q package -Pbenchmarks -DskipTests
java="$(./jdk21)/bin/java"
bench/machine.sh "$java" > "$out/machine.txt"
cat "$out/machine.txt"
vmstat 5 > "$out/vmstat.txt" &
vmstat_pid=$!
trap 'kill $vmstat_pid 2>/dev/null || true' EXIT

closed() { # system nodes clients dir
  "$java" -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench "$1" "$2" "$3" 128 "$warmup" "$seconds" "$out/$4" \
    | grep -v '^SLF4J' | tee -a "$out/summary.txt"
}

# 30 s of warm-up first: what an idle cluster costs once the JIT has finished with it.
echo "== idle: 3 nodes, no clients, 30 s after 30 s" | tee -a "$out/summary.txt"
"$java" -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench raftkv 3 0 128 30 30 "$out/idle" | tee -a "$out/summary.txt"

echo "== 64 clients, 3 nodes: $runs JVMs each, interleaved" | tee -a "$out/summary.txt"
for i in $(seq "$runs"); do for s in raftkv microraft; do closed "$s" 3 64 64-clients; done; done
echo "== 1 client (a platform thread), 3 nodes: $runs JVMs each, interleaved" | tee -a "$out/summary.txt"
for i in $(seq "$runs"); do for s in raftkv microraft; do closed "$s" 3 1 1-client; done; done
echo "== 64 clients, 5 nodes: 2 JVMs each, interleaved" | tee -a "$out/summary.txt"
for i in 1 2; do for s in raftkv microraft; do closed "$s" 5 64 5-nodes; done; done
for d in 64-clients 1-client 5-nodes; do
  "$java" -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench plot "$out/$d" "commit latency, $d, 128 B values"
done

echo "== open loop, 64 clients, 100,000 and 300,000 writes/s" | tee -a "$out/summary.txt"
"$java" -cp target/benchmarks.jar io.raftkv.bench.LatencyHarnessMain --nodes 3 --rates 100000,300000 \
  --duration 30s --warmup 5s --clients 64 --value-bytes 128 --out "$out/open-loop" | tee -a "$out/summary.txt"

echo "== JMH: allocation per commit (-prof gc), 1 and 64 clients" | tee -a "$out/summary.txt"
"$java" -jar target/benchmarks.jar CommitThroughputBenchmark -p clients=1,64 -p system=raftkv,microraft -wi 2 -i 3 \
  -prof gc -rf json -rff "$out/jmh-alloc.json" | tee "$out/jmh-alloc.txt" | grep -E '^CommitThroughput.*(:puts|alloc.rate )' || true
echo "== JMH: floors (hand-off between virtual threads; encoding and applying a put)" | tee -a "$out/summary.txt"
"$java" -jar target/benchmarks.jar "HandoffBenchmark|CommandCodecBenchmark" -p valueBytes=128 -wi 2 -i 3 \
  -prof gc -rf json -rff "$out/jmh-floors.json" | tee "$out/jmh-floors.txt" | grep -E '^(Handoff|CommandCodec)' || true

echo "== stages: JFR io.raftkv.NodePass at 1 and 64 clients, 20 s" | tee -a "$out/summary.txt"
"$(./jdk21)/bin/jfr" configure --input default +io.raftkv.NodePass#enabled=true --output "$out/stages.jfc" >/dev/null
for c in 1 64; do
  "$java" -XX:StartFlightRecording=filename="$out/stages-$c.jfr",settings="$out/stages.jfc" \
    -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench raftkv 3 "$c" 128 5 20 "$out/stages" | tee -a "$out/summary.txt"
  "$java" -cp target/benchmarks.jar io.raftkv.bench.StageTable "$out/stages-$c.jfr" 6 > "$out/stages-$c.md"
  cat "$out/stages-$c.md"
done

echo "== soak: 64 clients, 3 nodes, $soak s" | tee -a "$out/summary.txt"
"$java" -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench raftkv 3 64 128 "$warmup" "$soak" "$out/soak" \
  | tee -a "$out/summary.txt"

#!/usr/bin/env bash
# The full benchmark run behind bench-results/: the JMH matrix (raftkv and MicroRaft in the same
# run, with -prof gc) and the open-loop harness. Writes into bench-results/<date>-full/ with the
# machine it ran on. Run it on an otherwise idle machine; about 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out="bench-results/$(date -u +%Y-%m-%d)-full"
mkdir -p "$out"
bench/machine.sh > "$out/machine.txt"
cat "$out/machine.txt"

./mvn21 -q -pl benchmarks -am test-compile exec:exec@jmh \
  -Djmh.args="(CommitLatency|CommitThroughput|ReadLatency|Handoff|LogAppend|CommandCodec|CoreCommit)Benchmark -prof gc -rf json -rff $PWD/$out/jmh.json" \
  | tee "$out/jmh.txt"
./mvn21 -q -pl cli -am compile exec:exec@harness \
  -Dharness.args="--nodes 3 --rates 1000,10000,30000,100000 --duration 5s --warmup 2s --clients 64 --value-bytes 128 --out $PWD/$out/harness" \
  | tee "$out/harness.txt"

#!/usr/bin/env bash
# What the log cache does for node processes: three `raftkv node --no-fsync` processes (platform threads, file
# storage) and 64 closed-loop clients from the benchmark's JVM, 128-byte values, with the log cache at its default
# (--log-cache 4m) and off in effect (--log-cache 1g: nothing applied leaves the heap until a snapshot compacts
# it, as before the cache), at the default --snapshot-every 8m and at 64m (a large state's interval: the policy
# waits for as much log as the last snapshot's size). Fresh JVMs, all four settings interleaved in each round,
# no JVM flags but a GC log per node process (-Xlog:gc, through JAVA_TOOL_OPTIONS) from which the longest
# young pause and the bytes each collection kept are summed up. Writes bench-results/<date>-log-cache/.
#
#   bench/log-cache.sh                                  # about 6 minutes on 2 cores
#   RUNS=1 SECONDS_MEASURED=5 WARMUP=3 bench/log-cache.sh   # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-2}
seconds=${SECONDS_MEASURED:-30}
warmup=${WARMUP:-5}
out=${OUT:-bench-results/$(date -u +%Y-%m-%d)-log-cache}
mkdir -p "$out/runs" "$out/gc"
[ -n "${SKIP_BUILD:-}" ] || ./mvn21 -q package -Pbenchmarks -DskipTests -Dmaven.javadoc.skip=true
java="$(./jdk21)/bin/java"
bench/machine.sh "$java" > "$out/machine.txt"

run() { # snapshot-every log-cache label
  local gcdir="$out/gc/$3"
  mkdir -p "$gcdir"
  JAVA_TOOL_OPTIONS="-Xlog:gc:file=$gcdir/gc-%p.log" \
    "$java" -Dbench.nodeArgs="--snapshot-every $1 --log-cache $2" -cp target/benchmarks.jar \
    io.raftkv.bench.ClosedLoopBench raftkv-procs-platform 3 64 128 "$warmup" "$seconds" "$out/runs" "$3" 2>&1 \
    | grep -v '^SLF4J\|^Picked up JAVA_TOOL_OPTIONS' | tail -1 | tee -a "$out/summary.txt"
  # The node processes' young pauses after the warm-up (the benchmark's own JVM writes the largest log: it runs
  # longest).
  local nodes
  nodes=$(ls -S "$gcdir"/gc-*.log | tail -n +2)
  # shellcheck disable=SC2086
  awk -v from="$((warmup + 2))" '/Pause Young/ { t = $1; gsub(/[][s]/, "", t); if (t + 0 < from) next; n++; ms = $NF; sub("ms", "", ms); if (ms + 0 > max) max = ms + 0; sum += ms;
         split($(NF-1), a, "->"); kept = a[2]; sub("M.*", "", kept); k += kept }
       END { printf "  node processes: %d young pauses, longest %.1f ms, mean %.1f ms, heap after each %.1f MB on average\n",
             n, max, (n ? sum / n : 0), (n ? k / n : 0) }' $nodes | tee -a "$out/summary.txt"
}

for round in $(seq 1 "$runs"); do
  for every in 8m 64m; do
    run "$every" 4m "every-$every-cache-4m-r$round"
    run "$every" 1g "every-$every-cache-1g-r$round"
  done
done

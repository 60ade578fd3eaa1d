#!/usr/bin/env bash
# A real rolling upgrade from an older build onto this one: three `raftkv node` processes on loopback start
# on the jar of an older revision (built once in a git worktree, then kept by revision), recording clients
# (io.raftkv.lincheck.RemoteHistoryCheck, GET, PUT and REPLACE: what a cluster at feature level 1 serves)
# write and read a few keys, and the nodes are restarted one at a time onto this tree's jar, each with the
# same --data and flags, the next only once the last has caught up. In the middle, leadership is handed to
# an upgraded node and a DELETE must be refused with the feature-level error (exit status 4); after the
# last restart a node must log that the cluster's feature level rose to 2, and the DELETE must work. At the
# end the history is checked for linearizability, the nodes are stopped with SIGTERM, and a summary says
# what happened (the longest time without an acknowledged write included). Everything it starts is
# stopped on exit, failure included.
#
# Needs git, a JDK 21+ and Maven (./mvn21). Run `scripts/rolling-upgrade.sh --help` for the options.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/rolling-upgrade.sh [--from REV] [--seconds S] [--clients N] [--seed S] [--out DIR] [--build]
                                  [--require]
  --from REV     the older build's git revision (default 604a09e, the last build before the cluster's
                 feature level: its peer handshake is version 1 only). Built once with
                 ./mvn21 -q -pl cli -am package in a git worktree under target/rolling-upgrade/, and
                 its jar kept there by revision (builds/<commit>.jar) for the next run. If the default
                 revision is not in this clone's history (a shallow clone), the run is skipped with one
                 line saying so (exit 0; 4 with --require); a --from given that names no commit is bad usage
  --seconds S    how long the clients run (default 45); the upgrade must be over before they stop
  --clients N    concurrent recording clients (default 4)
  --seed S       seeds the clients (default: from the clock); printed either way. Thread, process and
                 network timing still differ from run to run.
  --out DIR      node logs, their data, the history (default target/rolling-upgrade/SEED)
  --build        rebuild target/raftkv.jar and the test classes even if they look up to date (the older
                 build's kept jar is used either way; delete it to build it again)
  --require      exit 4 instead of 0 when the run has to be skipped (the default revision is missing)
exit status: 0 the cluster served throughout, refused and then served the DELETE as it should, its level
             rose, and the history is linearizable (or skipped); 1 it did not, or a step failed; 2 bad
             usage; 4 skipped with --require
Environment: JAVA (a java binary, 21+) or JAVA_HOME; NODE_JAVA_OPTS for the node JVMs.
EOF
}

cd "$(dirname "$0")/.."
ROOT=$(pwd)
FROM=604a09e FROM_GIVEN=0 SECONDS_RUN=45 CLIENTS=4 SEED="" OUT="" BUILD=0 REQUIRE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --from|--seconds|--clients|--seed|--out)
      [ $# -ge 2 ] || { echo "rolling-upgrade: $1 needs a value" >&2; usage >&2; exit 2; }
      case "$1" in
        --from) FROM=$2; FROM_GIVEN=1 ;; --seconds) SECONDS_RUN=$2 ;; --clients) CLIENTS=$2 ;; --seed) SEED=$2 ;; --out) OUT=$2 ;;
      esac
      shift 2 ;;
    --build) BUILD=1; shift ;;
    --require) REQUIRE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "rolling-upgrade: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$SECONDS_RUN" =~ ^[0-9]+$ ]] && [ "$SECONDS_RUN" -ge 20 ] && [ "$SECONDS_RUN" -le 3600 ] \
  || { echo "rolling-upgrade: --seconds must be a whole number from 20 to 3600, was '$SECONDS_RUN'" >&2; exit 2; }
[[ "$CLIENTS" =~ ^[0-9]+$ ]] && [ "$CLIENTS" -ge 1 ] && [ "$CLIENTS" -le 64 ] \
  || { echo "rolling-upgrade: --clients must be a whole number from 1 to 64, was '$CLIENTS'" >&2; exit 2; }
[ -z "$SEED" ] || [[ "$SEED" =~ ^[0-9]{1,18}$ ]] \
  || { echo "rolling-upgrade: --seed must be a whole number (up to 18 digits), was '$SEED'" >&2; exit 2; }
command -v git >/dev/null 2>&1 || { echo "rolling-upgrade: FAILED: no 'git' on the PATH" >&2; exit 1; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "rolling-upgrade: FAILED: $ROOT is not a git checkout" >&2; exit 1; }
if ! FROM_COMMIT=$(git rev-parse --verify -q "$FROM^{commit}" 2>/dev/null); then
  if [ "$FROM_GIVEN" = 0 ]; then
    echo "rolling-upgrade: SKIPPED: the older build's revision $FROM is not in this clone's history" \
         "(a shallow clone? git fetch --unshallow)"
    [ "$REQUIRE" = 1 ] && exit 4
    exit 0
  fi
  echo "rolling-upgrade: --from: '$FROM' names no commit here (a shallow clone may lack it: git fetch --unshallow)" >&2
  exit 2
fi
FROM_SHORT=$(git rev-parse --short "$FROM_COMMIT")
HEAD_SHORT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo "+changes")

# --- a JDK 21+ (as ./mvn21 finds one) -------------------------------------------------------------
. "$ROOT/scripts/lib/find-java.sh"
JAVA_BIN=$(find_java)
[ -n "$JAVA_BIN" ] || { echo "rolling-upgrade: FAILED: no JDK 21 or newer found (JAVA, JAVA_HOME, /usr/lib/jvm, PATH)" >&2; exit 1; }

WORK=$ROOT/target/rolling-upgrade
JAR=$ROOT/target/raftkv.jar
TEST_CLASSES=$ROOT/library/target/test-classes
CHECK_CLASS=$TEST_CLASSES/io/raftkv/lincheck/RemoteHistoryCheck.class
OLD_JAR=$WORK/builds/$FROM_COMMIT.jar
WORKTREE="" # set while this run has a worktree of its own to remove
NODES=(1 2 3)
NODE_PIDS=(0 0 0 0) # by id; 0: not running
BUILD_OF=(- - - -)  # by id: old or new
HIST_PID=""
DATA=""
OK=0
NAME=rolling-upgrade
START=$(date +%s%N)
. "$ROOT/scripts/lib/process-cluster.sh"
fail() { echo "rolling-upgrade: [$(elapsed)] FAILED: $*" >&2; exit 1; }

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  [ -z "$HIST_PID" ] || kill -9 "$HIST_PID" 2>/dev/null || true
  for pid in "${NODE_PIDS[@]}"; do [ "$pid" = 0 ] || kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}" $HIST_PID; do [ "$pid" = 0 ] || wait "$pid" 2>/dev/null || true; done
  if [ -n "$WORKTREE" ]; then
    git worktree remove --force "$WORKTREE" >/dev/null 2>&1 || rm -rf "$WORKTREE"
    git worktree prune 2>/dev/null || true
  fi
  # The nodes' data is kept for a failed run, next to their logs.
  if [ "$OK" = 1 ] && [ -n "$DATA" ]; then rm -rf "$DATA"; fi
  if [ "$rc" != 0 ] && [ -n "$DATA" ]; then echo "rolling-upgrade: the node logs, their data and the history are in $OUT" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "rolling-upgrade: interrupted" >&2; exit 130' INT
trap 'echo "rolling-upgrade: terminated" >&2; exit 143' TERM

# --- the builds -----------------------------------------------------------------------------------
build_current() { # target/raftkv.jar and the test classes, unless each is newer than its sources
  # (a build rewrites the jar only when what is in it changed: test sources do not count for it)
  if [ "$BUILD" = 0 ] && [ -f "$JAR" ] && [ -f "$CHECK_CLASS" ] \
      && [ -z "$(find ./*/src/main ./*/pom.xml pom.xml -newer "$JAR" -print -quit)" ] \
      && [ -z "$(find ./*/src ./*/pom.xml pom.xml -newer "$CHECK_CLASS" -print -quit)" ]; then
    return
  fi
  say "building target/raftkv.jar and the test classes (./mvn21 -q -B -pl cli -am package -DskipTests)"
  ./mvn21 -q -B -pl cli -am package -DskipTests || fail "the build of this tree failed"
}
build_old() { # the older revision's jar, once: kept in $WORK/builds by commit
  [ -f "$OLD_JAR" ] && return
  mkdir -p "$WORK/builds"
  if command -v flock >/dev/null 2>&1; then # another run may be building it in the same worktree
    exec 8>"$WORK/builds/.lock"
    flock -w 600 8 || fail "another run held $WORK/builds/.lock for 600 s"
    [ -f "$OLD_JAR" ] && { exec 8>&-; return; }
  fi
  local log=$WORK/builds/$FROM_COMMIT.build.log
  WORKTREE=$WORK/worktree-$FROM_COMMIT
  git worktree remove --force "$WORKTREE" >/dev/null 2>&1 || rm -rf "$WORKTREE" # left by a run killed outright
  git worktree prune
  say "building $FROM_SHORT's jar in a worktree ($WORKTREE; ./mvn21 -q -pl cli -am package -DskipTests; log $log)"
  git worktree add -q --detach "$WORKTREE" "$FROM_COMMIT" >"$log" 2>&1 || { cat "$log" >&2; fail "git worktree add failed"; }
  if ! (cd "$WORKTREE" && ./mvn21 -q -B -pl cli -am package -DskipTests -Dmaven.javadoc.skip=true) >>"$log" 2>&1; then
    tail -30 "$log" >&2
    fail "the build of $FROM_SHORT failed (above; all of it in $log)"
  fi
  [ -f "$WORKTREE/target/raftkv.jar" ] || fail "the build of $FROM_SHORT made no target/raftkv.jar"
  cp "$WORKTREE/target/raftkv.jar" "$OLD_JAR.tmp" && mv "$OLD_JAR.tmp" "$OLD_JAR"
  git worktree remove --force "$WORKTREE" >/dev/null 2>&1 || rm -rf "$WORKTREE"
  git worktree prune
  WORKTREE=""
  exec 8>&- # the lock, which the nodes must not hold
}
build_current
build_old

# --- the nodes, on loopback -----------------------------------------------------------------------
[ -n "$SEED" ] || SEED=$(( $(date +%s%N) % 1000000000000 ))
OUT=${OUT:-$WORK/$SEED}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/data" "$OUT"/node-*.log "$OUT/history.json" "$OUT/history.log" "$OUT/steps.log"
DATA=$OUT/data

port_free() { # nothing listens on 127.0.0.1:$1
  if command -v ss >/dev/null 2>&1; then
    [ -z "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
PORTS=()
while [ ${#PORTS[@]} -lt ${#NODES[@]} ]; do
  p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
  port_free "$p" && [[ " ${PORTS[*]} " != *" $p "* ]] && PORTS+=("$p")
done
PEERS=$(for i in "${NODES[@]}"; do printf '%s=127.0.0.1:%s,' "$i" "${PORTS[$((i - 1))]}"; done); PEERS=${PEERS%,}
CLUSTER_ID=rolling-upgrade-$$ # its own per run: a client left over from a run killed outright is refused

start_node() { # start_node ID old|new: the same command line either way, on the build's jar
  local id=$1 jar
  if [ "$2" = old ]; then jar=$OLD_JAR; else jar=$JAR; fi
  echo "[$(elapsed)] === node $id starts on the $2 build ($([ "$2" = old ] && echo "$FROM_SHORT" || echo "$HEAD_SHORT"), $jar)" >>"$OUT/node-$id.log"
  # shellcheck disable=SC2086 # NODE_JAVA_OPTS is a list of flags
  "$JAVA_BIN" ${NODE_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC} -jar "$jar" node --id "$id" --peers "$PEERS" \
    --data "$DATA/node-$id" --no-fsync --cluster-id "$CLUSTER_ID" --snapshot-every 16k \
    > >(stamp >>"$OUT/node-$id.log") 2>&1 &
  NODE_PIDS[id]=$!
  BUILD_OF[id]=$2
}
client() { # the new build's command line client, quick to start
  "$JAVA_BIN" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$JAR" client --peers "$PEERS" --cluster-id "$CLUSTER_ID" "$@"
}
status() { client --timeout-ms "${1:-300}" status 2>/dev/null || true; }
# From one status table: "LEADER COMMIT" of the leader with the highest term, or nothing.
leader_commit() { awk '$2 == "yes" && $3 == "leader" {print $4, $1, $7}' | sort -n | tail -1 | awk '{print $2, $3}'; }
leader() { status | leader_commit | awk '{print $1}'; }
nodes_alive() { # fails, naming the node and showing its log, if a node process that should run has ended
  local id
  for id in "${NODES[@]}"; do
    [ "${NODE_PIDS[id]}" = 0 ] && continue
    if ! kill -0 "${NODE_PIDS[id]}" 2>/dev/null; then
      echo "rolling-upgrade: FAILED: node $id (${BUILD_OF[id]} build) exited; the end of its log ($OUT/node-$id.log):" >&2
      tail -20 "$OUT/node-$id.log" >&2
      return 1
    fi
  done
}
clients_running() { [ -n "$HIST_PID" ] && kill -0 "$HIST_PID" 2>/dev/null; }

mkdir -p "$DATA"
say "seed $SEED; upgrading from $FROM_SHORT to $HEAD_SHORT; nodes $PEERS; logs in $OUT"
say "java: $JAVA_BIN ($(java_version "$JAVA_BIN")); older jar $OLD_JAR"
for i in "${NODES[@]}"; do start_node "$i" old; done
await_leader
say "node $L leads; every node runs $FROM_SHORT"

# --- the clients ----------------------------------------------------------------------------------
# GET, PUT and REPLACE only: a leader of the new build refuses DELETE and CAS until the level rises, and a
# refusal after an attempt that timed out elsewhere could not be recorded as "not applied".
"$JAVA_BIN" -cp "$TEST_CLASSES:$JAR" io.raftkv.lincheck.RemoteHistoryCheck --peers "$PEERS" --cluster-id "$CLUSTER_ID" \
  --seconds "$SECONDS_RUN" --clients "$CLIENTS" --seed "$SEED" --feature-level 1 --history "$OUT/history.json" \
  >"$OUT/history.log" 2>&1 &
HIST_PID=$!
await_history_start
CLIENTS_T0=$(date +%s%N)
clients_at() { local t=$(( ($(date +%s%N) - CLIENTS_T0) / 1000000 )); printf '%d.%03d s' $((t / 1000)) $((t % 1000)); }
step() { say "$* (clients at $(clients_at))" | tee -a "$OUT/steps.log"; }
step "clients running for $SECONDS_RUN s: GET, PUT and REPLACE on k0..k3"
sleep 3 # the clients write on the old cluster first

# Two keys the clients do not use, for the DELETEs below.
for k in probe-old-leader probe-refused; do
  out=$(client --timeout-ms 5000 put "$k" x 2>&1) || fail "put $k: $out"
done

caught_up() { # caught_up ID: its applied index reached the leader's commit index of an earlier status
  local id=$1 target="" by=$(( $(date +%s) + 60 )) table lc applied
  while [ "$(date +%s)" -lt "$by" ]; do
    nodes_alive || exit 1
    table=$(status)
    lc=$(echo "$table" | leader_commit)
    applied=$(echo "$table" | awk -v id="$id" '$1 == id && $2 == "yes" {print $8}')
    if [ -n "$target" ] && [ -n "$applied" ] && [ "$applied" -ge "$target" ]; then
      CAUGHT="applied $applied >= commit $target of leader $LEADER_THEN"
      return 0
    fi
    if [ -n "$lc" ]; then target=${lc#* }; LEADER_THEN=${lc%% *}; fi
    sleep 0.2
  done
  echo "rolling-upgrade: FAILED: node $id did not catch up within 60 s; status:" >&2
  status 1000 >&2
  tail -20 "$OUT/node-$id.log" >&2
  exit 1
}
restart() { # restart ID: SIGTERM, wait for it to end, start it on the new build, wait until it has caught up
  local id=$1 pid=${NODE_PIDS[$1]} by t0
  t0=$(date +%s%N)
  step "restart $RESTARTS/3: node $id (${BUILD_OF[id]} build$([ "$id" = "$(leader)" ] && echo ", the leader")): SIGTERM"
  kill -TERM "$pid"
  by=$(( $(date +%s) + 20 ))
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$by" ]; do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "node $id did not stop within 20 s of SIGTERM"
  wait "$pid" 2>/dev/null || true
  NODE_PIDS[id]=0
  sleep 0.3 # its log goes through stamp, which may still be writing
  grep -q "node $id stopped" "$OUT/node-$id.log" \
    || { tail -5 "$OUT/node-$id.log" >&2; fail "node $id ended without its graceful stop line (the end of its log above)"; }
  start_node "$id" new
  caught_up "$id"
  RESTART_TIMES+=("node $id $(( ($(date +%s%N) - t0) / 1000000 )) ms")
  step "node $id runs $HEAD_SHORT and has caught up ($CAUGHT)"
}

# --- the rolling upgrade: followers first; leadership moves once -----------------------------------
RESTARTS=0 RESTART_TIMES=() DEL_OLD="" DEL_REFUSED="" DEL_AFTER="" TRANSFER=""
next_node() { # a node still on the old build that does not lead, else the leader
  local l id
  l=$(leader)
  for id in "${NODES[@]}"; do
    [ "${BUILD_OF[id]}" = old ] && [ "$id" != "$l" ] && { echo "$id"; return; }
  done
  for id in "${NODES[@]}"; do [ "${BUILD_OF[id]}" = old ] && { echo "$id"; return; }; done
}
while [ "$RESTARTS" -lt 3 ]; do
  clients_running || fail "the clients stopped before the upgrade was over: give more --seconds"
  RESTARTS=$((RESTARTS + 1))
  restart "$(next_node)"
  if [ "$RESTARTS" = 1 ]; then
    # An older leader knows no feature level: what it does with a DELETE is what that build does.
    L=$(leader)
    rc=0; out=$(client --timeout-ms 5000 del probe-old-leader 2>&1) || rc=$?
    DEL_OLD="node $L (${BUILD_OF[L]:-?} build) leading: exit $rc ($(echo "$out" | tail -1))"
    step "del probe-old-leader with one node upgraded, $DEL_OLD"
  elif [ "$RESTARTS" = 2 ]; then
    # Leadership goes to an upgraded node now rather than when the last one stops, so that a leader of the
    # new build runs the cluster at level 1 with a member of the old build still in it, and says no to a DELETE.
    L=$(leader)
    if [ "${BUILD_OF[L]:-}" = old ]; then
      for id in "${NODES[@]}"; do [ "${BUILD_OF[id]}" = new ] && { T=$id; break; }; done
      out=$(client --timeout-ms 10000 transfer-leader "$T" 2>&1) || fail "transfer-leader $T: $out"
      TRANSFER="node $L ($FROM_SHORT) to node $T ($HEAD_SHORT)"
      step "leadership handed from $TRANSFER"
    fi
    L=$(leader)
    [ "${BUILD_OF[L]:-}" = new ] || fail "after two restarts and the hand-over, node ${L:-none} leads, not an upgraded node"
    rc=0; out=$(client --timeout-ms 5000 del probe-refused 2>&1) || rc=$?
    DEL_REFUSED="exit $rc ($(echo "$out" | tail -1))"
    step "del probe-refused with node $L ($HEAD_SHORT) leading and one node on $FROM_SHORT: $DEL_REFUSED"
    [ "$rc" = 4 ] && [[ "$out" == *"the cluster runs at feature level 1 until every member supports level 2; a DELETE needs level 2"* ]] \
      || fail "the DELETE was not refused with the feature-level error (exit 4): $DEL_REFUSED"
    got=$(client --timeout-ms 5000 get probe-refused 2>&1) || true
    [ "$got" = x ] || fail "the refused DELETE changed probe-refused: get says '$got'"
  fi
done

# --- the level rises; the DELETE works -----------------------------------------------------------
by=$(( $(date +%s) + 30 ))
until grep -h "the cluster's feature level rose from 1 to 2" "$OUT"/node-*.log >/dev/null 2>&1; do
  nodes_alive || exit 1
  [ "$(date +%s)" -lt "$by" ] || fail "no node logged that the cluster's feature level rose to 2 within 30 s of the last restart"
  sleep 0.2
done
RISE=$(grep -h "the cluster's feature level rose from 1 to 2" "$OUT"/node-*.log | head -1)
RISE_NODES=$(grep -l "the cluster's feature level rose from 1 to 2" "$OUT"/node-*.log | wc -l)
step "level: ${RISE#*] }"
rc=0; out=$(client --timeout-ms 10000 del probe-refused 2>&1) || rc=$?
DEL_AFTER="exit $rc ($(echo "$out" | tail -1))"
step "del probe-refused on the upgraded cluster: $DEL_AFTER"
[ "$rc" = 0 ] && [ "$out" = deleted ] || fail "the DELETE did not work after the level rose: $DEL_AFTER"
rc=0; got=$(client --timeout-ms 5000 get probe-refused 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "probe-refused is still there after its DELETE: get exit $rc, '$got'"
clients_running || fail "the clients stopped before the upgrade was over: give more --seconds"

HIST_RC=0
wait "$HIST_PID" || HIST_RC=$?
HIST_PID=""
sed 's/^/    /' "$OUT/history.log"

# --- stop the nodes gracefully ---------------------------------------------------------------------
STOP_RC=0
nodes_alive || STOP_RC=1
for id in "${NODES[@]}"; do kill -TERM "${NODE_PIDS[id]}" 2>/dev/null || true; done
for id in "${NODES[@]}"; do
  # Two lines: the command line's own and the library's record (on this build).
  if stopped_gracefully "$id" "${NODE_PIDS[id]}" 2; then NODE_PIDS[id]=0; else STOP_RC=1; fi
done
[ "$STOP_RC" = 0 ] && say "nodes stopped by SIGTERM, each gracefully"

case $HIST_RC in
  0) LIN=yes; verdict="PASS" ;;
  1) LIN=no; verdict="FAILED: the history is NOT linearizable (or a client failed); see $OUT/history.log, history.json" ;;
  3) LIN=no; verdict="FAILED: the cluster did not serve; see $OUT/history.log and the node logs" ;;
  *) LIN=no; verdict="FAILED: the history program exited with $HIST_RC; see $OUT/history.log" ;;
esac
[ "$HIST_RC" != 0 ] || [ "$STOP_RC" = 0 ] || verdict="FAILED: a node did not stop gracefully (above)"
OPS=$(sed -n 's/^history: seed [0-9]*; \(.*\) in [0-9.]* s$/\1/p' "$OUT/history.log" | head -1)
GAP=$(sed -n 's/^history: longest gap between acknowledged writes: //p' "$OUT/history.log" | head -1)
cat <<EOF
rolling-upgrade: summary (seed $SEED, $(elapsed))
  revisions:    $FROM_SHORT ($FROM_COMMIT) -> $HEAD_SHORT
  restarts:     ${RESTART_TIMES[*]/%/;} each SIGTERM to caught up
  hand-over:    ${TRANSFER:-none needed: an upgraded node led already}
  del, 1 of 3 upgraded:  $DEL_OLD
  del, 2 of 3 upgraded:  $DEL_REFUSED
  del, all upgraded:     $DEL_AFTER
  level rise:   ${RISE#*] } (logged by $RISE_NODES of 3 nodes)
  operations:   ${OPS:-?}
  longest gap:  ${GAP:-?}
  linearizable: $LIN
rolling-upgrade: $verdict
EOF
[ "$HIST_RC" = 0 ] && [ "$STOP_RC" = 0 ] || exit 1
OK=1

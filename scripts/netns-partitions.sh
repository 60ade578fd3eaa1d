#!/usr/bin/env bash
# Real partitions: three `raftkv node` processes, each in its own Linux network namespace (a veth pair to
# a bridge in the root namespace), while recording clients in the root namespace write and read a few
# keys (io.raftkv.lincheck.RemoteHistoryCheck) and a nemesis cuts links for real: a node's cable pulled
# (`ip link set ... down`, the leader often), or a node cut off from the other nodes only, the clients
# still reaching it (`unreachable` routes inside the namespaces). At the end every fault is healed,
# each key is read once more, the history is checked for linearizability, and the nodes are stopped
# with SIGTERM. Everything it creates is removed on exit, failure included.
#
# Needs Linux, root, `ip` (iproute2) and a JDK 21+; without them it prints one line saying why it skips
# and exits 0 (4 with --require). Run `scripts/netns-partitions.sh --help` for the options.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/netns-partitions.sh [--seconds S] [--clients N] [--seed S] [--out DIR] [--subnet A.B.C]
                                   [--build] [--require]
       scripts/netns-partitions.sh --check FILE
  --seconds S    how long the clients run (default 30; the nemesis stops 5 s before the end, and
                 everything is healed then)
  --clients N    concurrent recording clients (default 4)
  --seed S       seeds the clients and the nemesis (default: from the clock); printed either way.
                 Thread and network timing still differ from run to run.
  --out DIR      logs, nemesis schedule and history (default target/netns-partitions/SEED)
  --subnet A.B.C the /24 used (default 10.77.0): nodes at .1 .2 .3, the root namespace at .254
  --build        rebuild target/raftkv.jar and the test classes even if they look up to date
  --require      exit 4 instead of 0 when the run has to be skipped (no root, no ip, no namespaces)
  --check FILE   only check a history kept by an earlier run (JSON) and give its verdict
exit status: 0 linearizable (or skipped); 1 not linearizable, the cluster did not serve, or a step
             failed; 2 bad usage; 4 skipped with --require
Environment: JAVA (a java binary, 21+) or JAVA_HOME; NODE_JAVA_OPTS for the node JVMs.
EOF
}

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SECONDS_RUN=30 CLIENTS=4 SEED="" OUT="" SUBNET=10.77.0 BUILD=0 REQUIRE=0 CHECK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds|--clients|--seed|--out|--subnet|--check)
      [ $# -ge 2 ] || { echo "netns-partitions: $1 needs a value" >&2; usage >&2; exit 2; }
      case "$1" in
        --seconds) SECONDS_RUN=$2 ;; --clients) CLIENTS=$2 ;; --seed) SEED=$2 ;; --out) OUT=$2 ;;
        --subnet) SUBNET=$2 ;; --check) CHECK=$2 ;;
      esac
      shift 2 ;;
    --build) BUILD=1; shift ;;
    --require) REQUIRE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "netns-partitions: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$SECONDS_RUN" =~ ^[0-9]+$ ]] && [ "$SECONDS_RUN" -ge 10 ] && [ "$SECONDS_RUN" -le 3600 ] \
  || { echo "netns-partitions: --seconds must be a whole number from 10 to 3600, was '$SECONDS_RUN'" >&2; exit 2; }
[[ "$CLIENTS" =~ ^[0-9]+$ ]] && [ "$CLIENTS" -ge 1 ] && [ "$CLIENTS" -le 256 ] \
  || { echo "netns-partitions: --clients must be a whole number from 1 to 256, was '$CLIENTS'" >&2; exit 2; }
[ -z "$SEED" ] || [[ "$SEED" =~ ^[0-9]{1,18}$ ]] \
  || { echo "netns-partitions: --seed must be a whole number (up to 18 digits), was '$SEED'" >&2; exit 2; }
[[ "$SUBNET" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] \
  || { echo "netns-partitions: --subnet must be the first three parts of a /24, like 10.77.0, was '$SUBNET'" >&2; exit 2; }

skip() { # one line saying why, then exit 0 (4 with --require)
  echo "netns-partitions: SKIPPED: $*"
  exit $(( REQUIRE ? 4 : 0 ))
}

# --- a JDK 21+ (as ./mvn21 finds one) -------------------------------------------------------------
. "$ROOT/scripts/lib/find-java.sh"

JAR=$ROOT/target/raftkv.jar
TEST_CLASSES=$ROOT/library/target/test-classes
CHECK_CLASS=$TEST_CLASSES/io/raftkv/lincheck/RemoteHistoryCheck.class
build() { # target/raftkv.jar and the test classes, unless both are newer than every source
  if [ "$BUILD" = 0 ] && [ -f "$JAR" ] && [ -f "$CHECK_CLASS" ] \
      && [ -z "$(find ./*/src ./*/pom.xml pom.xml -newer "$JAR" -print -quit)" ] \
      && [ -z "$(find ./*/src ./*/pom.xml pom.xml -newer "$CHECK_CLASS" -print -quit)" ]; then
    return
  fi
  echo "netns-partitions: building target/raftkv.jar and the test classes (./mvn21 -q -B -pl cli -am package -DskipTests)"
  ./mvn21 -q -B -pl cli -am package -DskipTests || { echo "netns-partitions: FAILED: the build failed" >&2; exit 1; }
}

# --check FILE: the checker on a kept history, no namespaces, no root.
if [ -n "$CHECK" ]; then
  JAVA_BIN=$(find_java)
  [ -n "$JAVA_BIN" ] || { echo "netns-partitions: no JDK 21 or newer found (JAVA, JAVA_HOME, /usr/lib/jvm, PATH)" >&2; exit 1; }
  build
  rc=0
  "$JAVA_BIN" -cp "$TEST_CLASSES:$JAR" io.raftkv.lincheck.RemoteHistoryCheck --check "$CHECK" || rc=$?
  case $rc in
    0) echo "netns-partitions: PASS: $CHECK is linearizable" ;;
    2) echo "netns-partitions: FAILED: could not check $CHECK" >&2; exit 1 ;;
    *) echo "netns-partitions: FAILED: $CHECK is NOT linearizable (or could not be decided)" >&2; exit 1 ;;
  esac
  exit 0
fi

# --- can it run here? (each "no" is a skip, with the reason) -------------------------------------
[ "$(uname -s)" = Linux ] || skip "network namespaces need Linux (this is $(uname -s))"
[ "$(id -u)" = 0 ] || skip "creating network namespaces needs root (running as uid $(id -u))"
command -v ip >/dev/null 2>&1 || skip "no 'ip' command (iproute2) on the PATH"
JAVA_BIN=$(find_java)
[ -n "$JAVA_BIN" ] || skip "no JDK 21 or newer found (JAVA, JAVA_HOME, /usr/lib/jvm, PATH)"

# All names start with P; the lock keeps two runs (which would share names and subnet) apart. What
# this script starts gets 9>&-, so that a run killed outright does not leave its lock held.
P=rkvnp
BR=${P}-br
NODES=(1 2 3)
PORT=7001
ns() { echo "${P}-n$1"; }
host_if() { echo "${P}-h$1"; }
ADDR_ROOT=$SUBNET.254
addr() { echo "$SUBNET.$1"; }
PEERS=$(for i in "${NODES[@]}"; do printf '%s=%s:%s,' "$i" "$(addr "$i")" "$PORT"; done); PEERS=${PEERS%,}
CLUSTER_ID=netns-partitions-$$ # its own per run: a client left over from a run killed outright is refused

if command -v flock >/dev/null 2>&1; then
  exec 9>/tmp/raftkv-netns-partitions.lock
  flock -w 120 9 || { echo "netns-partitions: FAILED: another run still holds /tmp/raftkv-netns-partitions.lock after 120 s" >&2; exit 1; }
fi

[ -n "$SEED" ] || SEED=$(( $(date +%s%N) % 1000000000000 ))
RANDOM=$(( SEED % 2147483647 ))
OUT=${OUT:-$ROOT/target/netns-partitions/$SEED}
DATA=""
NODE_PIDS=()
HIST_PID=""
NAME=netns-partitions
START=$(date +%s%N)
. "$ROOT/scripts/lib/process-cluster.sh"

remove_network() { # everything named P*: processes left in its namespaces, namespaces, links
  local n pid
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${P}-" || true); do
    for pid in $(ip netns pids "$n" 2>/dev/null || true); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns delete "$n" 2>/dev/null || true
  done
  for n in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^${P}-" || true); do
    ip link delete "$n" 2>/dev/null || true
  done
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  [ -z "$HIST_PID" ] || kill -9 "$HIST_PID" 2>/dev/null || true
  for pid in "${NODE_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}" $HIST_PID; do wait "$pid" 2>/dev/null || true; done
  remove_network
  [ -z "$DATA" ] || rm -rf "$DATA"
  local left
  left=$( { ip netns list 2>/dev/null | grep "^${P}-"; ip -o link show 2>/dev/null | grep -o "${P}-[a-z0-9]*"; } || true)
  if [ -n "$left" ]; then echo "netns-partitions: WARNING: could not remove: $(echo $left)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the network ----------------------------------------------------------------------------------
net() { # a setup step; if it fails, this environment cannot do namespaces: skip, saying which step
  local out
  if ! out=$("$@" 2>&1); then skip "cannot set up network namespaces here: '$*' failed: ${out:-no message}"; fi
}
# A run killed before its cleanup leaves names and data behind; it held the lock, so they are its.
remove_network
rm -rf /tmp/raftkv-netns.??????
if ip -o -4 addr show 2>/dev/null | grep -qF " inet $SUBNET."; then
  echo "netns-partitions: FAILED: $SUBNET.0/24 is already used on this host ($(ip -o -4 addr show | grep -F " inet $SUBNET." | awk '{print $2, $4}' | head -1)); pick another with --subnet" >&2
  exit 1
fi
net ip link add "$BR" type bridge
# Bridged frames must not go through the host's iptables (br_netfilter), whose rules are not ours.
ip link set "$BR" type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 2>/dev/null || true
net ip addr add "$ADDR_ROOT/24" dev "$BR"
net ip link set "$BR" up
for i in "${NODES[@]}"; do
  net ip netns add "$(ns "$i")"
  net ip link add "$(host_if "$i")" type veth peer name "${P}-c$i"
  net ip link set "${P}-c$i" netns "$(ns "$i")"
  net ip link set "$(host_if "$i")" master "$BR"
  net ip link set "$(host_if "$i")" up
  net ip -n "$(ns "$i")" link set lo up
  net ip -n "$(ns "$i")" addr add "$(addr "$i")/24" dev "${P}-c$i"
  net ip -n "$(ns "$i")" link set "${P}-c$i" up
done

# --- the build, the nodes -------------------------------------------------------------------------
build
mkdir -p "$OUT"
rm -f "$OUT/nemesis.log" "$OUT/history.json"
DATA=$(mktemp -d /tmp/raftkv-netns.XXXXXX) # removed on exit (or by the next run)
say "seed $SEED; nodes $PEERS, each in namespace $(ns 1)..$(ns 3) behind bridge $BR ($ADDR_ROOT); logs in $OUT"
say "java: $JAVA_BIN ($(java_version "$JAVA_BIN"))"
for i in "${NODES[@]}"; do
  # shellcheck disable=SC2086 # NODE_JAVA_OPTS is a list of flags
  # Its output goes through stamp (the script's clock, as the nemesis log has it); $! is the java process.
  ip netns exec "$(ns "$i")" "$JAVA_BIN" ${NODE_JAVA_OPTS:--Xmx512m} -jar "$JAR" node --id "$i" --peers "$PEERS" \
    --data "$DATA/node-$i" --no-fsync --cluster-id "$CLUSTER_ID" > >(exec 9>&-; stamp >"$OUT/node-$i.log") 2>&1 9>&- &
  NODE_PIDS+=($!)
done

status() { # the cluster's status table, as the root namespace's clients see it
  "$JAVA_BIN" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$JAR" client --peers "$PEERS" --cluster-id "$CLUSTER_ID" \
    --timeout-ms "${1:-300}" status 2>/dev/null || true
}
leader() { # the id of the leader with the highest term, or nothing
  status | awk '$3 == "leader" {print $4, $1}' | sort -n | tail -1 | awk '{print $2}'
}
nodes_alive() { # fails, naming the node and showing its log, if a node process has ended
  local k
  for k in "${!NODE_PIDS[@]}"; do
    if ! kill -0 "${NODE_PIDS[$k]}" 2>/dev/null; then
      echo "netns-partitions: FAILED: node ${NODES[$k]} exited; the end of its log ($OUT/node-${NODES[$k]}.log):" >&2
      tail -20 "$OUT/node-${NODES[$k]}.log" >&2
      return 1
    fi
  done
}
await_leader
say "node $L leads"

# --- the clients, and the nemesis -----------------------------------------------------------------
"$JAVA_BIN" -cp "$TEST_CLASSES:$JAR" io.raftkv.lincheck.RemoteHistoryCheck --peers "$PEERS" --cluster-id "$CLUSTER_ID" \
  --seconds "$SECONDS_RUN" --clients "$CLIENTS" --seed "$SEED" --history "$OUT/history.json" >"$OUT/history.log" 2>&1 9>&- &
HIST_PID=$!
await_history_start
say "clients running for $SECONDS_RUN s (the seconds in their per-second counts start about now)"

ISOLATED=() CUT=()
isolate() { ip link set "$(host_if "$1")" down; ISOLATED+=("$1"); }
cut_off() { # node $1 loses the other nodes, not the clients
  local j
  for j in "${NODES[@]}"; do
    [ "$j" = "$1" ] && continue
    ip -n "$(ns "$1")" route add unreachable "$(addr "$j")/32"
    ip -n "$(ns "$j")" route add unreachable "$(addr "$1")/32"
  done
  CUT+=("$1")
}
heal() {
  local i j
  for i in "${ISOLATED[@]}"; do ip link set "$(host_if "$i")" up; done
  for i in "${CUT[@]}"; do
    for j in "${NODES[@]}"; do
      [ "$j" = "$i" ] && continue
      ip -n "$(ns "$i")" route del unreachable "$(addr "$j")/32" 2>/dev/null || true
      ip -n "$(ns "$j")" route del unreachable "$(addr "$i")/32" 2>/dev/null || true
    done
  done
  ISOLATED=() CUT=()
}
random_node() { echo "${NODES[$(( RANDOM % ${#NODES[@]} ))]}"; }
nap() { sleep "$(( $1 / 1000 )).$(printf '%03d' $(( $1 % 1000 )))"; } # milliseconds: the nemesis's pacing

NEMESIS_END=$(( $(date +%s%N) + (SECONDS_RUN - 5) * 1000000000 ))
FAULTS=0
while [ "$(date +%s%N)" -lt "$NEMESIS_END" ] && kill -0 "$HIST_PID" 2>/dev/null; do
  nodes_alive || exit 1
  dice=$(( RANDOM % 100 ))
  if [ "$dice" -lt 55 ]; then L=$(leader); else L=""; fi
  [ -n "$L" ] || L=$(random_node)
  if [ "$dice" -lt 30 ]; then
    isolate "$L"; what="isolate node $L (leader): its link down, clients cannot reach it either"
  elif [ "$dice" -lt 55 ]; then
    cut_off "$L"; what="cut node $L (leader) off from the other nodes; clients still reach it"
  elif [ "$dice" -lt 75 ]; then
    isolate "$L"; what="isolate node $L: its link down"
  elif [ "$dice" -lt 90 ]; then
    cut_off "$L"; what="cut node $L off from the other nodes; clients still reach it"
  else
    a=$(random_node); b=$(( a % 3 + 1 )); isolate "$a"; isolate "$b"
    what="isolate nodes $a and $b: no majority"
  fi
  FAULTS=$((FAULTS + 1))
  say "nemesis: $what" | tee -a "$OUT/nemesis.log"
  hold=$(( 1000 + RANDOM % 2000 )) left=$(( (NEMESIS_END - $(date +%s%N)) / 1000000 ))
  nap $(( hold < left ? hold : (left > 200 ? left : 200) ))
  heal
  say "nemesis: heal" | tee -a "$OUT/nemesis.log"
  nap $(( 700 + RANDOM % 1300 ))
done
heal
say "nemesis: done after $FAULTS faults; everything healed; the clients go on for the last seconds"

HIST_RC=0
wait "$HIST_PID" || HIST_RC=$?
HIST_PID=""
sed 's/^/    /' "$OUT/history.log"

# --- stop the nodes gracefully ---------------------------------------------------------------------
STOP_RC=0
nodes_alive || STOP_RC=1
for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for k in "${!NODE_PIDS[@]}"; do
  stopped_gracefully "${NODES[$k]}" "${NODE_PIDS[$k]}" 1 || STOP_RC=1
done
[ "$STOP_RC" = 0 ] && say "nodes stopped by SIGTERM, each gracefully"

case $HIST_RC in
  0) verdict="PASS: the history is linearizable" ;;
  1) verdict="FAILED: the history is NOT linearizable (or a client failed); see $OUT/history.log, history.json" ;;
  3) verdict="FAILED: the cluster did not serve; see $OUT/history.log and the node logs" ;;
  *) verdict="FAILED: the history program exited with $HIST_RC; see $OUT/history.log" ;;
esac
[ "$HIST_RC" != 0 ] || [ "$STOP_RC" = 0 ] || verdict="FAILED: the history is linearizable, but a node did not stop gracefully (above)"
say "seed $SEED, $FAULTS faults: $verdict"
[ "$HIST_RC" = 0 ] && [ "$STOP_RC" = 0 ]

# Sourced by the scripts that run raftkv node processes against a recorded history (netns-partitions.sh,
# rolling-upgrade.sh). The script sets NAME (its name in messages) and START (date +%s%N at its start), and
# defines status, leader and nodes_alive for its own cluster; OUT is where the logs go, HIST_PID the history
# program's process.

elapsed() { local t=$(( ($(date +%s%N) - START) / 1000000 )); printf '%d.%03ds' $((t / 1000)) $((t % 1000)); }
say() { echo "$NAME: [$(elapsed)] $*"; }
stamp() { local line; while IFS= read -r line; do printf '[%s] %s\n' "$(elapsed)" "$line"; done; }

await_leader() { # sets L to the leader's id once the cluster elects one; fails the script after 30 s
  local wait_until=$(( $(date +%s) + 30 ))
  L=""
  while [ -z "$L" ]; do
    nodes_alive || exit 1
    if [ "$(date +%s)" -ge "$wait_until" ]; then
      echo "$NAME: FAILED: the cluster elected no leader within 30 s; status:" >&2
      status 1000 >&2
      exit 1
    fi
    L=$(leader)
  done
}

await_history_start() { # until the history program prints its first line (or has ended)
  until grep -q '^history: seed' "$OUT/history.log" 2>/dev/null; do
    kill -0 "$HIST_PID" 2>/dev/null || break
    sleep 0.1 # polls for the clients' first line
  done
}

stopped_gracefully() { # stopped_gracefully ID PID LINES: after SIGTERM, PID ends within 10 s and node ID logs its
  # graceful stop line (LINES times: once per record of it) within 3 s more; else says what went wrong, returns 1
  local id=$1 pid=$2 lines=$3 stop_by line_by
  stop_by=$(( $(date +%s) + 10 ))
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$stop_by" ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$NAME: FAILED: node $id did not stop within 10 s of SIGTERM" >&2
    return 1
  fi
  wait "$pid" 2>/dev/null || true
  line_by=$(( $(date +%s) + 3 )) # its log goes through stamp, which may still be writing
  until [ "$(grep -c "node $id stopped" "$OUT/node-$id.log")" -ge "$lines" ] || [ "$(date +%s)" -ge "$line_by" ]; do
    sleep 0.1
  done
  if [ "$(grep -c "node $id stopped" "$OUT/node-$id.log")" -lt "$lines" ]; then
    echo "$NAME: FAILED: node $id ended without its graceful stop line; the end of its log:" >&2
    tail -5 "$OUT/node-$id.log" >&2
    return 1
  fi
}

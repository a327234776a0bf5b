#!/usr/bin/env bash
# Start-up time of a node holding many keys: loads KEYS keys of VALUE_BYTES
# into a one-node cluster, stops it (SIGTERM), starts it again on the same
# data dir, and reports how long until it answers a linearizable read of a
# key written during the load. Every process is started here and stopped by
# PID on exit.
#
# Usage: bench/startup.sh [BUILD_DIR]          (default: build)
# Environment: KEYS (1000000), VALUE_BYTES (100), PORT (17501).
set -euo pipefail

BUILD_DIR=${1:-build}
MQ="$BUILD_DIR/mq"
KEYS=${KEYS:-1000000}
VALUE_BYTES=${VALUE_BYTES:-100}
PORT=${PORT:-17501}
READY_POLLS_MAX=3000   # 20 ms apart: 60 s at most

[[ -x "$MQ" ]] || { echo "startup.sh: $MQ not found; build it first" >&2; exit 2; }
dir=$(mktemp -d -t mq-startup.XXXXXX)
node_pid=""
cleanup() {
  if [[ -n "$node_pid" ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

endpoint=127.0.0.1:$PORT
start_node() {
  "$MQ" node --id n1 --listen "$endpoint" --data-dir "$dir/n1" 2>>"$dir/n1.log" &
  node_pid=$!
}
wait_ready() {
  local polls=0
  # The bench's preload writes key0..key(N-1) over users user0..; key0 of user0 exists.
  until "$MQ" get --endpoints "$endpoint" --timeout 500ms user0 key0 >/dev/null 2>&1; do
    polls=$((polls + 1))
    if (( polls > READY_POLLS_MAX )) || ! kill -0 "$node_pid" 2>/dev/null; then
      echo "startup.sh: the node did not answer; its log:" >&2
      tail -20 "$dir/n1.log" >&2
      exit 1
    fi
    sleep 0.02
  done
}

start_node
polls=0
until "$MQ" status --endpoints "$endpoint" --timeout 500ms -o json >/dev/null 2>&1; do
  polls=$((polls + 1))
  (( polls <= READY_POLLS_MAX )) && kill -0 "$node_pid" 2>/dev/null || { tail -20 "$dir/n1.log" >&2; exit 1; }
  sleep 0.02
done
"$MQ" bench --endpoints "$endpoint" --workload get --preload --keys "$KEYS" \
  --value-bytes "$VALUE_BYTES" --duration 1s --warmup 0s -o json >"$dir/preload.json" 2>/dev/null
kill -TERM "$node_pid"
wait "$node_pid" || true
du_bytes=$(du -sb "$dir/n1" | cut -f1)

t0=$(date +%s%N)
start_node
wait_ready
t1=$(date +%s%N)
keys=$("$MQ" status --endpoints "$endpoint" -o json | python3 -c \
  'import json,sys; print(sum(s["keys"] for s in json.load(sys.stdin)["shards"]))')
echo "keys held: $keys of $VALUE_BYTES bytes; data dir $((du_bytes / 1048576)) MiB"
echo "start-up until the first linearizable read is answered: $(( (t1 - t0) / 1000000 )) ms"

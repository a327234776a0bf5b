#!/usr/bin/env bash
# Membership speed on a local cluster (a benchmark, not a test):
#   1. the time to move replicas of shards holding KEYS_PER_SHARD keys of
#      VALUE_BYTES each: 3 nodes, SHARDS shards, replication 3, then
#      `mq cluster add` of one node, which takes its share of the replicas
#      (at most two catch up at once on a leader);
#   2. the write throughput while two more nodes join (3 -> 5), against
#      the steady rate of the same client before the change and after it
#      (with 5 nodes running: on a small machine the extra processes cost
#      throughput whether or not anything moves, and the rate after tells
#      that part apart);
#   3. the time from `mq cluster add` to a balanced cluster, for each add.
#
# Usage: bench/rebalance.sh [BUILD_DIR]     (default: build)
# Environment: SHARDS (3), KEYS_PER_SHARD (100000), VALUE_BYTES (100),
#   CLIENTS (16), DURATION (6s), BASE_PORT (17801).
# Loopback only; every node is stopped by `mq cluster down --purge` on exit.
set -euo pipefail

BUILD_DIR=${1:-build}
MQ="$(cd "$BUILD_DIR" && pwd)/mq"
SHARDS=${SHARDS:-3}
KEYS_PER_SHARD=${KEYS_PER_SHARD:-100000}
VALUE_BYTES=${VALUE_BYTES:-100}
CLIENTS=${CLIENTS:-16}
DURATION=${DURATION:-6s}
BASE_PORT=${BASE_PORT:-17801}
KEYS=$((SHARDS * KEYS_PER_SHARD))
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mq-rebalance-XXXXXX")
STATE="$WORK_DIR/cluster"

note() { echo "rebalance: $*" >&2; }
die() {
  note "$*"
  exit 3
}
cleanup() {
  "$MQ" cluster down --purge --dir "$STATE" >/dev/null 2>&1 || true
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x "$MQ" ]] || die "no mq binary at $MQ (build first)"

endpoints() {
  python3 -c 'import json,sys
print(",".join("127.0.0.1:%d" % n["port"] for n in json.load(open(sys.argv[1]))["nodes"]))' "$STATE/cluster.json"
}

# Writes for DURATION with the same client every time; prints ops/s.
write_rate() {
  local out
  out=$("$MQ" bench --endpoints "$(endpoints)" --workload set --shards "$SHARDS" --clients "$CLIENTS" \
    --value-bytes "$VALUE_BYTES" --keys "$KEYS" --duration "$DURATION" --warmup 1s -o json 2>/dev/null || true)
  python3 -c 'import json,sys
try: print("%.0f" % json.loads(sys.argv[1])["ops_per_s"])
except Exception: print(0)' "$out"
}

# `mq cluster add` with its JSON answer; prints balanced_ms.
add_nodes() {
  local out
  out=$("$MQ" cluster add -n "$1" --wait 10m --dir "$STATE" -o json) || die "mq cluster add failed: $out"
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])["balanced_ms"])' "$out"
}

note "3 nodes, $SHARDS shards, replication 3; writing $KEYS keys of $VALUE_BYTES bytes"
"$MQ" cluster up -n 3 --shards "$SHARDS" --base-port "$BASE_PORT" --dir "$STATE" >/dev/null 2>&1 ||
  die "mq cluster up failed"
"$MQ" bench --endpoints "$(endpoints)" --workload get --preload --shards "$SHARDS" --keys "$KEYS" --users 1000 \
  --value-bytes "$VALUE_BYTES" --pipeline 64 --clients 32 --timeout 30s --duration 1s --warmup 0s \
  -o json >"$WORK_DIR/preload.json" 2>/dev/null || die "the preload failed"

note "adding n4: it takes its share of the replicas"
move_ms=$(add_nodes 1)
replicas=$("$MQ" member list -o json --endpoints "$(endpoints)" | python3 -c 'import json,sys
print(next(m["replicas"] for m in json.load(sys.stdin)["members"] if m["name"] == "n4"))')

note "removing n4 again, then measuring writes before, during and after 3 -> 5"
"$MQ" cluster remove n4 --wait 10m --dir "$STATE" >/dev/null || die "mq cluster remove failed"
before=$(write_rate)
write_rate >"$WORK_DIR/during" &
bench_pid=$!
sleep 1
grow_ms=$(add_nodes 2)
wait "$bench_pid"
during=$(cat "$WORK_DIR/during")
after=$(write_rate)

ratio() { python3 -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print("%.2f" % (a/b) if b else "-")' "$1" "$2"; }
echo "replicas of $KEYS_PER_SHARD keys x $VALUE_BYTES B moved to n4: $replicas, balanced in $move_ms ms ($((move_ms / (replicas > 0 ? replicas : 1))) ms a replica, two at a time)"
echo "3 -> 5 nodes: balanced in $grow_ms ms after mq cluster add"
echo "writes/s: before $before, during the growth $during, after (5 nodes) $after"
echo "during/before $(ratio "$during" "$before"), during/after $(ratio "$during" "$after")"

#!/usr/bin/env bash
# Where a replicated write's CPU and context switches go, node by node: a
# 3-node mq cluster with ONE shard, so that one node leads every write and
# the other two only follow, driven by `mq bench` (unary sets). For the
# leader and each follower it prints CPU time and context switches per
# write (user + system CPU from /proc/PID/stat, switches of every thread
# from /proc/PID/task/*/status), over the measured interval only; and the
# same for the client. A benchmark, not a test: machines differ, so compare
# builds in one run (MQ_BEFORE) rather than numbers across machines.
#
# Usage: bench/write_cost.sh [BUILD_DIR]        (default: build)
# Environment: DURATION (10s), WARMUP (2s), CLIENTS (64), VALUE_BYTES (100),
#   KEYS (20000), BASE_PORT (17500), MQ_BEFORE (the `mq` of another build,
#   measured the same way first), SHARDS (1; with more, each node leads
#   some shards and the rows mix leader and follower work).
set -euo pipefail

BUILD_DIR=${1:-build}
MQ="$BUILD_DIR/mq"
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CLIENTS=${CLIENTS:-64}
VALUE_BYTES=${VALUE_BYTES:-100}
KEYS=${KEYS:-20000}
SHARDS=${SHARDS:-1}
BASE_PORT=${BASE_PORT:-17500}
MQ_BEFORE=${MQ_BEFORE:-}
READY_TIMEOUT_S=30

if [[ ! -x "$MQ" ]]; then
  echo "write_cost.sh: $MQ not found; build it first (cmake --build $BUILD_DIR --target mq)" >&2
  exit 2
fi
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mq-write-cost.XXXXXX")
BENCH_NAME=write_cost.sh
# shellcheck source=bench/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"

# Measures one build; prints its report lines.
measure_build() {
  local bin=$1 tag=$2
  local peers="" eps=""
  for i in 1 2 3; do
    peers+="${peers:+,}n$i=127.0.0.1:$((BASE_PORT + i))"
    eps+="${eps:+,}127.0.0.1:$((BASE_PORT + i))"
  done
  rm -rf "$WORK_DIR/mq"
  local node_pids=()
  for i in 1 2 3; do
    start "$tag-n$i" "$bin" node --id "n$i" --listen "127.0.0.1:$((BASE_PORT + i))" \
      --data-dir "$WORK_DIR/mq/n$i" --peers "$peers" --initial-cluster-state new --shards "$SHARDS"
    node_pids+=("${PIDS[-1]}")
  done
  wait_ready "the $tag cluster" --endpoints "$eps"
  # The first shard's leader (with one shard, every write's).
  local leader
  leader=$("$MQ" status --endpoints "$eps" -o json | grep -o '"leader":"n[0-9]*"' | head -1 | grep -o 'n[0-9]*')
  local idx=${leader#n}
  local role_pids=("${node_pids[$((idx - 1))]}")
  for i in 1 2 3; do ((i == idx)) || role_pids+=("${node_pids[$((i - 1))]}"); done

  local result
  result=$(measure_cost "$tag: set" "${role_pids[*]}" --endpoints "$eps")
  stop_all
  local ops p99
  read -r ops p99 _ <<<"$result"
  paste -d' ' "$WORK_DIR/usage.before" "$WORK_DIR/usage.after" | awk -v tag="$tag" -v ops="$ops" -v p99="$p99" \
    -v d="$(seconds_of "$DURATION")" '
    BEGIN { n = ops * d; split("leader follower follower", role, " ") }
    {
      cpu = ($3 - $1) * 1e6 / n; ctx = ($4 - $2) / n
      printf "%-10s %-9s %12.1f %14.2f\n", tag, role[NR], cpu, ctx
      tc += cpu; tx += ctx
    }
    END {
      printf "%-10s %-9s %12.1f %14.2f\n", tag, "all", tc, tx
      printf "%-10s %.0f writes/s, p99 %.2f ms\n", tag, ops, p99
    }'
}

printf "%-10s %-9s %12s %14s\n" "BUILD" "NODE" "CPU US/WRITE" "CTX SW/WRITE" >"$WORK_DIR/report"
if [[ -n "$MQ_BEFORE" ]]; then measure_build "$MQ_BEFORE" before >>"$WORK_DIR/report"; fi
measure_build "$MQ" this >>"$WORK_DIR/report"
echo
echo "unary sets, $CLIENTS clients, $VALUE_BYTES-byte values, $SHARDS shard(s), 3 nodes; load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$WORK_DIR/report"

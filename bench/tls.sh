#!/usr/bin/env bash
# What TLS and authorization cost (a benchmark, not a test): the same
# `mq bench` client drives a 3-node local cluster in plaintext, one started
# with --tls (gRPC and Raft traffic over TLS, client certificates required)
# and one with --tls --auth (a bearer token checked on every request as
# well), one after the other and ROUNDS times in turn, with unary writes
# and unary linearizable reads; it prints ops/s and p99 of each and the
# ratios to plaintext of each round.
#
# Usage: bench/tls.sh [BUILD_DIR]     (default: build)
# Environment: DURATION (10s), WARMUP (2s), CLIENTS (64), VALUE_BYTES (100),
#   KEYS (20000), SHARDS (16), ROUNDS (2), BASE_PORT (17901).
# Loopback only; every cluster is stopped with `mq cluster down --purge`
# (by PID) on every exit path.
set -euo pipefail

BUILD_DIR=${1:-build}
MQ="$(cd "$BUILD_DIR" && pwd)/mq"
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CLIENTS=${CLIENTS:-64}
VALUE_BYTES=${VALUE_BYTES:-100}
KEYS=${KEYS:-20000}
SHARDS=${SHARDS:-16}
ROUNDS=${ROUNDS:-2}
BASE_PORT=${BASE_PORT:-17901}
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mq-tls-bench-XXXXXX")
CURRENT=""

note() { echo "tls.sh: $*" >&2; }
cleanup() {
  if [[ -n "$CURRENT" ]]; then "$MQ" cluster down --purge --dir "$CURRENT" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x "$MQ" ]] || { note "no mq binary at $MQ (build first)"; exit 2; }

# One workload against the current cluster; prints "ops_per_s p99_ms errors".
measure() {
  local out
  out=$("$MQ" bench "$@" --shards "$SHARDS" --clients "$CLIENTS" --value-bytes "$VALUE_BYTES" \
    --keys "$KEYS" --duration "$DURATION" --warmup "$WARMUP" -o json 2>/dev/null || true)
  python3 -c 'import json,sys
try:
  j = json.loads(sys.argv[1]); print("%.0f %.2f %d" % (j["ops_per_s"], j["latency_ms"]["p99"], j["errors"]))
except Exception: print("0 0 -1")' "$out"
}

# Brings a cluster up (plain, tls or tls+auth), measures set and get, takes
# it down. Sets RESULT to "set_ops set_p99 get_ops get_p99". Not run in a
# subshell: a failure exits the script, and the cleanup sees the cluster.
run_mode() {
  local mode=$1 round=$2
  local dir="$WORK_DIR/$mode-$round" up_flags=() creds=()
  case "$mode" in
    tls) up_flags=(--tls) ;;
    tls+auth) up_flags=(--tls --auth) ;;
  esac
  CURRENT="$dir"
  "$MQ" cluster up -n 3 --shards "$SHARDS" --base-port "$BASE_PORT" --dir "$dir" "${up_flags[@]}" \
    >/dev/null 2>"$WORK_DIR/up.err" || { note "mq cluster up $mode failed: $(cat "$WORK_DIR/up.err")"; exit 3; }
  if [[ "$mode" != plain ]]; then
    creds=(--cacert "$dir/tls/ca.pem" --cert "$dir/tls/client.pem" --key "$dir/tls/client-key.pem")
  fi
  if [[ "$mode" == tls+auth ]]; then creds+=(--token "$(cat "$dir/auth/admin.token")"); fi
  local eps="127.0.0.1:$BASE_PORT,127.0.0.1:$((BASE_PORT + 1)),127.0.0.1:$((BASE_PORT + 2))"
  note "round $round, $mode: set"
  local set get
  set=$(measure --endpoints "$eps" "${creds[@]}" --workload set)
  note "round $round, $mode: get"
  get=$(measure --endpoints "$eps" "${creds[@]}" --workload get --preload)
  "$MQ" cluster down --purge --dir "$dir" >/dev/null 2>&1 || true
  CURRENT=""
  read -r s_ops s_p99 s_err <<<"$set"
  read -r g_ops g_p99 g_err <<<"$get"
  if [[ "$s_err" != 0 || "$g_err" != 0 ]]; then note "$mode round $round: errors (set $s_err, get $g_err)"; fi
  RESULT="$s_ops $s_p99 $g_ops $g_p99"
}

ratio() { python3 -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print("%.2f" % (a/b) if b else "-")' "$1" "$2"; }

printf '%-6s %-10s %12s %10s %12s %10s\n' round mode "set/s" "set p99" "get/s" "get p99"
for round in $(seq 1 "$ROUNDS"); do
  run_mode plain "$round"
  read -r ps pp pg pq <<<"$RESULT"
  run_mode tls "$round"
  read -r ts tp tg tq <<<"$RESULT"
  run_mode tls+auth "$round"
  read -r as ap ag aq <<<"$RESULT"
  printf '%-6s %-10s %12s %10s %12s %10s\n' "$round" plaintext "$ps" "$pp" "$pg" "$pq"
  printf '%-6s %-10s %12s %10s %12s %10s\n' "$round" tls "$ts" "$tp" "$tg" "$tq"
  printf '%-6s %-10s %12s %10s %12s %10s\n' "$round" tls+auth "$as" "$ap" "$ag" "$aq"
  printf '%-6s %-10s %12s %10s %12s\n' "$round" "tls/plain" "$(ratio "$ts" "$ps")" "" "$(ratio "$tg" "$pg")"
  printf '%-6s %-10s %12s %10s %12s\n' "$round" "+auth/plain" "$(ratio "$as" "$ps")" "" "$(ratio "$ag" "$pg")"
done

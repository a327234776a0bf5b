#!/usr/bin/env bash
# What a key costs in memory, mq vs redis, in one run.
#
# For each case KEYSxVALUE_BYTES this starts a fresh local mq cluster (NODES
# nodes, every node a replica of every shard, so one node's RSS is what one
# copy of the data costs), and measures each node's resident memory (VmRSS):
#   idle         right after `mq cluster up`
#   loaded       after `mq bench --preload` wrote every key once (again,
#                when writes failed, until the cluster holds every key)
#   overwritten  after the same preload wrote every key a second time (what
#                replaced values and the Raft log leave behind)
#   restarted    after `mq cluster down` + `mq cluster up` on the same data
#                dirs (what recovery from the WAL and snapshots rebuilds)
# and, after the restart, the start-up time (from `cluster up` until a read
# of user0/key0 is answered) and each node's data dir size (total, wal/,
# snap/) against the live data, KEYS * (VALUE_BYTES + key bytes).
# Then a fresh redis-server (no persistence) gets the same number of keys of
# the same size from DEBUG POPULATE; its RSS is the yardstick. POPULATE skips
# keys that exist, so redis has no overwritten phase: its loaded RSS is used
# for the mq/redis ratio of every phase.
#
# Memory is read after it settles: one sample a second until two in a row
# differ by less than 1% (at most SETTLE_MAX_S seconds), since allocators
# and background work (snapshots, log compaction) lag behind the writes.
# "Bytes per key above the payload" is (RSS - idle RSS) / KEYS minus the
# value and the key bytes: mq's key bytes are its user id and key
# ("user<k % USERS>" + "key<k>"), redis's are its key ("key:<k>").
#
# Usage: bench/memory.sh [BUILD_DIR]        (default: build)
# Environment: CASES ("1000000x100 1000000x16 100000x4096": keys x value
#   bytes), USERS (10000), NODES (3), SHARDS (16), BASE_PORT (17601: nodes use
#   BASE_PORT.. and BASE_PORT+1000.. for HTTP), REDIS_PORT (17699),
#   SETTLE_MAX_S (30), READY_TIMEOUT_S (300: bound of every start-up wait).
# Needs redis-server and redis-cli (Debian package redis-server) on PATH.
# Takes a few minutes with the defaults, most of it in the preloads. Prints
# three tables (memory per case and phase; start-up and load per case; data
# dir per node) and one RESULT line per row (grep ^RESULT) on stdout;
# progress goes to stderr. Every process is started here, tracked by PID and
# stopped by PID on every exit path; only 127.0.0.1 is used.
set -euo pipefail
# A failure inside $(...) (a node gone while its RSS is read) ends the run too.
shopt -s inherit_errexit

BUILD_DIR=${1:-build}
MQ="$BUILD_DIR/mq"
CASES=${CASES:-"1000000x100 1000000x16 100000x4096"}
USERS=${USERS:-10000}
NODES=${NODES:-3}
SHARDS=${SHARDS:-16}
BASE_PORT=${BASE_PORT:-17601}
REDIS_PORT=${REDIS_PORT:-17699}
SETTLE_MAX_S=${SETTLE_MAX_S:-30}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-300}
BENCH_NAME=memory.sh

note() { echo "$BENCH_NAME: $*" >&2; }
# The work dir goes on exit: a failure shows the end of each node's log now.
die() {
  note "$*"
  local log
  for log in "${CLUSTER_DIR:-/nonexistent}"/n*.log; do
    if [[ -f "$log" ]]; then echo "--- ${log##*/}" >&2; tail -5 "$log" >&2; fi
  done
  exit 1
}

[[ -x "$MQ" ]] || { echo "$BENCH_NAME: $MQ not found; build it first" >&2; exit 2; }
for tool in redis-server redis-cli; do
  command -v "$tool" >/dev/null || {
    echo "$BENCH_NAME: $tool not found; install it (apt-get install redis-server)" >&2
    exit 2
  }
done
command -v python3 >/dev/null || { echo "$BENCH_NAME: python3 not found (reads mq's JSON)" >&2; exit 2; }
for c in $CASES; do
  [[ "$c" =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || { echo "$BENCH_NAME: bad case '$c' (want KEYSxBYTES)" >&2; exit 2; }
done

# mq reads every flag from MQ_<FLAG> too: an inherited MQ_OUTPUT, MQ_TIMEOUT,
# MQ_CLUSTER_DIR, ... would change what is run or where its state lives.
while read -r var; do unset "$var"; done < <(compgen -v MQ_ || true)

WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mq-memory.XXXXXX")
# shellcheck source=bench/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"   # start, stop_all (redis), cleanup of WORK_DIR

# --- processes ---------------------------------------------------------------

# True while PID runs. A process that is not our child (the cluster's nodes)
# stays a zombie until its parent reaps it, and kill -0 succeeds on zombies:
# the state letter in /proc/PID/stat says whether it still runs.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }   # the command name may hold spaces and parentheses
  [[ ${stat:0:1} != Z && ${stat:0:1} != X ]]
}

# Start time of PID in clock ticks (field 22 of /proc/PID/stat), to tell a
# node from an unrelated process that reused its PID.
start_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # After the command name, field 3 (state) is the first: 22 is the 20th.
  awk '{print $20}' <<<"$stat"
}

rss_kib() {
  local kib
  kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || true)
  if [[ -z "$kib" ]] || ! alive "$1"; then die "process $1 is gone"; fi
  echo "$kib"
}

# Samples the RSS of the PIDs given once a second until two samples in a row
# are within 1% of each other for every PID (at most SETTLE_MAX_S seconds);
# sets SETTLED to the last sample, one KiB value per PID, comma-separated.
# (A global, not stdout: a failure in $(settle ...) passed as an argument
# would go unnoticed.)
SETTLED=""
settle() {
  local -a prev=() cur=()
  local pid i s kib diff steady=0
  (($#)) || die "settle: no process to sample"
  for pid in "$@"; do kib=$(rss_kib "$pid"); prev+=("$kib"); done
  for ((s = 1; s <= SETTLE_MAX_S; s++)); do
    sleep 1
    cur=()
    for pid in "$@"; do kib=$(rss_kib "$pid"); cur+=("$kib"); done
    steady=1
    for i in "${!cur[@]}"; do
      # |cur - prev| < 1% of prev, in integers: 100 * |diff| < prev.
      diff=$((cur[i] - prev[i]))
      ((diff >= 0)) || diff=$((-diff))
      ((100 * diff < prev[i])) || steady=0
    done
    prev=("${cur[@]}")
    ((steady == 0)) || break
  done
  ((steady)) || note "RSS still moving after ${SETTLE_MAX_S}s; using the last sample"
  SETTLED=$(IFS=,; echo "${prev[*]}")
}

# --- the mq cluster ------------------------------------------------------------

CLUSTER_DIR=""   # $MQ_HOME/clusters/local of the running case, "" when none
NODE_PIDS=()     # "pid:start_ticks" of every node seen, for the fallback stop
ENDPOINTS=""
for i in $(seq 1 "$NODES"); do ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:$((BASE_PORT + i - 1))"; done

# Prints "pid start_ticks data_dir" per node, from the state `cluster up` keeps.
cluster_nodes() {
  python3 -c 'import json,sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    print(n["pid"], n.get("start_time_ticks", 0), n["data_dir"])' "$CLUSTER_DIR/cluster.json"
}

# Starts (or restarts: same MQ_HOME, same data dirs) the cluster and records
# its nodes' PIDs. Every node holds every shard (--replication NODES).
cluster_up() {
  local out=$WORK_DIR/cluster-up.json
  if ! MQ_HOME=$MQ_HOME "$MQ" cluster up -n "$NODES" --shards "$SHARDS" --replication "$NODES" \
      --base-port "$BASE_PORT" --wait "${READY_TIMEOUT_S}s" -o json >"$out" 2>"$WORK_DIR/cluster-up.err"; then
    tail -5 "$WORK_DIR/cluster-up.err" >&2
    die "mq cluster up failed"
  fi
  local pid ticks dir
  while read -r pid ticks dir; do NODE_PIDS+=("$pid:$ticks"); done < <(cluster_nodes)
}

# Current node PIDs, in node order.
cluster_pids() { cluster_nodes | awk '{print $1}'; }

# `mq cluster down`, then, whatever it did, SIGTERM/SIGKILL by PID any node
# still running (only when its start time says it is still our node).
cluster_stop() {
  [[ -n "$CLUSTER_DIR" ]] || return 0
  if [[ -f "$CLUSTER_DIR/cluster.json" ]]; then
    MQ_HOME=$MQ_HOME timeout 60 "$MQ" cluster down --timeout 10s >"$WORK_DIR/cluster-down.log" 2>&1 || {
      tail -5 "$WORK_DIR/cluster-down.log" >&2
      note "mq cluster down failed; stopping the nodes by PID"
    }
  fi
  local entry pid ticks
  for entry in "${NODE_PIDS[@]}"; do
    pid=${entry%%:*} ticks=${entry#*:}
    if ! alive "$pid" || [[ "$(start_ticks "$pid" || true)" != "$ticks" ]]; then continue; fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done   # 10 s at most
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
}

# Waits (bounded) until a linearizable read of a key the preload wrote is
# answered; user0/key0 exists whatever the case.
wait_first_get() {
  local deadline=$((SECONDS + READY_TIMEOUT_S)) polls=0
  until "$MQ" get --endpoints "$ENDPOINTS" --timeout 500ms user0 key0 >/dev/null 2>&1; do
    polls=$((polls + 1))
    ((SECONDS < deadline && polls < READY_TIMEOUT_S * 20)) ||
      die "no answer to get user0 key0 ${READY_TIMEOUT_S}s after the restart"
    sleep 0.05
  done
}

# Clients of a preload: `mq bench --preload` sends batches of 100 sets, one
# per client in flight. 64 clients of 4 KiB values is 26 MB in flight, which
# on a small busy machine starves the Raft heartbeats: leaders are lost and
# writes fail with no_leader. So the bytes in flight are held near 4 MiB
# (64 clients for small values, 10 for 4 KiB ones); that changes the load's
# speed, not what is stored.
preload_clients() {
  local clients=$((4 * 1048576 / (100 * $1)))
  ((clients <= 64)) || clients=64
  ((clients >= 1)) || clients=1
  echo "$clients"
}

# One preload pass: writes every key of the case once. Sets PASS_ERRORS
# (writes that failed or whose outcome is unknown).
PASS_ERRORS=0
preload_pass() {
  local keys=$1 bytes=$2 label=$3 out=$WORK_DIR/preload.json
  note "$label: writing $keys keys of $bytes bytes"
  "$MQ" bench --endpoints "$ENDPOINTS" --workload get --preload --keys "$keys" --users "$USERS" \
    --value-bytes "$bytes" --pipeline 64 --clients "$(preload_clients "$bytes")" --timeout 30s \
    --duration 1s --warmup 0s -o json \
    >"$out" 2>"$WORK_DIR/preload.err" || { tail -5 "$WORK_DIR/preload.err" >&2; die "$label: mq bench failed"; }
  PASS_ERRORS=$(python3 -c 'import json,sys
p=json.load(open(sys.argv[1])).get("preload", {})
print(p.get("errors", -1))' "$out")
  ((PASS_ERRORS == 0)) || note "$label: $PASS_ERRORS of $keys writes failed or timed out"
}

# Loads every key: preload passes until the cluster holds all of them (at
# most LOAD_PASSES_MAX; a pass writes every key, so a key written in an
# earlier pass is overwritten, which the report shows as LOAD PASSES > 1).
# A part-loaded store would make every number below wrong: that is fatal.
# Sets LOAD_PASSES and LOAD_ERRORS (summed over the passes).
LOAD_PASSES_MAX=3
LOAD_PASSES=0
LOAD_ERRORS=0
load_keys() {
  local keys=$1 bytes=$2 label=$3 held
  LOAD_ERRORS=0
  for ((LOAD_PASSES = 1; LOAD_PASSES <= LOAD_PASSES_MAX; LOAD_PASSES++)); do
    preload_pass "$keys" "$bytes" "$label"
    LOAD_ERRORS=$((LOAD_ERRORS + PASS_ERRORS))
    held=$(keys_held)
    [[ "$held" != "$keys" ]] || return 0
    note "$label: the cluster holds $held of $keys keys"
  done
  die "$label: $keys keys not all written after $LOAD_PASSES_MAX passes; a busy machine? try fewer keys"
}

# Keys the cluster holds: per shard, the largest count any node reports
# (a follower may be an entry or two behind; keys are only added here).
keys_held() {
  local i files=()
  for i in $(seq 1 "$NODES"); do
    files+=("$WORK_DIR/status-n$i.json")
    "$MQ" status --endpoints "127.0.0.1:$((BASE_PORT + i - 1))" --timeout 10s -o json \
      >"${files[-1]}" 2>"$WORK_DIR/status.err" || : >"${files[-1]}"
  done
  python3 -c 'import json,sys
best = {}
for f in sys.argv[1:]:
    try:
        shards = json.load(open(f))["shards"]
    except Exception:
        continue
    for s in shards:
        best[s["id"]] = max(best.get(s["id"], 0), s.get("keys", 0))
print(sum(best.values()) if best else "?")' "${files[@]}"
}

# --- redis -------------------------------------------------------------------

REDIS_ARGS=(--port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$WORK_DIR")
# Redis 7 refuses DEBUG unless enabled; older versions do not know the option.
redis_major=$(redis-server --version | grep -o 'v=[0-9]*' | cut -d= -f2)
((${redis_major:-0} >= 7)) && REDIS_ARGS+=(--enable-debug-command local)
REDIS_PID=""

redis_cli() { timeout 300 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# Starts redis-server and waits (bounded) until it answers, and checks that
# the server answering is ours, not another one on the same port.
redis_start() {
  start redis redis-server "${REDIS_ARGS[@]}"
  REDIS_PID=${PIDS[-1]}
  local deadline=$((SECONDS + READY_TIMEOUT_S)) polls=0
  until [[ "$(redis_cli INFO server 2>/dev/null | tr -d '\r' | awk -F: '/^process_id:/ {print $2}')" == "$REDIS_PID" ]]; do
    polls=$((polls + 1))
    if ! alive "$REDIS_PID" || ((SECONDS >= deadline || polls > READY_TIMEOUT_S * 20)); then
      tail -5 "$WORK_DIR/redis.log" >&2
      die "redis-server did not answer on 127.0.0.1:$REDIS_PORT"
    fi
    sleep 0.05
  done
}

# --- one case ------------------------------------------------------------------

ROWS=$WORK_DIR/rows.tsv   # case keys bytes phase mq_kib(,..) mq_idle_kib(,..) redis_kib redis_idle_kib
DISK=$WORK_DIR/disk.tsv   # case keys bytes node dir_bytes wal_bytes snap_bytes
UPS=$WORK_DIR/ups.tsv     # case startup_ms keys_held load_passes load_errors overwrite_errors clients
: >"$ROWS"; : >"$DISK"; : >"$UPS"

run_case() {
  local name=$1 keys=${1%x*} bytes=${1#*x}
  MQ_HOME=$WORK_DIR/mq-$name
  CLUSTER_DIR=$MQ_HOME/clusters/local
  NODE_PIDS=()
  mkdir -p "$MQ_HOME"

  # redis first, so its numbers are there as the yardstick of mq's phases.
  note "$name: redis"
  redis_start
  local redis_idle redis_loaded
  settle "$REDIS_PID"
  redis_idle=$SETTLED
  redis_cli DEBUG POPULATE "$keys" key "$bytes" >/dev/null || die "$name: redis DEBUG POPULATE failed"
  local dbsize
  dbsize=$(redis_cli DBSIZE | tr -d '\r')
  [[ "$dbsize" == "$keys" ]] || die "$name: redis holds $dbsize keys, not $keys"
  settle "$REDIS_PID"
  redis_loaded=$SETTLED
  stop_all
  REDIS_PID=""

  note "$name: mq cluster of $NODES nodes"
  cluster_up
  local -a pids
  mapfile -t pids < <(cluster_pids)
  ((${#pids[@]} == NODES)) || die "$name: $CLUSTER_DIR/cluster.json lists ${#pids[@]} nodes, not $NODES"
  local idle
  settle "${pids[@]}"
  idle=$SETTLED
  printf '%s\t%s\t%s\tidle\t%s\t%s\t%s\t%s\n' "$name" "$keys" "$bytes" "$idle" "$idle" \
    "$redis_idle" "$redis_idle" >>"$ROWS"

  load_keys "$keys" "$bytes" "$name: load"
  settle "${pids[@]}"
  printf '%s\t%s\t%s\tloaded\t%s\t%s\t%s\t%s\n' "$name" "$keys" "$bytes" \
    "$SETTLED" "$idle" "$redis_loaded" "$redis_idle" >>"$ROWS"

  # One pass, whatever failed in it: every further pass would grow what an
  # overwrite leaves behind. Its failed writes are reported.
  preload_pass "$keys" "$bytes" "$name: overwrite"
  local overwrite_errors=$PASS_ERRORS
  settle "${pids[@]}"
  printf '%s\t%s\t%s\toverwritten\t%s\t%s\t%s\t%s\n' "$name" "$keys" "$bytes" \
    "$SETTLED" "$idle" "$redis_loaded" "$redis_idle" >>"$ROWS"

  note "$name: restart"
  cluster_stop
  local t0 t1
  t0=$(date +%s%N)
  cluster_up
  wait_first_get
  t1=$(date +%s%N)
  mapfile -t pids < <(cluster_pids)
  ((${#pids[@]} == NODES)) || die "$name: $CLUSTER_DIR/cluster.json lists ${#pids[@]} nodes, not $NODES"
  settle "${pids[@]}"
  printf '%s\t%s\t%s\trestarted\t%s\t%s\t%s\t%s\n' "$name" "$keys" "$bytes" \
    "$SETTLED" "$idle" "$redis_loaded" "$redis_idle" >>"$ROWS"
  local held
  held=$(keys_held)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(((t1 - t0) / 1000000))" "$held" "$LOAD_PASSES" \
    "$LOAD_ERRORS" "$overwrite_errors" "$(preload_clients "$bytes")" >>"$UPS"

  # Apparent sizes (du -b): preallocated WAL segments count in full.
  local pid ticks dir node=0
  while read -r pid ticks dir; do
    node=$((node + 1))
    printf '%s\t%s\t%s\tn%s\t%s\t%s\t%s\n' "$name" "$keys" "$bytes" "$node" \
      "$(du -sb "$dir" | cut -f1)" "$(du -sb "$dir/wal" 2>/dev/null | cut -f1 || echo 0)" \
      "$(du -sb "$dir/snap" 2>/dev/null | cut -f1 || echo 0)" >>"$DISK"
  done < <(cluster_nodes)

  cluster_stop
  CLUSTER_DIR=""
  rm -rf "$MQ_HOME"   # free the disk before the next case
}

# Stop the cluster, then bench_lib's cleanup (redis by PID, WORK_DIR).
memory_cleanup() {
  cluster_stop || true
  cleanup
}
trap memory_cleanup EXIT

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
for c in $CASES; do run_case "$c"; done
LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# --- report ------------------------------------------------------------------

awk -F'\t' -v users="$USERS" -v nodes="$NODES" -v shards="$SHARDS" \
  -v redis_version="$(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)" \
  -v load_start="$LOAD_AT_START" -v load_end="$LOAD_AT_END" -v cores="$(nproc 2>/dev/null || echo '?')" \
  -v rows="$ROWS" -v disk="$DISK" -v ups="$UPS" '
# Digits written out in the decimal numbers 0 .. n-1: for each length d,
# the numbers of d digits below n, times d.
function digits_below(n,   d, lo, hi, total) {
  total = 0
  for (d = 1; ; d++) {
    lo = (d == 1) ? 0 : 10 ^ (d - 1); hi = 10 ^ d
    if (lo >= n) break
    total += (((n < hi) ? n : hi) - lo) * d
  }
  return total
}
# Mean key bytes of record k in [0, keys): "user" (k % users) + "key" k.
function mq_key_bytes(keys,   full, user_bytes) {
  full = int(keys / users)
  user_bytes = 4 * keys + full * digits_below(users) + digits_below(keys % users)
  return (user_bytes + 3 * keys + digits_below(keys)) / keys
}
# Mean key bytes of DEBUG POPULATE keys "key:" k.
function redis_key_bytes(keys) { return (4 * keys + digits_below(keys)) / keys }
function mib(kib) { return sprintf("%.1f", kib / 1024) }
function fmt_num(x, places) { return sprintf("%." places "f", x) }
BEGIN {
  printf "\nmemory per key: mq (%d nodes, %d shards, every node a replica of every shard) vs redis %s\n",
    nodes, shards, redis_version
  printf "mq keys over %d users; RSS is VmRSS after it settled; load average %s at start, %s at the end, on %s cores\n\n",
    users, load_start, load_end, cores
  f = "%-13s %-12s %10s %11s %9s %10s %11s %9s\n"
  printf f, "CASE", "PHASE", "MQ MAX MiB", "MQ MEAN MiB", "MQ B/KEY", "REDIS MiB", "REDIS B/KEY", "MQ/REDIS"
  while ((getline line < rows) > 0) {
    split(line, r, "\t")
    name = r[1]; keys = r[2]; bytes = r[3]; phase = r[4]
    n = split(r[5], cur, ","); split(r[6], idle, ",")
    max = 0; sum = 0; isum = 0
    for (i = 1; i <= n; i++) {
      if (cur[i] + 0 > max) max = cur[i] + 0
      sum += cur[i]; isum += idle[i]
    }
    mean = sum / n; imean = isum / n
    rk = r[7]; rik = r[8]
    if (phase == "idle") { mqb = "-"; rb = "-" } else {
      mqb = fmt_num((mean - imean) * 1024 / keys - (bytes + mq_key_bytes(keys)), 0)
      rb = fmt_num((rk - rik) * 1024 / keys - (bytes + redis_key_bytes(keys)), 0)
    }
    # redis has no overwritten or restarted phase: those rows compare with loaded.
    show_redis = (phase == "idle" || phase == "loaded")
    ratio = rk > 0 ? fmt_num(mean / rk, 2) : "-"
    printf f, name, phase, mib(max), mib(mean), mqb, show_redis ? mib(rk) : "(" mib(rk) ")",
      show_redis ? rb : "-", ratio
    result[++nres] = sprintf("RESULT memory case=%s keys=%d value_bytes=%d phase=%s mq_rss_max_mib=%s mq_rss_mean_mib=%s mq_idle_mean_mib=%s mq_bytes_per_key_over_payload=%s redis_rss_mib=%s redis_idle_mib=%s redis_bytes_per_key_over_payload=%s mq_over_redis_rss=%s",
      name, keys, bytes, phase, mib(max), mib(mean), mib(imean), mqb, mib(rk), mib(rik),
      show_redis ? rb : "-", ratio)
  }
  printf "\nMQ B/KEY, REDIS B/KEY: (RSS - idle RSS) / keys - (value + key bytes); mq key bytes are user id + key.\n"
  printf "MQ/REDIS: mean mq node RSS / redis RSS; overwritten and restarted rows use redis loaded (in parentheses).\n"

  printf "\nper case: start-up after the restart, and how the load went\n\n"
  h = "%-13s %12s %10s %12s %12s %17s %16s\n"
  printf h, "CASE", "START-UP MS", "KEYS HELD", "LOAD PASSES", "LOAD ERRORS", "OVERWRITE ERRORS", "PRELOAD CLIENTS"
  while ((getline line < ups) > 0) {
    split(line, u, "\t")
    printf h, u[1], u[2], u[3], u[4], u[5], u[6], u[7]
    result[++nres] = sprintf("RESULT case case=%s startup_ms=%s keys_held=%s load_passes=%s load_errors=%s overwrite_errors=%s preload_clients=%s",
      u[1], u[2], u[3], u[4], u[5], u[6], u[7])
  }
  printf "\nSTART-UP MS: from `mq cluster up` on the data dirs until `mq get user0 key0` was answered.\n"
  printf "LOAD PASSES > 1: writes failed (no leader on a busy machine) and every key was written again.\n"

  printf "\nafter the restart: data dir per node (du -b, apparent size) vs live data = keys * (value + key bytes)\n\n"
  g = "%-13s %-5s %13s %9s %9s %9s %9s\n"
  printf g, "CASE", "NODE", "DATA DIR MiB", "WAL MiB", "SNAP MiB", "LIVE MiB", "DIR/LIVE"
  while ((getline line < disk) > 0) {
    split(line, d, "\t")
    name = d[1]; keys = d[2]; bytes = d[3]
    live = keys * (bytes + mq_key_bytes(keys))
    printf g, name, d[4], mib(d[5] / 1024), mib(d[6] / 1024), mib(d[7] / 1024), mib(live / 1024),
      fmt_num(d[5] / live, 2)
    # %.0f, not %d: mawk clips %d at 2^31.
    result[++nres] = sprintf("RESULT disk case=%s keys=%d value_bytes=%d node=%s data_dir_bytes=%.0f wal_bytes=%.0f snap_bytes=%.0f live_bytes=%.0f dir_over_live=%s",
      name, keys, bytes, d[4], d[5], d[6], d[7], live, fmt_num(d[5] / live, 2))
  }
  printf "\n"
  for (i = 1; i <= nres; i++) print result[i]
}'

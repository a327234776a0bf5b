# Shared by the benchmark scripts (sourced, not run): processes started in
# the background and tracked by PID, stopped by PID on every exit path, and
# `mq bench` runs reduced to one line of numbers.
#
# The sourcing script sets MQ (the mq binary), WORK_DIR (a fresh directory,
# removed on exit), BENCH_NAME (for messages), READY_TIMEOUT_S, and for
# measure: CLIENTS, VALUE_BYTES, KEYS, DURATION, WARMUP.
PIDS=()

stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    # Bounded wait (5 s) for a clean stop, then SIGKILL.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

cleanup() {
  if ((${#PIDS[@]})); then stop_pids "${PIDS[@]}"; fi
  PIDS=()
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a background process logging to $WORK_DIR/<name>.log; records its PID.
start() {
  local name=$1
  shift
  "$@" >"$WORK_DIR/$name.log" 2>&1 &
  PIDS+=("$!")
}

stop_all() {
  if ((${#PIDS[@]})); then stop_pids "${PIDS[@]}"; fi
  PIDS=()
}

# Waits until `mq bench` can run a short error-free burst against the target.
wait_ready() {
  local what=$1
  shift
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    local out
    out=$("$MQ" bench "$@" --clients 1 --connections 1 --duration 300ms --warmup 0 \
      --keys 100 --users 10 -o json 2>/dev/null || true)
    if [[ "$out" == *'"errors":0,'* && "$out" != *'"ops":0,'* ]]; then return 0; fi
    sleep 0.5
  done
  echo "$BENCH_NAME: $what did not become ready in ${READY_TIMEOUT_S}s; logs in $WORK_DIR" >&2
  for log in "$WORK_DIR"/*.log; do echo "--- $log" >&2; tail -5 "$log" >&2; done
  trap - EXIT
  stop_all
  exit 3
}

# Runs one measured workload; prints "ops_per_s p99_ms errors".
measure() {
  local label=$1
  shift
  echo "$BENCH_NAME: $label" >&2
  local out
  out=$("$MQ" bench "$@" --clients "$CLIENTS" --value-bytes "$VALUE_BYTES" --keys "$KEYS" \
    --duration "$DURATION" --warmup "$WARMUP" -o json 2>/dev/null || true)
  local ops p99 errors
  ops=$(grep -o '"ops_per_s":[-0-9.e+]*' <<<"$out" | head -1 | cut -d: -f2 || true)
  p99=$(grep -o '"p99":[-0-9.e+]*' <<<"$out" | head -1 | cut -d: -f2 || true)
  errors=$(grep -o '"errors":[0-9]*' <<<"$out" | head -1 | cut -d: -f2 || true)
  if [[ "${errors:-0}" != 0 ]]; then
    echo "$BENCH_NAME: $label: errors $(grep -o '"errors_by_kind":{[^}]*}' <<<"$out" | cut -d: -f2- || true)" >&2
  fi
  echo "${ops:-0} ${p99:-0} ${errors:-0}"
}


# Prints "cpu_seconds context_switches" summed over the given PIDs: user and
# system CPU from /proc/PID/stat, and the voluntary and involuntary context
# switches of every thread alive now (/proc/PID/task/*/status).
usage_of() {
  local pid cpu=0 ctx=0 hz
  hz=$(getconf CLK_TCK)
  for pid in "$@"; do
    local stat
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    # Fields after the command name (which may hold spaces): utime is the
    # 12th, stime the 13th.
    read -r -a f <<<"${stat##*) }"
    cpu=$((cpu + f[11] + f[12]))
    local n
    n=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }')
    ctx=$((ctx + n))
  done
  awk -v c="$cpu" -v hz="$hz" -v x="$ctx" 'BEGIN { printf "%.3f %d\n", c / hz, x }'
}

# Seconds in a duration as mq bench takes it ("10s", "500ms", "1m").
seconds_of() {
  case "$1" in
    *ms) awk -v v="${1%ms}" 'BEGIN { print v / 1000 }' ;;
    *s) echo "${1%s}" ;;
    *m) awk -v v="${1%m}" 'BEGIN { print v * 60 }' ;;
    *) echo "$1" ;;
  esac
}

# As measure, and also what the given server PIDs spent while it measured
# (after the warm-up): prints "ops_per_s p99_ms errors cpu_us_per_op
# context_switches_per_op", both summed over the PIDs. Each PID's own
# readings stay in $WORK_DIR/usage.before and usage.after, a line each in
# the order given.
measure_cost() {
  local label=$1 pids=$2
  shift 2
  local before="$WORK_DIR/usage.before" after="$WORK_DIR/usage.after"
  rm -f "$before" "$after"
  # shellcheck disable=SC2086
  (sleep "$(seconds_of "$WARMUP")"; for p in $pids; do usage_of "$p"; done >"$before"
   sleep "$(seconds_of "$DURATION")"; for p in $pids; do usage_of "$p"; done >"$after") &
  local sampler=$!
  local result
  result=$(measure "$label" "$@")
  wait "$sampler" 2>/dev/null || true
  if [[ -s "$before" && -s "$after" ]]; then
    paste -d' ' "$before" "$after" | awk -v r="$result" -v d="$(seconds_of "$DURATION")" '
      { cpu += $3 - $1; ctx += $4 - $2 }
      END {
        split(r, f, " "); n = f[1] * d
        printf "%s %.1f %.2f\n", r, (n > 0 ? cpu * 1e6 / n : 0), (n > 0 ? ctx / n : 0)
      }'
  else
    echo "$result 0 0"
  fi
}

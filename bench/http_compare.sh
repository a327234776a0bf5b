#!/usr/bin/env bash
# The HTTP face measured beside the gRPC one and beside etcd's JSON gateway,
# in one run on loopback, one target at a time:
#   mq gRPC   `mq bench` unary set and linearizable get against a 3-node cluster
#   mq REST   wrk (Debian package wrk) POST and GET on the same cluster's
#             --http-listen ports, its connections spread over the three nodes
#             as a load balancer would (a node forwards to the shard's leader)
#   etcd      wrk on etcd 3.4's gateway, /v3/kv/put and /v3/kv/range, 3 members
# and /metrics: the time of one scrape, and the REST write rate while every
# node is scraped once a second, against the same rate unscraped (measured
# before and after it; their mean is the baseline).
#
# Usage: bench/http_compare.sh [BUILD_DIR]        (default: build)
# Environment: DURATION (default 8s), WARMUP (2s, gRPC only), CLIENTS (64),
#   VALUE_BYTES (100), USERS (100) and KEYS_PER_USER (100): the key space,
#   BASE_PORT (17600), ETCD (path of etcd, default: etcd on PATH).
# Takes about 9 x DURATION plus start-up: under 2 minutes with the defaults.
set -euo pipefail

BUILD_DIR=${1:-build}
MQ="$BUILD_DIR/mq"
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-2s}
CLIENTS=${CLIENTS:-64}
VALUE_BYTES=${VALUE_BYTES:-100}
USERS=${USERS:-100}
KEYS_PER_USER=${KEYS_PER_USER:-100}
KEYS=$((USERS * KEYS_PER_USER))
BASE_PORT=${BASE_PORT:-17600}
ETCD=${ETCD:-$(command -v etcd || true)}
WRK=$(command -v wrk || true)
READY_TIMEOUT_S=30
SCRAPES=200
LUA="$(cd "$(dirname "$0")" && pwd)/http/workload.lua"

if [[ ! -x "$MQ" ]]; then
  echo "http_compare.sh: $MQ not found; build it first (cmake --build $BUILD_DIR --target mq)" >&2
  exit 2
fi
if [[ -z "$WRK" ]]; then
  echo "http_compare.sh: wrk not found; install it (apt-get install wrk)" >&2
  exit 2
fi
if [[ -z "$ETCD" || ! -x "$ETCD" ]]; then
  echo "http_compare.sh: etcd not found; install it (apt-get install etcd-server) or set ETCD" >&2
  exit 2
fi

WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mq-http-compare.XXXXXX")
BENCH_NAME=http_compare.sh
# shellcheck source=bench/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"

port() { echo $((BASE_PORT + $1)); }

# Runs wrk against every base URL at once, the connections split between
# them; prints "ops_per_s p99_ms errors" (p99: the worst of the wrk runs).
wrk_spread() {
  local api=$1 op=$2
  shift 2
  local urls=("$@") n=$# i outs=()
  echo "http_compare.sh: $api $op over $n endpoint(s)" >&2
  for i in "${!urls[@]}"; do
    local conns=$((CLIENTS / n + (i < CLIENTS % n ? 1 : 0)))
    API=$api OP=$op PART=$i PARTS=$n USERS=$USERS KEYS_PER_USER=$KEYS_PER_USER VALUE_BYTES=$VALUE_BYTES \
      "$WRK" -t1 -c"$conns" -d"$DURATION" -s "$LUA" "${urls[$i]}" >"$WORK_DIR/wrk.$i.out" 2>&1 &
    outs+=("$!")
  done
  for i in "${outs[@]}"; do wait "$i" || true; done
  cat "$WORK_DIR"/wrk.*.out | awk '
    /^RESULT/ { req += $2; if ($3 > dur) dur = $3; if ($5 > p99) p99 = $5; err += $6 }
    END { printf "%.0f %.2f %d\n", (dur > 0 ? req / (dur / 1e6) : 0), p99, err }'
  rm -f "$WORK_DIR"/wrk.*.out
}

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# --- mq: a 3-node cluster with HTTP ----------------------------------------
PEERS=""
MQ_EPS=""
MQ_URLS=()
for i in 1 2 3; do
  PEERS+="${PEERS:+,}n$i=127.0.0.1:$(port $((10 + i)))"
  MQ_EPS+="${MQ_EPS:+,}127.0.0.1:$(port $((10 + i)))"
  MQ_URLS+=("http://127.0.0.1:$(port $((40 + i)))")
done
for i in 1 2 3; do
  start "mq-n$i" "$MQ" node --id "n$i" --listen "127.0.0.1:$(port $((10 + i)))" \
    --http-listen "127.0.0.1:$(port $((40 + i)))" --data-dir "$WORK_DIR/mq/n$i" \
    --peers "$PEERS" --initial-cluster-state new
done
wait_ready "the mq cluster" --endpoints "$MQ_EPS"
read -r GRPC_SET GRPC_SET_P99 GRPC_SET_ERR < <(measure "mq gRPC: set" --endpoints "$MQ_EPS")
read -r GRPC_GET GRPC_GET_P99 GRPC_GET_ERR < <(measure "mq gRPC: get" --endpoints "$MQ_EPS" \
  --workload get --preload)
read -r REST_SET REST_SET_P99 REST_SET_ERR < <(wrk_spread mq set "${MQ_URLS[@]}")
# The writes walked the whole key space: every GET finds its key.
read -r REST_GET REST_GET_P99 REST_GET_ERR < <(wrk_spread mq get "${MQ_URLS[@]}")

# One scrape's time, as curl sees it (connection included), median of many.
SCRAPE_MS=$(for _ in $(seq "$SCRAPES"); do
  curl -s -o /dev/null -w '%{time_total}\n' "${MQ_URLS[0]}/metrics"
done | sort -n | awk '{ t[NR] = $1 } END { printf "%.3f", t[int((NR + 1) / 2)] * 1000 }')
SCRAPE_BYTES=$(curl -s "${MQ_URLS[0]}/metrics" | wc -c)

# Writes with every node scraped once a second, between two runs without.
read -r BASE_A _ _ < <(wrk_spread mq set "${MQ_URLS[@]}")
(
  end=$((SECONDS + ${DURATION%s} + 1))
  while ((SECONDS < end)); do
    for u in "${MQ_URLS[@]}"; do curl -s -o /dev/null -m 1 "$u/metrics" || true; done
    sleep 1
  done
) &
SCRAPER=$!
read -r SCRAPED _ _ < <(wrk_spread mq set "${MQ_URLS[@]}")
wait "$SCRAPER" || true
read -r BASE_B _ _ < <(wrk_spread mq set "${MQ_URLS[@]}")
stop_all

# --- etcd: 3 members, its JSON gateway ---------------------------------------
CLUSTER=""
ETCD_EPS=""
ETCD_URLS=()
for i in 1 2 3; do
  CLUSTER+="${CLUSTER:+,}e$i=http://127.0.0.1:$(port $((30 + i)))"
  ETCD_EPS+="${ETCD_EPS:+,}127.0.0.1:$(port $((20 + i)))"
  ETCD_URLS+=("http://127.0.0.1:$(port $((20 + i)))")
done
for i in 1 2 3; do
  start "etcd-e$i" "$ETCD" --name "e$i" --data-dir "$WORK_DIR/etcd/e$i" \
    --listen-client-urls "http://127.0.0.1:$(port $((20 + i)))" \
    --advertise-client-urls "http://127.0.0.1:$(port $((20 + i)))" \
    --listen-peer-urls "http://127.0.0.1:$(port $((30 + i)))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$(port $((30 + i)))" \
    --initial-cluster "$CLUSTER" --initial-cluster-state new \
    --initial-cluster-token mq-http-compare --logger zap --log-level warn
done
wait_ready "the etcd cluster" --target etcd --endpoints "$ETCD_EPS"
read -r ETCD_PUT ETCD_PUT_P99 ETCD_PUT_ERR < <(wrk_spread etcd set "${ETCD_URLS[@]}")
read -r ETCD_RANGE ETCD_RANGE_P99 ETCD_RANGE_ERR < <(wrk_spread etcd get "${ETCD_URLS[@]}")
stop_all

# --- report ----------------------------------------------------------------
LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
awk -v load_start="$LOAD_AT_START" -v load_end="$LOAD_AT_END" -v cores="$(nproc)" \
  -v clients="$CLIENTS" -v bytes="$VALUE_BYTES" \
  -v gs="$GRPC_SET" -v gsp="$GRPC_SET_P99" -v gse="$GRPC_SET_ERR" \
  -v gg="$GRPC_GET" -v ggp="$GRPC_GET_P99" -v gge="$GRPC_GET_ERR" \
  -v rs="$REST_SET" -v rsp="$REST_SET_P99" -v rse="$REST_SET_ERR" \
  -v rg="$REST_GET" -v rgp="$REST_GET_P99" -v rge="$REST_GET_ERR" \
  -v es="$ETCD_PUT" -v esp="$ETCD_PUT_P99" -v ese="$ETCD_PUT_ERR" \
  -v eg="$ETCD_RANGE" -v egp="$ETCD_RANGE_P99" -v ege="$ETCD_RANGE_ERR" \
  -v scrape_ms="$SCRAPE_MS" -v scrape_bytes="$SCRAPE_BYTES" \
  -v base_a="$BASE_A" -v scraped="$SCRAPED" -v base_b="$BASE_B" '
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
function verdict(ok) { return ok ? "met" : "MISSED" }
BEGIN {
  printf "\nmq REST vs mq gRPC vs etcd 3.4 JSON gateway (3 nodes each): %d connections, %d-byte values\n\n",
    clients, bytes
  printf "load average (1/5/15 min) %s at start, %s at the end, on %s cores\n\n", load_start,
    load_end, cores
  fmt = "%-20s %12s %8s %12s %8s %12s %8s %10s %10s\n"
  printf fmt, "WORKLOAD", "gRPC OPS/S", "P99 MS", "REST OPS/S", "P99 MS", "ETCD OPS/S", "P99 MS",
    "REST/gRPC", "REST/ETCD"
  printf fmt, "set", sprintf("%.0f", gs), sprintf("%.2f", gsp), sprintf("%.0f", rs),
    sprintf("%.2f", rsp), sprintf("%.0f", es), sprintf("%.2f", esp), ratio(rs, gs), ratio(rs, es)
  printf fmt, "get (linearizable)", sprintf("%.0f", gg), sprintf("%.2f", ggp), sprintf("%.0f", rg),
    sprintf("%.2f", rgp), sprintf("%.0f", eg), sprintf("%.2f", egp), ratio(rg, gg), ratio(rg, eg)
  printf "\nerrors: gRPC %d/%d, REST %d/%d, etcd %d/%d (set/get)\n", gse, gge, rse, rge, ese, ege
  base = (base_a + base_b) / 2
  drop = base > 0 ? (1 - scraped / base) * 100 : 0
  printf "\n/metrics: one scrape %.2f ms median (%d bytes); REST writes %.0f/s scraped every second vs %.0f/s and %.0f/s without: %.1f%% lower\n",
    scrape_ms, scrape_bytes, scraped, base_a, base_b, drop
  printf "\ngoals:\n"
  printf "  REST set >= 0.8 x gRPC set      %s (%.3f)\n", verdict(gs > 0 && rs / gs >= 0.8), (gs > 0 ? rs / gs : 0)
  printf "  REST set >= 1.5 x etcd put      %s (%s)\n", verdict(es > 0 && rs / es >= 1.5), ratio(rs, es)
  printf "  REST get >= 3 x etcd range      %s (%s)\n", verdict(eg > 0 && rg / eg >= 3), ratio(rg, eg)
  printf "  one scrape < 2 ms               %s (%.2f ms)\n", verdict(scrape_ms < 2), scrape_ms
  printf "  scraping costs <= 3%% of writes  %s (%.1f%%)\n", verdict(drop <= 3), drop
}'

#!/usr/bin/env bash
# A failover walk-through on a throw-away 3-node cluster: start it, write a
# key, kill the leader of the key's shard with SIGKILL, show the new
# leader, read the key back, restart the node, then run the measured demo
# (workload + fault + linearizability check). The cluster lives in a
# temporary directory on ports 7101-7103 and is torn down on exit.
set -euo pipefail
mq="${MQ:-$(dirname "$0")/../build/mq}"
dir="$(mktemp -d -t mq-failover.XXXXXX)"
c=(--dir "$dir")
trap '"$mq" cluster down --purge "${c[@]}" >/dev/null || true; rm -rf "$dir"' EXIT

"$mq" cluster up "${c[@]}" --base-port 7101
endpoints=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103

echo "--- write a key; user123 lives on shard 7"
"$mq" set --endpoints "$endpoints" user123 greeting "hello world"

echo "--- kill -9 the leader of shard 7"
killed=$("$mq" cluster kill leader --shard 7 -o json "${c[@]}" | sed 's/.*"node":"\([^"]*\)".*/\1/')
echo "killed $killed"
sleep 1
"$mq" cluster status "${c[@]}" | tail -n 1

echo "--- the acknowledged write survived"
"$mq" get --endpoints "$endpoints" user123 greeting; echo

echo "--- bring the node back (same port, same data)"
"$mq" cluster start "$killed" "${c[@]}"
"$mq" cluster status "${c[@]}" | tail -n 1

echo "--- measured: 16 clients, kill the leader of shard 0, heal, check the history"
"$mq" demo failover "${c[@]}" --fault kill-leader --duration 6s --check

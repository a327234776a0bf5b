#!/usr/bin/env bash
# A 5-node cluster with 32 shards, each replicated on 3 nodes, so a shard
# survives the loss of any one of its replicas and the cluster survives any
# two nodes down as long as no shard loses two of its three. Shows the
# health word going from healthy to degraded to unavailable and back, then
# attaches the REPL (the cluster keeps running after it; this script stops
# it on exit).
set -euo pipefail
mq="${MQ:-$(dirname "$0")/../build/mq}"
c=(--name five)
trap '"$mq" cluster down --purge "${c[@]}" >/dev/null || true' EXIT

"$mq" cluster up "${c[@]}" -n 5 --shards 32 --replication 3 --base-port 7201
endpoints=127.0.0.1:7201,127.0.0.1:7202,127.0.0.1:7203,127.0.0.1:7204,127.0.0.1:7205

"$mq" cluster stop n2 "${c[@]}"
"$mq" cluster status "${c[@]}" | tail -n 1   # degraded: n2 down
"$mq" cluster stop n3 "${c[@]}"
"$mq" cluster status "${c[@]}" | tail -n 1 || true  # unavailable: shards on n2 and n3 lose quorum
"$mq" cluster start n2 "${c[@]}"
"$mq" cluster start n3 "${c[@]}"
sleep 1  # the restarted nodes rejoin their shards
"$mq" cluster status "${c[@]}" | tail -n 1

"$mq" cluster partition n1,n2 n3,n4,n5 "${c[@]}"
sleep 1
"$mq" cluster status "${c[@]}" | tail -n 1
"$mq" cluster heal "${c[@]}"

echo "REPL on the 5 nodes; try: set user1 k v, status, \\cluster kill n4 --name five, quit" >&2
"$mq" repl --endpoints "$endpoints"

#!/usr/bin/env bash
# Starts one mq node on 127.0.0.1:7001 with its data in a temporary
# directory, attaches the REPL, and stops the node (by its PID) on exit.
set -euo pipefail
mq="$(dirname "$0")/../build/mq"
dir="$(mktemp -d -t mq-single.XXXXXX)"
"$mq" node --id n1 --listen 127.0.0.1:7001 --data-dir "$dir/n1" 2>"$dir/n1.log" &
node_pid=$!
trap 'kill -TERM "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do
  "$mq" status --endpoints 127.0.0.1:7001 --timeout 200ms >/dev/null 2>&1 && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$dir/n1.log" >&2; exit 1; }
  sleep 0.1
done
echo "node n1 up on 127.0.0.1:7001 (pid $node_pid, log $dir/n1.log)" >&2
"$mq" repl --endpoints 127.0.0.1:7001

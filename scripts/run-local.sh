#!/usr/bin/env bash
# `make run`: a local sync server (quire-server on 127.0.0.1:8787, data in its own data dir)
# and the desktop app pointed at it. On first run the app offers to create an account on
# that server. The server stops when the app quits.
set -euo pipefail
bin_dir="${1:?usage: run-local.sh TARGET/debug}"
listen="${QUIRE_RUN_LISTEN:-127.0.0.1:8787}"
url="http://$listen"

server_pid=""
if curl -fsS "$url/v1/health" >/dev/null 2>&1; then
  echo "run: a sync server already answers on $url; using it"
else
  "$bin_dir/quire-server" --listen "$listen" &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    curl -fsS "$url/v1/health" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "run: quire-server did not start" >&2; exit 1; }
    sleep 0.1
  done
  echo "run: local sync server on $url"
fi

QUIRE_SUGGESTED_SERVER="$url" "$bin_dir/quire-app"

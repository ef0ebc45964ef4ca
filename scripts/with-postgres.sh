#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on a free loopback port, and removes it
# afterwards. The command sees QUIRE_TEST_POSTGRES_URL, an admin URL tests use to create a
# fresh database each. PostgreSQL refuses to run as root, so the cluster is owned by and run
# as the `postgres` user (created by the Debian package).
#
#   scripts/with-postgres.sh cargo test -p quire-server
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bindir/initdb" ] || { echo "with-postgres: PostgreSQL is not installed (scripts/setup.sh test)" >&2; exit 1; }

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

cluster="$(mktemp -d "${TMPDIR:-/tmp}/quire-pg.XXXXXX")"
chown postgres: "$cluster"
chmod 700 "$cluster"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cleanup() {
  as_postgres "$bindir/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
trap cleanup EXIT

as_postgres "$bindir/initdb" -D "$cluster/data" -U postgres -A trust --no-sync >/dev/null
# fsync off: a test cluster need not survive a power cut, and it makes the suite faster.
# (make bench sets QUIRE_PG_FSYNC=on: its figures are for a durable database.)
as_postgres "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w -t 60 \
  -o "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c fsync=${QUIRE_PG_FSYNC:-off} -c max_connections=300" \
  start >/dev/null || { cat "$cluster/log" >&2; exit 1; }

export QUIRE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
set +e
"$@"
status=$?
set -e
exit "$status"

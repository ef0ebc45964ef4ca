#!/usr/bin/env bash
# Fuzzes a real quire-server against its own OpenAPI document (/v1/openapi.json) with
# schemathesis, every check on, for a bounded time on SQLite and then on PostgreSQL. Any
# failure (a 5xx, an answer the document does not list or describe, valid input refused,
# invalid input accepted, a 405 without Allow, ...) makes it exit non-zero.
#
#   scripts/schemathesis.sh [SERVER_BIN]    default: $CARGO_TARGET_DIR/debug/quire-server
#
#   QUIRE_SCHEMATHESIS_SECONDS   time budget per engine (default 40)
#   QUIRE_SCHEMATHESIS_SEED      run with the seed a run printed (default: a new one)
#   QUIRE_SCHEMATHESIS_EXTRA     more options for `schemathesis run`, e.g. "--report har"
#   QUIRE_SCHEMATHESIS_VENV      where scripts/setup.sh test installed it
#                                (default /var/tmp/quire-schemathesis)
#
# Each engine gets its own server on a free loopback port with a fresh database. Sign-up
# and login limits are raised for it (by flags, the defaults stay as they are): the fuzzer
# registers and logs in far more often from one address than any person would.
set -euo pipefail
cd "$(dirname "$0")/.."

# A throwaway PostgreSQL for the second run (scripts/with-postgres.sh exports its URL).
if [ -z "${QUIRE_TEST_POSTGRES_URL:-}" ]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

server_bin="${1:-${CARGO_TARGET_DIR:-/var/tmp/quire-target}/debug/quire-server}"
venv="${QUIRE_SCHEMATHESIS_VENV:-/var/tmp/quire-schemathesis}"
seconds="${QUIRE_SCHEMATHESIS_SECONDS:-40}"
st="$venv/bin/schemathesis"
# Hypothesis keeps caches (Unicode tables) in ./.hypothesis unless told: keep them out of the clone.
export HYPOTHESIS_STORAGE_DIRECTORY="$venv/hypothesis"

log() { printf 'schemathesis: %s\n' "$*"; }
fail() { printf 'schemathesis: %s\n' "$*" >&2; exit 1; }

[ -x "$server_bin" ] || fail "no server binary at $server_bin (cargo build -p quire-server)"
[ -x "$st" ] || fail "schemathesis is not installed in $venv (scripts/setup.sh test)"

work="$(mktemp -d "${TMPDIR:-/tmp}/quire-schemathesis.XXXXXX")"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

config=scripts/schemathesis.toml
# The account schemathesis signs in with, and the body that registers and logs it in; the
# note that exists, and the push that makes it: all from $config.
toml() { "$venv/bin/python" -c 'import json, sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
auth = c["auth"]["dynamic"]["openapi"]["bearer"]["payload"]
note = c["dictionaries"]["note-id"]["values"][0]
# The account is end to end: its note goes sealed (the server cannot tell made-up bytes).
op = {"op_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d11", "note_id": note, "kind": "create",
      "sealed": {"form": "snapshot", "data": "AQIDBAUGBwgJCgsMDQ4PEA=="},
      "device_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d12", "clock": 1}
# Registered with well-formed keys, which the server stores and cannot open.
keys = {"account_id": "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d13", "salt": "11" * 16,
        "kdf": {"memory_kib": 65536, "iterations": 3, "parallelism": 1},
        "wrapped_key": "22" * 73, "recovery_auth": "44" * 32, "recovery_wrapped_key": "33" * 73}
register = dict(auth, keys=keys)
print(json.dumps({"account": auth, "register": register, "push": {"ops": [op]}}[sys.argv[2]]))' "$config" "$1"; }
account="$(toml account)"
register="$(toml register)"
seed_push="$(toml push)"

# fuzz NAME DB_URL: one server on DB_URL, one schemathesis run against it.
fuzz() {
  local name="$1" db="$2" server_log="$work/$1-server.log" base="" status
  NO_COLOR=1 QUIRE_LOG=warn,quire_server=info "$server_bin" --listen 127.0.0.1:0 --db "$db" \
    --max-registrations-per-hour 1000000 \
    --max-failed-logins 1000000 --max-failed-logins-per-address 1000000 \
    --max-kdf-lookups 1000000 \
    >"$server_log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    base="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$server_log" | head -n 1 | cut -d' ' -f3 || true)"
    [ -n "$base" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$server_log" >&2; fail "$name: quire-server did not start"; }
    sleep 0.1
  done
  [ -n "$base" ] || { cat "$server_log" >&2; fail "$name: quire-server did not say where it listens"; }

  local token
  curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$register" "$base/v1/accounts" \
    || fail "$name: could not register the test account"
  # Schemathesis logs in by itself (and again after each 401); this checks it can, and
  # makes the note some of its reads will find.
  token="$(curl -fsS -H 'Content-Type: application/json' -d "$account" "$base/v1/sessions" \
    | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["token"])')" \
    || fail "$name: could not log in with the test account"
  curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d "$seed_push" "$base/v1/sync/push" | grep -q '"status":"applied"' \
    || fail "$name: could not push the seeded note"

  log "$name: $base, ${seconds}s, every check"
  local seed=()
  [ -n "${QUIRE_SCHEMATHESIS_SEED:-}" ] && seed=(--seed "$QUIRE_SCHEMATHESIS_SEED")
  local output="$work/$name-schemathesis.txt" attempt
  for attempt in 1 2 3; do
    set +e
    PYTHONPATH="$PWD/scripts/schemathesis-site${PYTHONPATH:+:$PYTHONPATH}" \
      "$st" --config-file "$config" run "$base/v1/openapi.json" \
      --checks all \
      --max-time "$seconds" \
      --workers 2 \
      --generation-database none \
      --no-color ${QUIRE_SCHEMATHESIS_EXTRA:-} \
      "${seed[@]}" 2>&1 | tee "$output"
    status=${PIPESTATUS[0]}
    set -e
    # A crash inside schemathesis' own generator (hypothesis' "Runtime Error", with no
    # failed check) is not a finding about the server: run again, up to three runs (about one
    # run in six hits one). A failed check never is retried.
    if [ "$status" -ne 0 ] && [ "$attempt" -lt 3 ] && ! grep -q 'FAILURES' "$output" \
      && grep -q 'Runtime Error' "$output"; then
      log "$name: schemathesis itself failed (Runtime Error, no failed check); once more"
      continue
    fi
    break
  done
  stop_server
  if [ "$status" -ne 0 ]; then
    echo "---- quire-server log ($name), last lines ----" >&2
    tail -n 40 "$server_log" >&2
    fail "$name: schemathesis found failures (exit $status)"
  fi
}

started=$SECONDS
fuzz sqlite "sqlite://$work/server.db"

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
"$pg_bin/psql" -q -v ON_ERROR_STOP=1 -d "$QUIRE_TEST_POSTGRES_URL" -c 'CREATE DATABASE quire_schemathesis'
fuzz postgres "${QUIRE_TEST_POSTGRES_URL%/*}/quire_schemathesis"

log "SQLite and PostgreSQL: no failures ($((SECONDS - started))s)"

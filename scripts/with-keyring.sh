#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring, so tests use
# the real Secret Service without touching the user's own keyring. The keyring's files live
# in a temp dir that is removed afterwards.
#
#   scripts/with-keyring.sh cargo test
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

if [ -z "${QUIRE_IN_KEYRING_SESSION:-}" ]; then
  keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/quire-keyring.XXXXXX")"
  trap 'rm -rf "$keyring_home"' EXIT
  QUIRE_IN_KEYRING_SESSION=1 KEYRING_HOME="$keyring_home" \
    dbus-run-session -- "$0" "$@"
  exit $?
fi

# Inside the session: start the daemon with the secrets component and unlock (creating) its
# login keyring with a throwaway password given on stdin.
export XDG_DATA_HOME="$KEYRING_HOME/data"
mkdir -p "$XDG_DATA_HOME"
eval "$(printf 'quire-test-keyring' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
exec "$@"

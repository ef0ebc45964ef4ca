#!/usr/bin/env bash
# Installs the .debs `make deb` built into this machine with apt, checks what they installed
# (versions, desktop entry, icons, dependencies, the server's user, data dir and unit, and
# that the installed binaries sync with each other), then purges them and checks that
# nothing they installed is left. Refuses to touch a machine where Quire is installed.
#
#   scripts/test-package.sh DEB_DIR
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${1:?usage: $0 DEB_DIR}"
fail() { echo "test-package: $*" >&2; exit 1; }
check() { printf 'test-package: ok: %s\n' "$*"; }

packages=(quire quire-cli quire-server)
for pkg in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    fail "$pkg is installed on this machine already; not replacing it"
  fi
done

version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
[ -n "$version" ] || fail "no workspace version in Cargo.toml"
app_deb="$(ls "$dir"/Quire_"$version"_*.deb)"
cli_deb="$(ls "$dir"/quire-cli_"$version"_*.deb)"
server_deb="$(ls "$dir"/quire-server_"$version"_*.deb)"

for deb in "$app_deb" "$cli_deb" "$server_deb"; do
  [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "$deb is not version $version"
done

work="$(mktemp -d "${TMPDIR:-/tmp}/quire-package.XXXXXX")"
server_pid=""
purge() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap purge EXIT

# The app's dependencies, as declared (the tray library is loaded at run time, so no
# tool would find it by itself).
depends="$(dpkg-deb -f "$app_deb" Depends)"
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libayatana-appindicator3-1 libssl3 xdg-utils; do
  grep -q "$dep" <<<"$depends" || fail "quire's Depends lacks $dep: $depends"
done
check "quire depends on $depends"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$app_deb" "$cli_deb" "$server_deb" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "apt-get install failed"; }
# Everything the packages installed, for the check after the purge.
dpkg -L "${packages[@]}" | while read -r path; do if [ -f "$path" ]; then echo "$path"; fi; done | sort >"$work/files"
check "installed $(wc -l <"$work/files") files from $(basename "$app_deb"), $(basename "$cli_deb"), $(basename "$server_deb")"

for bin in quire-app quire quire-server; do
  got="$("/usr/bin/$bin" --version)"
  [ "$got" = "$bin $version" ] || fail "$bin --version says '$got', expected '$bin $version'"
  check "$got"
done

desktop="$(dpkg -L quire | grep '^/usr/share/applications/.*\.desktop$')"
[ -n "$desktop" ] || fail "quire installs no desktop entry"
desktop-file-validate "$desktop" || fail "$desktop does not validate"
grep -q '^Exec=quire-app' "$desktop" || fail "$desktop does not start quire-app"
check "$desktop validates"
icon="$(sed -n 's/^Icon=//p' "$desktop")"
for size in 16 24 32 48 64 128 256 512; do
  png="/usr/share/icons/hicolor/${size}x${size}/apps/$icon.png"
  [ -f "$png" ] || fail "no ${size}x${size} icon at $png"
  file "$png" | grep -q "$size x $size" || fail "$png is not ${size}x${size}"
done
check "icons $icon.png in 8 sizes"

# The server: its own user, its data dir, a unit systemd accepts.
id quire-server >/dev/null || fail "no quire-server user"
[ "$(stat -c %U /var/lib/quire-server)" = quire-server ] || fail "/var/lib/quire-server is not quire-server's"
unit=/usr/lib/systemd/system/quire-server.service
[ -f "$unit" ] || fail "no $unit"
grep -q '^User=quire-server' "$unit" || fail "$unit does not run as quire-server"
systemd-analyze verify "$unit" 2>"$work/verify.log" || { cat "$work/verify.log" >&2; fail "$unit does not verify"; }
check "user quire-server, /var/lib/quire-server, $unit verifies"

# The installed server, run as the unit runs it (systemd is not PID 1 here), and the
# installed CLI syncing a note through it.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
runuser -u quire-server -- env QUIRE_SERVER_DB=sqlite:///var/lib/quire-server/server.db \
  /usr/bin/quire-server --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null || { cat "$work/server.log" >&2; fail "the installed server does not answer"; }
# File credentials: no keyring here (the CLI warns about it on every command; kept quiet).
export QUIRE_CREDENTIALS=file QUIRE_PASSWORD="package test password"
QUIRE_DATA_DIR="$work/a" quire account register --server "http://127.0.0.1:$port" --user packaged >/dev/null 2>&1
QUIRE_DATA_DIR="$work/b" quire account login --server "http://127.0.0.1:$port" --user packaged >/dev/null 2>&1
echo "from the installed CLI" | QUIRE_DATA_DIR="$work/a" quire note add --title "Packaged" >/dev/null 2>&1
QUIRE_DATA_DIR="$work/a" quire sync >/dev/null 2>&1
QUIRE_DATA_DIR="$work/b" quire sync >/dev/null 2>&1
QUIRE_DATA_DIR="$work/b" quire note list 2>/dev/null | grep -q Packaged || fail "the note did not reach the second device"
[ -s /var/lib/quire-server/server.db ] || fail "the server kept nothing in /var/lib/quire-server"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
check "the installed server, run as quire-server, syncs a note between two installed CLIs"

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >"$work/purge.log" 2>&1 \
  || { cat "$work/purge.log" >&2; fail "apt-get purge failed"; }
left="$(while read -r path; do if [ -e "$path" ]; then echo "$path"; fi; done <"$work/files")"
[ -z "$left" ] || fail "left behind after purge: $left"
[ ! -e /var/lib/quire-server ] || fail "/var/lib/quire-server is left after purge"
! id quire-server >/dev/null 2>&1 || fail "the quire-server user is left after purge"
check "purged: no file, data dir or user left"

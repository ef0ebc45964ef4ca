#!/usr/bin/env bash
# Installs what Quire needs to build, run and test, and nothing that is already there.
# Safe to run again and again: every step checks before it acts.
#
#   scripts/setup.sh run    what `make run` needs: build libraries, Rust components, npm packages
#   scripts/setup.sh test   all of the above, plus the e2e stack (Xvfb, D-Bus, WebKitWebDriver,
#                           tauri-driver) and the packaging tools (cargo-deb, desktop-file-utils)
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-test}"
case "$mode" in
  run | test) ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

log() { printf 'setup: %s\n' "$*"; }

# Debian packages. Tauri 2 on Linux builds against WebKitGTK 4.1 and shows its tray through
# libayatana-appindicator.
# libssl-dev: SQLCipher's crypto; libdbus-1-dev: the keyring crate's Secret Service client;
# curl: `make run` waits for its local sync server with it.
apt_packages=(
  build-essential pkg-config file
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
  libdbus-1-dev curl
)
if [ "$mode" = test ]; then
  # gnome-keyring: the real Secret Service the tests use (scripts/with-keyring.sh);
  # postgresql: the server's tests run on it too (scripts/with-postgres.sh);
  # imagemagick: `import` grabs screenshots of the app window from the X display;
  # dbus-bin: dbus-monitor, which the e2e tests read desktop notifications with.
  # desktop-file-utils: `make test-package` validates the app's desktop entry.
  # python3-dbus, python3-gi, python3-xlib: the e2e suite's stand-in tray host (a
  # StatusNotifierWatcher on the private bus) and its window-manager close request.
  apt_packages+=(xvfb xauth dbus dbus-bin dbus-x11 webkit2gtk-driver gnome-keyring postgresql imagemagick
    desktop-file-utils python3-dbus python3-gi python3-xlib)
  # python3-venv: schemathesis gets a venv (below); a Python of its own may already have it.
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_packages+=(python3 python3-venv)
  fi
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "setup: missing Debian packages and not root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Rust components used by `make test`.
if command -v rustup >/dev/null; then
  for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
      log "adding Rust component $component"
      rustup component add "$component"
    fi
  done
fi

# npm packages, exactly as locked. The stamp records which lock file node_modules matches.
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.quire-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
  printf '%s\n' "$lock_hash" > "$stamp"
fi

if [ "$mode" = test ] && ! command -v tauri-driver >/dev/null; then
  log "installing tauri-driver (cargo install)"
  # Its own target dir: the workspace's shared one is for Quire's crates.
  CARGO_TARGET_DIR="${TMPDIR:-/tmp}/quire-tauri-driver-build" cargo install tauri-driver --locked
fi

# schemathesis (PyPI), for scripts/schemathesis.sh: a venv outside the clone, like the
# shared target dir, holding exactly the pinned set. The stamp records which list it holds.
if [ "$mode" = test ]; then
  st_venv="${QUIRE_SCHEMATHESIS_VENV:-/var/tmp/quire-schemathesis}"
  st_hash="$(sha256sum scripts/schemathesis-requirements.txt | cut -d' ' -f1)"
  st_stamp="$st_venv/.quire-requirements-sha256"
  if [ ! -x "$st_venv/bin/schemathesis" ] || [ ! -f "$st_stamp" ] || [ "$(cat "$st_stamp")" != "$st_hash" ]; then
    log "installing schemathesis into $st_venv (pip)"
    [ -x "$st_venv/bin/python" ] || python3 -m venv "$st_venv"
    "$st_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r scripts/schemathesis-requirements.txt
    printf '%s\n' "$st_hash" > "$st_stamp"
  fi
fi

if [ "$mode" = test ] && ! command -v cargo-deb >/dev/null; then
  log "installing cargo-deb (cargo install)"
  CARGO_TARGET_DIR="${TMPDIR:-/tmp}/quire-cargo-deb-build" cargo install cargo-deb --locked
fi

# The shared target dir only grows: every build leaves incremental caches behind, and once
# the disk filled mid-build (a link failing with "No space left on device"). When less than
# 10 GiB is free, the incremental caches go (tens of GB after some weeks); builds then
# recompile Quire's own crates once, not their dependencies.
target_dir="${CARGO_TARGET_DIR:-/var/tmp/quire-target}"
# Each change to Quire's code links new test and bench binaries beside the old ones, which
# nothing runs again: 52 GB of them filled the disk once, and the server then failed its
# writes under load. All but the newest binary of each name go, every time.
if [ -d "$target_dir/debug/deps" ]; then
  find "$target_dir/debug/deps" -maxdepth 1 -type f -perm -u+x ! -name '*.*' -printf '%T@ %p\n' \
    | sed -E 's/^([0-9.]+) (.*)-([0-9a-f]{16})$/\2 \1 \2-\3/' \
    | sort -k1,1 -k2,2gr \
    | awk 'seen[$1]++ { print $3 }' \
    | xargs -r rm -f --
fi
if [ -d "$target_dir" ]; then
  free_kib="$(df -Pk "$target_dir" | awk 'NR == 2 { print $4 }')"
  if [ "${free_kib:-0}" -lt $((10 * 1024 * 1024)) ]; then
    log "less than 10 GiB free: removing the incremental caches in $target_dir"
    rm -rf "$target_dir"/debug/incremental "$target_dir"/release/incremental
  fi
fi

log "ready ($mode)"

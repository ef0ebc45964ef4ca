#!/usr/bin/env bash
# Runs the e2e suite against an already built quire-app inside its own D-Bus session (with an
# unlocked gnome-keyring for the app's database key) and a virtual X display, so it needs no
# desktop and leaves nothing running behind it.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${QUIRE_APP_BIN:?set QUIRE_APP_BIN to the built quire-app (make test does)}"
[ -x "$QUIRE_APP_BIN" ] || { echo "e2e: $QUIRE_APP_BIN is not an executable; build it first" >&2; exit 1; }
command -v tauri-driver >/dev/null || { echo "e2e: tauri-driver is missing; run scripts/setup.sh test" >&2; exit 1; }

rm -rf tests/e2e/artifacts
mkdir -p tests/e2e/artifacts
export QUIRE_LOG="${QUIRE_LOG:-info}"
# WebKitGTK in a VM without a GPU: software rendering, no DMA-BUF renderer.
export WEBKIT_DISABLE_DMABUF_RENDERER=1
export LIBGL_ALWAYS_SOFTWARE=1

exec scripts/with-keyring.sh \
  xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  npm run --silent test:e2e

#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and starts the register: installs the Debian packages, builds
# the UI and the app, and opens it with the demo catalog and simulated devices (unless configured
# otherwise, see README.md "Configuration").
#   PROFILE=debug bash scripts/run.sh   builds faster, runs slower
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PROFILE="${PROFILE:-release}"
bash scripts/install-deps.sh
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build --silent)
if [ "$PROFILE" = release ]; then cargo build --locked --release -p pos-app; else cargo build --locked -p pos-app; fi
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/pos-app"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No desktop session found: starting the register on a virtual display (xvfb-run)." >&2
  exec xvfb-run -a -s "-screen 0 1366x768x24" "$BIN"
fi
exec "$BIN"

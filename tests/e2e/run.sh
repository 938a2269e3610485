#!/usr/bin/env bash
# Builds the UI and the desktop app, installs tauri-driver, and runs the real-app end-to-end test
# under Xvfb. Screenshots go to docs/screenshots/ when SHOTS=1.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
TOOLS="$ROOT/.ci-cache/tools"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[ -d ui/node_modules ] || (cd ui && npm ci --no-audit --no-fund)
(cd ui && npm run build --silent)
cargo build --locked -p pos-app
if [ ! -x "$TOOLS/bin/tauri-driver" ]; then
  cargo install --locked tauri-driver --version 2.1.0 --root "$TOOLS"
fi
(cd tests/e2e && npm ci --no-audit --no-fund --silent)

export APP_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/pos-app"
export POS_DB_PATH="$WORK/e2e.db"
export POS_DEMO_PRODUCTS=300 POS_DEMO_COUNTRY=es POS_TERMINAL_ID=T01
if [ "${SHOTS:-}" = 1 ]; then export SHOTS_DIR="$ROOT/docs/screenshots"; fi

cat > "$WORK/inner.sh" <<INNER
#!/usr/bin/env bash
set -u
"$TOOLS/bin/tauri-driver" > "$WORK/tauri-driver.log" 2>&1 &
DRV=\$!
for i in \$(seq 100); do (echo > /dev/tcp/127.0.0.1/4444) 2>/dev/null && break; sleep 0.2; done
node "$ROOT/tests/e2e/e2e.mjs"
RC=\$?
kill \$DRV 2>/dev/null; wait \$DRV 2>/dev/null
[ \$RC = 0 ] || tail -50 "$WORK/tauri-driver.log"
exit \$RC
INNER
chmod +x "$WORK/inner.sh"
xvfb-run -a -s "-screen 0 1366x768x24" dbus-run-session -- "$WORK/inner.sh" 2>&1 | grep -vE "dbus-daemon|SpiRegistry|AT-SPI"
exit "${PIPESTATUS[0]}"

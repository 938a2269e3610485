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
# E2E_PROFILE=release measures the optimised app (CI uses the debug build it already has).
PROFILE="${E2E_PROFILE:-debug}"
PROFILE_FLAG=(); [ "$PROFILE" = release ] && PROFILE_FLAG=(--release)
cargo build --locked "${PROFILE_FLAG[@]}" -p pos-app
# The payment-terminal simulator (a separate program, as a real terminal is) and the decoder
# that turns what the app sent to the printer back into text.
cargo build --locked "${PROFILE_FLAG[@]}" -p pos-hardware --bin zvt-sim --bin escpos-decode
if [ ! -x "$TOOLS/bin/tauri-driver" ]; then
  cargo install --locked tauri-driver --version 2.1.0 --root "$TOOLS"
fi
(cd tests/e2e && npm ci --no-audit --no-fund --silent)

BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE"
export APP_BIN="$BIN_DIR/pos-app" ESCPOS_DECODE="$BIN_DIR/escpos-decode"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The receipt printer is a network printer on 127.0.0.1 that e2e.mjs runs (it keeps every byte);
# the card terminal is zvt-sim over TCP (no "magic cents": every amount is approved).
export PRINTER_PORT="$(free_port)" ZVT_PORT="$(free_port)"
export POS_DEVICES="{\"printer\":{\"connection\":{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":$PRINTER_PORT},\"retry_every_ms\":300}}"
export POS_PAYMENT_TERMINAL="tcp:127.0.0.1:$ZVT_PORT"
export ZVT_LOG="$WORK/zvt-sim.log"
"$BIN_DIR/zvt-sim" --listen "127.0.0.1:$ZVT_PORT" --no-magic-cents > "$ZVT_LOG" 2>&1 &
ZVT_PID=$!
trap 'kill $ZVT_PID 2>/dev/null; rm -rf "$WORK"' EXIT
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

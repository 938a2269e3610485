#!/usr/bin/env bash
# pos-sync against the real Vendure test shop: starts webshop/test-shop on 127.0.0.1 (SQLite),
# runs `cargo test -p pos-sync --features real-shop --test vendure` and `--test gift_cards`, then the register-level
# `cargo test -p pos-api --features real-shop --test shop_real` with the shop's URL and the
# terminal credential in the environment, and stops the shop by its PID at the end, even on
# failure. Needs Node 20 + npm (the test shop installs its npm packages on first use).
#   [PORT=3600] [N=120] bash tests/sync/run.sh   (without PORT: the first free port from 3600)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SHOP="$ROOT/webshop/test-shop"
command -v node >/dev/null || { echo "tests/sync/run.sh: node (Node 20) is required for the Vendure test shop" >&2; exit 1; }
# A port of our own: another run of this script (or of the plugin tests) may be using 36xx.
# The lock directory is taken atomically; the port (and the populate port PORT+100) must be free.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${PORT:-}" ]; then
  for p in $(seq 3600 3699); do
    if port_free "$p" && port_free $((p + 100)) && mkdir "/tmp/pos-sync-port-$p.lock" 2>/dev/null; then
      PORT=$p; LOCK="/tmp/pos-sync-port-$p.lock"; break
    fi
  done
  [ -n "${PORT:-}" ] || { echo "tests/sync/run.sh: no free port in 3600-3699" >&2; exit 1; }
fi
export PORT N=${N:-120} DB=sqlite
export RUN_DIR=${RUN_DIR:-$(mktemp -d /tmp/pos-sync-shop.XXXXXX)}
t0=$(date +%s)
cleanup() {
  PORT=$PORT RUN_DIR=$RUN_DIR bash "$SHOP/stop.sh" >/dev/null 2>&1 || true
  [ -n "${LOCK:-}" ] && rmdir "$LOCK" 2>/dev/null || true
}
trap cleanup EXIT
echo "### test shop on 127.0.0.1:$PORT, data in $RUN_DIR"
creds=$(bash "$SHOP/start.sh")
field() { node -e 'const j=JSON.parse(process.argv[1]); process.stdout.write(String(j[process.argv[2]]))' "$creds" "$1"; }
export SHOP_URL=$(field url) SHOP_IDENTIFIER=$(field identifier) SHOP_PASSWORD=$(field password)
export SHOP_PORT=$PORT SHOP_RUN_DIR=$RUN_DIR TEST_SHOP_DIR=$SHOP
echo "### shop up after $(( $(date +%s) - t0 )) s"
cd "$ROOT"
set +e
cargo test -p pos-sync --features real-shop --test vendure -- --test-threads=1 --nocapture 2>&1 | tee "$RUN_DIR/cargo-test.log"
rc=${PIPESTATUS[0]}
# Gift cards shared with the web shop: the register's redeem and a storefront's
# addPaymentToOrder for the same card at the same moment (its own SKUs TS-00060-S/M).
echo "### gift cards against the shop after $(( $(date +%s) - t0 )) s"
cargo test -p pos-sync --features real-shop --test gift_cards -- --test-threads=1 --nocapture 2>&1 | tee "$RUN_DIR/cargo-test-gift-cards.log"
rc_gift=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && rc=$rc_gift
# The register configured through its Api (Settings → Web shop), selling and handing over
# pickups against the same shop (its own SKUs).
echo "### register against the shop after $(( $(date +%s) - t0 )) s"
cargo test -p pos-api --features real-shop --test shop_real -- --test-threads=1 --nocapture 2>&1 | tee "$RUN_DIR/cargo-test-register.log"
rc_register=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && rc=$rc_register
# The register paying with a gift card kept by the shop (Settings → Web shop saved; TS-00055-S).
echo "### register gift cards against the shop after $(( $(date +%s) - t0 )) s"
cargo test -p pos-api --features real-shop --test gift_card_shop_real -- --test-threads=1 --nocapture 2>&1 | tee "$RUN_DIR/cargo-test-register-gift-cards.log"
rc_register_gift=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && rc=$rc_register_gift
# Returns across registers: T01's sale returned at T02, a web order returned at T02, both
# registers returning while the shop is down (stops and restarts the server), a gift card refunded
# across registers (TS-00056-S/M, TS-00058-M, TS-00059-M).
echo "### returns across registers against the shop after $(( $(date +%s) - t0 )) s"
cargo test -p pos-api --features real-shop --test remote_returns_real -- --test-threads=1 --nocapture 2>&1 | tee "$RUN_DIR/cargo-test-remote-returns.log"
rc_remote_returns=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && rc=$rc_remote_returns
set -e
echo "### sync tests took $(( $(date +%s) - t0 )) s in all"
grep -ho 'BENCH.*' "$RUN_DIR/cargo-test.log" "$RUN_DIR/cargo-test-gift-cards.log" "$RUN_DIR/cargo-test-register.log" "$RUN_DIR/cargo-test-register-gift-cards.log" || true
grep -hE '^test result:' "$RUN_DIR/cargo-test.log" | tail -1 || true
grep -hE '^test result:' "$RUN_DIR/cargo-test-gift-cards.log" | tail -1 || true
grep -hE '^test result:' "$RUN_DIR/cargo-test-register.log" | tail -1 || true
grep -hE '^test result:' "$RUN_DIR/cargo-test-register-gift-cards.log" | tail -1 || true
exit "$rc"
